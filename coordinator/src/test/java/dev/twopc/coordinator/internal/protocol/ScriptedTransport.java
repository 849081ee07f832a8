package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.internal.model.Vote;
import dev.twopc.coordinator.internal.transport.BranchCall;
import dev.twopc.coordinator.internal.transport.CallFailed;
import dev.twopc.coordinator.internal.transport.OnePhaseCall;
import dev.twopc.coordinator.internal.transport.OnePhaseReply;
import dev.twopc.coordinator.internal.transport.ParticipantTransport;
import dev.twopc.coordinator.internal.transport.PrepareCall;
import dev.twopc.coordinator.internal.transport.VoteReply;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link ParticipantTransport} a test scripts: every call is kept, unanswered, until the test
 * answers it ({@link Call#vote}, {@link Call#ack}, {@link Call#fail}...), on the test's thread. No
 * network, no threads: what the engine does next happens inside the answer.
 */
final class ScriptedTransport implements ParticipantTransport {

  enum Kind {
    PREPARE,
    ONE_PHASE,
    ASK_ONE_PHASE,
    COMMIT,
    ROLLBACK
  }

  /** One call the engine made, and the future it waits on. */
  static final class Call {
    final Kind kind;
    final String txId;
    final String participant;
    final Object request;
    private final CompletableFuture<Object> reply = new CompletableFuture<>();

    Call(Kind kind, String txId, String participant, Object request) {
      this.kind = kind;
      this.txId = txId;
      this.participant = participant;
      this.request = request;
    }

    boolean answered() {
      return reply.isDone();
    }

    /** Answers a Prepare. */
    void vote(Vote vote, String reason) {
      require(Kind.PREPARE);
      reply.complete(new VoteReply(vote, reason));
    }

    void vote(Vote vote) {
      vote(vote, "");
    }

    /** Answers a one-phase commit or its question. */
    void decided(boolean committed, String reason) {
      if (kind != Kind.ONE_PHASE && kind != Kind.ASK_ONE_PHASE) {
        throw new IllegalStateException(kind + " is not a one-phase call");
      }
      reply.complete(new OnePhaseReply(committed, reason));
    }

    /** Acknowledges a phase-2 message. */
    void ack() {
      if (kind != Kind.COMMIT && kind != Kind.ROLLBACK) {
        throw new IllegalStateException(kind + " is not a phase-2 call");
      }
      reply.complete(null);
    }

    /** No reply: the call may have been applied (a status such as UNAVAILABLE). */
    void fail(String code) {
      reply.completeExceptionally(new CallFailed(code, "scripted", true));
    }

    private void require(Kind k) {
      if (kind != k) {
        throw new IllegalStateException("expected " + k + ", was " + kind);
      }
    }

    @SuppressWarnings("unchecked")
    <T> CompletableFuture<T> future() {
      return (CompletableFuture<T>) (CompletableFuture<?>) reply;
    }

    @Override
    public String toString() {
      return kind + " " + participant + " " + txId + (answered() ? " (answered)" : "");
    }
  }

  private final Set<String> known = new HashSet<>();
  private final List<Call> calls = new ArrayList<>();

  ScriptedTransport(String... participants) {
    known.addAll(List.of(participants));
  }

  void forget(String participant) {
    known.remove(participant);
  }

  /** Every call so far, in order. */
  List<Call> calls() {
    return List.copyOf(calls);
  }

  /** The calls not answered yet. */
  List<Call> pending() {
    return calls.stream().filter(c -> !c.answered()).toList();
  }

  /**
   * The one pending call of {@code kind} to {@code participant}; fails if there is not exactly one.
   */
  Call pending(Kind kind, String participant) {
    List<Call> found =
        pending().stream()
            .filter(c -> c.kind == kind && c.participant.equals(participant))
            .toList();
    if (found.size() != 1) {
      throw new AssertionError(
          "expected one pending " + kind + " to " + participant + ", found " + pending());
    }
    return found.get(0);
  }

  /** How many calls of {@code kind} went to {@code participant}. */
  long count(Kind kind, String participant) {
    return calls.stream().filter(c -> c.kind == kind && c.participant.equals(participant)).count();
  }

  @Override
  public boolean knows(String participant) {
    return known.contains(participant);
  }

  @Override
  public CompletableFuture<VoteReply> prepare(PrepareCall call) {
    return record(Kind.PREPARE, call.txId(), call.participant(), call);
  }

  @Override
  public CompletableFuture<OnePhaseReply> commitOnePhase(OnePhaseCall call) {
    return record(Kind.ONE_PHASE, call.txId(), call.participant(), call);
  }

  @Override
  public CompletableFuture<OnePhaseReply> askOnePhase(BranchCall call) {
    return record(Kind.ASK_ONE_PHASE, call.txId(), call.participant(), call);
  }

  @Override
  public CompletableFuture<Void> commit(BranchCall call) {
    return record(Kind.COMMIT, call.txId(), call.participant(), call);
  }

  @Override
  public CompletableFuture<Void> rollback(BranchCall call) {
    return record(Kind.ROLLBACK, call.txId(), call.participant(), call);
  }

  private <T> CompletableFuture<T> record(Kind kind, String txId, String participant, Object req) {
    if (!known.contains(participant)) {
      return CompletableFuture.failedFuture(CallFailed.notRegistered(participant));
    }
    Call c = new Call(kind, txId, participant, req);
    calls.add(c);
    return c.future();
  }
}
