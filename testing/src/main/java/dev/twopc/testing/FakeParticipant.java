package dev.twopc.testing;

import dev.twopc.proto.v1.BranchBatch;
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.BranchReply;
import dev.twopc.proto.v1.CallError;
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
import dev.twopc.proto.v1.ReplyBatch;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

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

  private final boolean streams;
  private final int port;
  private final AtomicInteger streamed = new AtomicInteger();
  private final List<AtomicBoolean> deafStreams = new CopyOnWriteArrayList<>();

  private FakeParticipant(String name, int port, boolean streams) throws IOException {
    this.name = name;
    this.streams = streams;
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
            .addService(new Service())
            .build()
            .start();
    this.port = server.getPort();
  }

  /** Serves Prepare, Commit and Rollback as unary calls and on the Exchange stream. */
  public static FakeParticipant start(String name) throws IOException {
    return new FakeParticipant(name, 0, true);
  }

  /**
   * Serves only the unary calls, as a participant written before the Exchange stream: Exchange is
   * UNIMPLEMENTED.
   */
  public static FakeParticipant startUnaryOnly(String name) throws IOException {
    return new FakeParticipant(name, 0, false);
  }

  /** Serves again on the same port (after {@link #close()}), keeping what it remembered. */
  public static FakeParticipant restartOn(FakeParticipant old) throws IOException {
    FakeParticipant p = new FakeParticipant(old.name, old.port(), old.streams);
    p.prepared.putAll(old.prepared);
    p.committed.addAll(old.committed);
    p.rolledBack.addAll(old.rolledBack);
    return p;
  }

  public String name() {
    return name;
  }

  /** The port it serves (or served, once closed). */
  public int port() {
    return port;
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

  /**
   * The Exchange streams open now take no more messages and answer nothing, as a connection that
   * silently stopped would; a stream opened after this works.
   */
  public void deafenStreams() {
    deafStreams.forEach(d -> d.set(true));
  }

  /** How many messages arrived on Exchange streams (the rest of {@link #messages} were unary). */
  public int streamed() {
    return streamed.get();
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

    /**
     * Each message of the stream runs as its unary call would (so every behaviour applies), and its
     * answer or failure goes back under its id.
     */
    @Override
    public StreamObserver<BranchBatch> exchange(StreamObserver<ReplyBatch> out) {
      if (!streams) {
        return super.exchange(out);
      }
      AtomicBoolean deaf = new AtomicBoolean();
      deafStreams.add(deaf);
      return new StreamObserver<>() {
        @Override
        public void onNext(BranchBatch batch) {
          if (deaf.get()) {
            return;
          }
          for (BranchMessage m : batch.getMessagesList()) {
            streamed.incrementAndGet();
            switch (m.getBodyCase()) {
              case PREPARE ->
                  prepare(m.getPrepare(), answer(m.getId(), out, BranchReply.Builder::setPrepare));
              case COMMIT ->
                  commit(m.getCommit(), answer(m.getId(), out, BranchReply.Builder::setCommit));
              case ROLLBACK ->
                  rollback(
                      m.getRollback(), answer(m.getId(), out, BranchReply.Builder::setRollback));
              default -> throw new AssertionError(name + ": an empty branch message");
            }
          }
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          synchronized (out) {
            out.onCompleted();
          }
        }
      };
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

  /** An observer of one unary-style answer that sends it, or its failure, as message {@code id}. */
  private static <T> StreamObserver<T> answer(
      long id, StreamObserver<ReplyBatch> out, BiConsumer<BranchReply.Builder, T> set) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        BranchReply.Builder r = BranchReply.newBuilder().setId(id);
        set.accept(r, value);
        send(r);
      }

      @Override
      public void onError(Throwable t) {
        Status s = Status.fromThrowable(t);
        send(
            BranchReply.newBuilder()
                .setId(id)
                .setError(
                    CallError.newBuilder()
                        .setCode(s.getCode().value())
                        .setDescription(s.getDescription() == null ? "" : s.getDescription())));
      }

      @Override
      public void onCompleted() {}

      private void send(BranchReply.Builder r) {
        synchronized (out) {
          try {
            out.onNext(ReplyBatch.newBuilder().addReplies(r).build());
          } catch (RuntimeException e) {
            // the stream is gone (cancelled by the coordinator): the answer has nowhere to go
          }
        }
      }
    };
  }

  @Override
  public void close() {
    Shutdown.now(server);
  }
}
