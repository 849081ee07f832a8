package dev.twopc.testing;

import dev.twopc.proto.v1.CommitBranchRequest;
import dev.twopc.proto.v1.CommitBranchResponse;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.ListPreparedResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.PrepareResponse;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.proto.v1.RollbackBranchResponse;
import dev.twopc.proto.v1.Vote;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted participant served over real gRPC on a loopback port. It behaves like a correct
 * participant (idempotent commit and rollback, late prepare after rollback votes NO, asks the
 * coordinator when in doubt) and records what happened, so tests can check atomicity.
 */
public final class FakeParticipant implements AutoCloseable {
  /** What Prepare does. */
  public enum Behaviour {
    YES,
    NO,
    READ_ONLY,
    HANG,
    ERROR,
    /** Holds the Prepare unanswered until {@link #releaseHeld}, which votes YES. */
    HOLD
  }

  private final String name;
  private final Server server;
  private volatile Behaviour behaviour = Behaviour.YES;
  private final AtomicInteger commitFailuresLeft = new AtomicInteger();
  private volatile boolean phase2Down;
  private volatile String noReason = "scripted no";
  private volatile String downReason;
  private final Map<String, byte[]> prepared = new ConcurrentHashMap<>();
  private final Set<String> committed = ConcurrentHashMap.newKeySet();
  private final Set<String> rolledBack = ConcurrentHashMap.newKeySet();
  private final List<String> messages = new CopyOnWriteArrayList<>();
  private final List<PrepareRequest> prepareRequests = new CopyOnWriteArrayList<>();
  private final Map<String, Outcome> onePhase = new ConcurrentHashMap<>();
  private final List<Runnable> held = new CopyOnWriteArrayList<>();

  private FakeParticipant(String name, int port) throws IOException {
    this.name = name;
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
            .addService(new Service())
            .build()
            .start();
  }

  public static FakeParticipant start(String name) throws IOException {
    return new FakeParticipant(name, 0);
  }

  /** Serves again on the same port (after {@link #close()}), keeping what it remembered. */
  public static FakeParticipant restartOn(FakeParticipant old) throws IOException {
    FakeParticipant p = new FakeParticipant(old.name, old.port());
    p.prepared.putAll(old.prepared);
    p.committed.addAll(old.committed);
    p.rolledBack.addAll(old.rolledBack);
    return p;
  }

  public String name() {
    return name;
  }

  public int port() {
    return server.getPort();
  }

  public String address() {
    return "127.0.0.1:" + port();
  }

  public void behave(Behaviour b) {
    this.behaviour = b;
  }

  public void failCommits(int times) {
    commitFailuresLeft.set(times);
  }

  /** While down, Commit and Rollback fail with UNAVAILABLE. */
  public void phase2Down(boolean down) {
    this.phase2Down = down;
  }

  /** The reason given with a NO vote (or a one-phase abort). */
  public void noReason(String reason) {
    this.noReason = reason;
  }

  /** The status description of a failed Commit or Rollback; null means "NAME is down". */
  public void downReason(String reason) {
    this.downReason = reason;
  }

  /** How many Prepares {@link Behaviour#HOLD} holds. */
  public int heldCount() {
    return held.size();
  }

  /** Answers every held Prepare YES, and stops holding. */
  public void releaseHeld() {
    behaviour = Behaviour.YES;
    List<Runnable> now = List.copyOf(held);
    held.removeAll(now);
    now.forEach(Runnable::run);
  }

  public Set<String> committed() {
    return committed;
  }

  public Set<String> rolledBack() {
    return rolledBack;
  }

  public Set<String> prepared() {
    return prepared.keySet();
  }

  public List<String> messages() {
    return messages;
  }

  /** Every Prepare received, as sent. */
  public List<PrepareRequest> prepareRequests() {
    return prepareRequests;
  }

  /** Registers with the coordinator at {@code target}. */
  public void register(String target) {
    ManagedChannel ch = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      CoordinatorGrpc.newBlockingStub(ch)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .registerParticipant(
              RegisterParticipantRequest.newBuilder().setName(name).setAddress(address()).build());
    } finally {
      ch.shutdownNow();
    }
  }

  /** Asks the coordinator about every prepared branch and applies definite answers. */
  public void resolveInDoubt(String target) {
    ManagedChannel ch = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      for (String txId : List.copyOf(prepared.keySet())) {
        Outcome o =
            CoordinatorGrpc.newBlockingStub(ch)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .getOutcome(
                    GetOutcomeRequest.newBuilder().setTxId(txId).setParticipant(name).build())
                .getOutcome();
        if (o == Outcome.OUTCOME_COMMITTED) {
          applyCommit(txId);
        } else if (o == Outcome.OUTCOME_ABORTED) {
          applyRollback(txId);
        }
      }
    } finally {
      ch.shutdownNow();
    }
  }

  private synchronized void applyCommit(String txId) {
    if (rolledBack.contains(txId)) {
      throw new AssertionError(name + ": commit of rolled-back " + txId);
    }
    if (prepared.remove(txId) != null || committed.contains(txId)) {
      committed.add(txId);
    }
  }

  private synchronized void applyRollback(String txId) {
    if (committed.contains(txId)) {
      throw new AssertionError(name + ": rollback of committed " + txId);
    }
    prepared.remove(txId);
    rolledBack.add(txId);
  }

  private final class Service extends ParticipantGrpc.ParticipantImplBase {
    @Override
    public void prepare(PrepareRequest req, StreamObserver<PrepareResponse> out) {
      messages.add("prepare " + req.getTxId());
      prepareRequests.add(req);
      Behaviour b = behaviour;
      if (b == Behaviour.HANG) {
        return; // never answers: the coordinator's deadline fires
      }
      if (b == Behaviour.HOLD) {
        held.add(
            () -> {
              synchronized (FakeParticipant.this) {
                prepared.put(req.getTxId(), req.getPayload().toByteArray());
              }
              out.onNext(PrepareResponse.newBuilder().setVote(Vote.VOTE_YES).build());
              out.onCompleted();
            });
        return;
      }
      if (b == Behaviour.ERROR) {
        out.onError(Status.INTERNAL.withDescription("scripted failure").asRuntimeException());
        return;
      }
      Vote vote;
      synchronized (FakeParticipant.this) {
        if (rolledBack.contains(req.getTxId())) {
          vote = Vote.VOTE_NO; // a late prepare after its rollback
        } else if (b == Behaviour.NO) {
          vote = Vote.VOTE_NO;
        } else if (b == Behaviour.READ_ONLY) {
          vote = Vote.VOTE_READ_ONLY;
        } else {
          prepared.put(req.getTxId(), req.getPayload().toByteArray());
          vote = Vote.VOTE_YES;
        }
      }
      out.onNext(
          PrepareResponse.newBuilder()
              .setVote(vote)
              .setReason(vote == Vote.VOTE_NO ? noReason : "")
              .build());
      out.onCompleted();
    }

    @Override
    public void commit(CommitBranchRequest req, StreamObserver<CommitBranchResponse> out) {
      messages.add((req.getOnePhase() ? "commit1p " : "commit ") + req.getTxId());
      if (phase2Down || commitFailuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        out.onError(
            Status.UNAVAILABLE
                .withDescription(downReason == null ? name + " is down" : downReason)
                .asRuntimeException());
        return;
      }
      Outcome outcome = Outcome.OUTCOME_COMMITTED;
      if (req.getOnePhase()) {
        outcome =
            onePhase.computeIfAbsent(
                req.getTxId(),
                id -> {
                  if (behaviour == Behaviour.NO) {
                    rolledBack.add(id);
                    return Outcome.OUTCOME_ABORTED;
                  }
                  committed.add(id);
                  return Outcome.OUTCOME_COMMITTED;
                });
      } else {
        applyCommit(req.getTxId());
      }
      out.onNext(
          CommitBranchResponse.newBuilder()
              .setOutcome(outcome)
              .setReason(outcome == Outcome.OUTCOME_ABORTED ? noReason : "")
              .build());
      out.onCompleted();
    }

    @Override
    public void rollback(RollbackBranchRequest req, StreamObserver<RollbackBranchResponse> out) {
      messages.add("rollback " + req.getTxId());
      if (phase2Down) {
        out.onError(
            Status.UNAVAILABLE
                .withDescription(downReason == null ? name + " is down" : downReason)
                .asRuntimeException());
        return;
      }
      applyRollback(req.getTxId());
      out.onNext(RollbackBranchResponse.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void listPrepared(ListPreparedRequest req, StreamObserver<ListPreparedResponse> out) {
      ListPreparedResponse.Builder r = ListPreparedResponse.newBuilder();
      prepared
          .keySet()
          .forEach(
              id -> r.addBranches(PreparedBranch.newBuilder().setTxId(id).setParticipant(name)));
      out.onNext(r.build());
      out.onCompleted();
    }
  }

  @Override
  public void close() {
    Shutdown.now(server);
  }
}
