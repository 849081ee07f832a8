package dev.twopc.bench.internal;

import com.google.protobuf.ByteString;
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.BranchReply;
import dev.twopc.proto.v1.CommitBranchRequest;
import dev.twopc.proto.v1.CommitBranchResponse;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.PrepareResponse;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.proto.v1.RollbackBranchResponse;
import dev.twopc.proto.v1.Vote;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The baseline: the participant calls of a two-phase commit made directly by the bench, with no
 * coordinator, no decision log and no transaction state beyond the call itself. Prepare goes to
 * every branch in parallel; once all voted YES, Commit goes to every branch in parallel (a NO or a
 * failure rolls back every branch instead, as the coordinator does). The participant does its full
 * prepare: lock, durable pending-map row, YES; then its full commit.
 *
 * <p>The messages travel as the coordinator sends them: on one Exchange stream per participant (by
 * default), or as unary calls.
 *
 * <p>The PrepareRequest is filled as the coordinator fills it for {@code Execute}: a fresh
 * transaction id, the participant's name, the payload, the prepare timeout, the coordinator address
 * (asked only if a branch stays in doubt), and {@code enlisted = false} (no staged work is
 * expected).
 */
public final class BaselineWorkload implements Workload {
  /** The coordinator's default prepare timeout, sent in every PrepareRequest as it does. */
  static final Duration PREPARE_TIMEOUT = Duration.ofSeconds(5);

  private final List<String> names;
  private final ParticipantGrpc.ParticipantStub[] stubs;
  private final ExchangeLink[] links; // null: unary calls
  private final ByteString payload;
  private final String coordinator;
  private final long deadlineNanos;
  private final String idPrefix;
  private final AtomicLong ids = new AtomicLong();

  /**
   * @param coordinator put in PrepareRequest.coordinator; a baseline transaction is unknown to it,
   *     so a branch left in doubt learns ABORTED (presumed abort) and rolls back
   * @param streams send on one Exchange stream per participant, as the coordinator does with {@code
   *     --participant-calls stream}; else one unary call per message
   */
  public BaselineWorkload(
      List<String> names,
      List<ManagedChannel> channels,
      ByteString payload,
      String coordinator,
      Duration rpcTimeout,
      boolean streams) {
    this.names = List.copyOf(names);
    this.stubs = new ParticipantGrpc.ParticipantStub[channels.size()];
    this.links = streams ? new ExchangeLink[channels.size()] : null;
    for (int i = 0; i < stubs.length; i++) {
      stubs[i] = ParticipantGrpc.newStub(channels.get(i));
      if (streams) {
        links[i] = new ExchangeLink(channels.get(i));
      }
    }
    this.payload = payload;
    this.coordinator = coordinator;
    this.deadlineNanos = rpcTimeout.toNanos();
    // Participants remember finished ids for a day and answer a repeated id from the record:
    // ids must be new in every run, or a second run against the same participants is free.
    byte[] r = new byte[5];
    new SecureRandom().nextBytes(r);
    StringBuilder p = new StringBuilder("bench-");
    for (byte x : r) {
      p.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    }
    this.idPrefix = p.append('-').toString();
  }

  @Override
  public String name() {
    return "baseline";
  }

  @Override
  public Slot newSlot() {
    return new BranchesSlot();
  }

  private final class BranchesSlot extends Slot {
    private final int n = stubs.length;
    private final PrepareRequest.Builder[] prepare = new PrepareRequest.Builder[n];
    private final CommitBranchRequest.Builder[] commit = new CommitBranchRequest.Builder[n];
    private final RollbackBranchRequest.Builder[] rollback = new RollbackBranchRequest.Builder[n];
    private final Voted[] voted = new Voted[n];
    private final Committed[] committed = new Committed[n];
    private final RolledBack[] rolledBack = new RolledBack[n];
    private final AtomicInteger remaining = new AtomicInteger();

    /** The first failed call's outcome, or -1. */
    private final AtomicInteger failure = new AtomicInteger(-1);

    private volatile boolean refused;
    private String txId;

    BranchesSlot() {
      com.google.protobuf.Duration timeout =
          com.google.protobuf.Duration.newBuilder().setSeconds(PREPARE_TIMEOUT.toSeconds()).build();
      for (int i = 0; i < n; i++) {
        prepare[i] =
            PrepareRequest.newBuilder()
                .setParticipant(names.get(i))
                .setPayload(payload)
                .setTimeout(timeout)
                .setCoordinator(coordinator)
                .setEnlisted(false);
        commit[i] = CommitBranchRequest.newBuilder().setParticipant(names.get(i));
        rollback[i] = RollbackBranchRequest.newBuilder().setParticipant(names.get(i));
        voted[i] = new Voted();
        committed[i] = new Committed();
        rolledBack[i] = new RolledBack();
      }
    }

    /**
     * Starts the next transaction. Each is started from the callback that ended the one before, so
     * its calls are made under the root context: under the callback's own, every call's context
     * would be a child of the last one's, a chain that grows without end (gRPC logs it as an error
     * past 1,000 links and measures slower).
     */
    @Override
    protected void fire() {
      Context.ROOT.run(this::prepareAll);
    }

    private void prepareAll() {
      txId = idPrefix + ids.incrementAndGet();
      failure.set(-1);
      refused = false;
      remaining.set(n);
      for (int i = 0; i < n; i++) {
        if (links != null) {
          links[i].send(
              BranchMessage.newBuilder().setPrepare(prepare[i].setTxId(txId)),
              voted[i],
              BranchReply::getPrepare);
        } else {
          stubs[i]
              .withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS)
              .prepare(prepare[i].setTxId(txId).build(), voted[i]);
        }
      }
    }

    private void fail(Throwable t) {
      failure.compareAndSet(-1, Outcome.error(t));
    }

    /** After the last vote: commit everywhere, or roll back everywhere. */
    private void allVoted() {
      Context.ROOT.run(this::endAll);
    }

    private void endAll() {
      remaining.set(n);
      if (failure.get() < 0 && !refused) {
        for (int i = 0; i < n; i++) {
          if (links != null) {
            links[i].send(
                BranchMessage.newBuilder().setCommit(commit[i].setTxId(txId)),
                committed[i],
                BranchReply::getCommit);
          } else {
            stubs[i]
                .withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS)
                .commit(commit[i].setTxId(txId).build(), committed[i]);
          }
        }
      } else {
        for (int i = 0; i < n; i++) {
          if (links != null) {
            links[i].send(
                BranchMessage.newBuilder().setRollback(rollback[i].setTxId(txId)),
                rolledBack[i],
                BranchReply::getRollback);
          } else {
            stubs[i]
                .withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS)
                .rollback(rollback[i].setTxId(txId).build(), rolledBack[i]);
          }
        }
      }
    }

    private void phaseTwoAcked(int outcome) {
      if (remaining.decrementAndGet() == 0) {
        int f = failure.get();
        done(f >= 0 ? f : outcome);
      }
    }

    private final class Voted implements StreamObserver<PrepareResponse> {
      @Override
      public void onNext(PrepareResponse r) {
        if (r.getVote() != Vote.VOTE_YES) {
          refused = true;
        }
      }

      @Override
      public void onError(Throwable t) {
        fail(t);
        onCompleted();
      }

      @Override
      public void onCompleted() {
        if (remaining.decrementAndGet() == 0) {
          allVoted();
        }
      }
    }

    private final class Committed implements StreamObserver<CommitBranchResponse> {
      @Override
      public void onNext(CommitBranchResponse r) {}

      @Override
      public void onError(Throwable t) {
        fail(t);
        phaseTwoAcked(Outcome.COMMITTED);
      }

      @Override
      public void onCompleted() {
        phaseTwoAcked(Outcome.COMMITTED);
      }
    }

    private final class RolledBack implements StreamObserver<RollbackBranchResponse> {
      @Override
      public void onNext(RollbackBranchResponse r) {}

      @Override
      public void onError(Throwable t) {
        fail(t);
        phaseTwoAcked(Outcome.ABORTED);
      }

      @Override
      public void onCompleted() {
        phaseTwoAcked(Outcome.ABORTED);
      }
    }
  }
}
