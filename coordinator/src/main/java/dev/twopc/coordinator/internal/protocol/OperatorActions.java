package dev.twopc.coordinator.internal.protocol;

import static dev.twopc.coordinator.internal.CoordinatorException.precondition;

import dev.twopc.coordinator.internal.CoordinatorException;
import dev.twopc.coordinator.internal.concurrent.Completions;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogWriter;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;

/**
 * What an operator may do to a live transaction: retry phase 2 now (or move a stuck undecided one
 * on), abort an undecided one, and commit one whose COMMIT write failed — only where every branch
 * voted YES or READ_ONLY, so atomicity holds (safety rule 2 keeps an earlier decision).
 */
final class OperatorActions {
  private final Registry registry;
  private final Decider decider;
  private final PhaseTwo phaseTwo;
  private final Liveness liveness;
  private final LogWriter decisionLog;
  private final Clock clock;

  OperatorActions(
      Registry registry,
      Decider decider,
      PhaseTwo phaseTwo,
      Liveness liveness,
      LogWriter decisionLog,
      Clock clock) {
    this.registry = registry;
    this.decider = decider;
    this.phaseTwo = phaseTwo;
    this.liveness = liveness;
    this.decisionLog = decisionLog;
    this.clock = clock;
  }

  /** Operator: retry phase 2 now. */
  String retryNow(String txId) {
    Tx tx = registry.require(txId);
    String stuck;
    synchronized (tx) {
      if (tx.decision != null) {
        stuck = null;
      } else {
        // Undecided: nothing to hurry unless nothing drives it (then the liveness repair).
        stuck = liveness.stuckReason(tx, clock.millis(), 0);
        if (stuck == null) {
          return "undecided ("
              + tx.state()
              + "): waiting for "
              + (tx.state() == TxState.ACTIVE
                  ? "its client's Commit or its deadline"
                  : "votes, its decision or its deadline")
              + "; nothing to retry";
        }
      }
    }
    if (stuck != null) {
      liveness.unstick(txId);
      return "undecided and stuck (" + stuck + "): moved on";
    }
    phaseTwo.retryNow(tx);
    return "retry phase 2 now";
  }

  /** Operator: decide ABORT for a live undecided transaction. False if already decided. */
  boolean operatorAbort(String txId, String reason) {
    Tx tx = registry.get(txId);
    return tx != null && decider.abort(tx, reason, "operator");
  }

  /**
   * Operator: decide COMMIT for a live transaction whose decision write failed; allowed only if
   * every branch voted YES or READ_ONLY. Answers the decision now in the log.
   */
  CompletableFuture<TxResult> operatorCommit(String txId) {
    Tx tx = registry.require(txId);
    synchronized (tx) {
      for (Branch b : tx.branches.values()) {
        if (b.vote != Vote.YES && b.vote != Vote.READ_ONLY) {
          throw precondition(
              "branch "
                  + b.participant
                  + " has not voted YES"
                  + (b.vote == null ? " (no vote)" : " (voted " + b.vote + ")")
                  + "; committing would break atomicity");
        }
      }
      if (tx.decision != null) {
        return tx.decided;
      }
      tx.moveTo(TxState.DECIDING);
      tx.decisionAttemptAt = clock.millis();
    }
    CompletableFuture<TxResult> result = new CompletableFuture<>();
    long now = clock.millis();
    Decided record = Decider.decisionRecord(tx, Decision.COMMIT, null, "operator", now);
    Completions.whenDone(
        decisionLog.decide(record),
        "operator's decision write",
        (r, e) -> {
          if (e != null) {
            result.completeExceptionally(CoordinatorException.logUnavailable(e));
            return;
          }
          Decision d = r.decision();
          String why = d == Decision.ABORT ? "aborted before the operator's commit" : null;
          decider.apply(tx, d, why, "operator", now);
          // not tx.decided: after a failed write the client was already told UNKNOWN
          result.complete(
              d == Decision.COMMIT ? TxResult.committed(tx.id) : TxResult.aborted(tx.id, why));
        });
    return result;
  }
}
