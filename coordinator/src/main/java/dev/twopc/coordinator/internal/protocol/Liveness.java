package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.protocol.TransactionEngine.Stuck;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The liveness invariant, checked here and enforced by {@code recovery.LivenessCheck}: every
 * transaction that is not final has a call in flight or a next attempt scheduled. Also the live
 * transactions' figures for the metrics' gauges.
 */
final class Liveness {
  private final Registry registry;
  private final Decider decider;
  private final OnePhase onePhase;
  private final PhaseTwo phaseTwo;
  private final Clock clock;
  private final long prepareTimeoutMillis;
  private final long callTimeoutMillis;
  private final long backoffCapMillis;
  private final long parkAfterMillis;

  Liveness(
      Registry registry,
      Decider decider,
      OnePhase onePhase,
      PhaseTwo phaseTwo,
      Clock clock,
      long prepareTimeoutMillis,
      long callTimeoutMillis,
      long backoffCapMillis,
      long parkAfterMillis) {
    this.registry = registry;
    this.decider = decider;
    this.onePhase = onePhase;
    this.phaseTwo = phaseTwo;
    this.clock = clock;
    this.prepareTimeoutMillis = prepareTimeoutMillis;
    this.callTimeoutMillis = callTimeoutMillis;
    this.backoffCapMillis = backoffCapMillis;
    this.parkAfterMillis = parkAfterMillis;
  }

  /** The live transactions as the metrics' gauges show them. */
  CoordinatorMetrics.Live figures() {
    long now = clock.millis();
    long park = parkAfterMillis;
    Map<String, Integer> byState = new TreeMap<>();
    int inDoubt = 0;
    int parked = 0;
    long oldest = Long.MAX_VALUE;
    for (Tx tx : registry.all()) {
      synchronized (tx) {
        byState.merge(tx.state().name(), 1, Integer::sum);
        boolean decided = tx.state() == TxState.COMMITTING || tx.state() == TxState.ABORTING;
        boolean late = tx.state().undecided() && tx.deadlineAt < now;
        if (decided || late) {
          inDoubt++;
          oldest = Math.min(oldest, tx.createdAt);
        }
        if (decided && tx.decidedAt != null && now - tx.decidedAt > park) {
          for (Branch b : tx.branches.values()) {
            parked += b.awaitingPhase2() ? 1 : 0;
          }
        }
      }
    }
    return new CoordinatorMetrics.Live(
        byState, inDoubt, inDoubt == 0 ? 0 : Math.max(0, now - oldest) / 1e3, parked);
  }

  /**
   * The liveness invariant, checked: every transaction that is not final has a call in flight or a
   * next attempt scheduled. Returns the live ones that have had neither for longer than {@code
   * graceMillis} past when their next step was due.
   */
  List<Stuck> stuck(long graceMillis) {
    long now = clock.millis();
    List<Stuck> out = new ArrayList<>();
    for (Tx tx : registry.all()) {
      synchronized (tx) {
        String why = stuckReason(tx, now, graceMillis);
        if (why != null) {
          long progress = tx.decisionAttemptAt;
          for (Branch b : tx.branches.values()) {
            progress = progress * 31 + b.attempts;
          }
          out.add(new Stuck(tx.id, tx.state(), why, progress));
        }
      }
    }
    return out;
  }

  /** Caller holds the tx monitor. */
  String stuckReason(Tx tx, long now, long grace) {
    if (tx.finishedAt != null) {
      return null; // its end record is being written; then it leaves
    }
    long callTimeout = callTimeoutMillis;
    long prepareTimeout = prepareTimeoutMillis;
    switch (tx.state()) {
      case ONE_PHASE -> {
        {
          Branch b = tx.branches.values().iterator().next();
          long last = b.lastAttemptAt == null ? tx.createdAt : b.lastAttemptAt;
          long due =
              Math.max(
                  last + Math.max(prepareTimeout, callTimeout),
                  b.nextAttemptAt == null ? 0 : b.nextAttemptAt);
          return now > due + grace
              ? "one-phase commit at " + b.participant + " with no call in flight or scheduled"
              : null;
        }
      }
      case ACTIVE, PREPARING -> {
        // the timeout aborts it at the deadline; prepares end within the prepare timeout
        return now > tx.deadlineAt + prepareTimeout + grace
            ? "not decided " + (now - tx.deadlineAt) + " ms past its deadline"
            : null;
      }
      case DECIDING -> {
        long due = tx.decisionAttemptAt + backoffCapMillis + callTimeout;
        return now > due + grace ? "decision write neither in flight nor scheduled" : null;
      }
      case COMMITTING, ABORTING -> {
        boolean waiting = false;
        for (Branch b : tx.branches.values()) {
          if (!b.awaitingPhase2()) {
            continue;
          }
          waiting = true;
          long due;
          if (b.inFlight) {
            due = (b.lastAttemptAt == null ? now : b.lastAttemptAt) + callTimeout;
          } else if (b.retry != null && !b.retry.isDone()) {
            continue;
          } else {
            due =
                b.nextAttemptAt != null
                    ? b.nextAttemptAt
                    : tx.decidedAt != null ? tx.decidedAt : tx.createdAt;
          }
          if (now > due + grace) {
            return "branch "
                + b.participant
                + " "
                + b.state()
                + " with no call in flight or"
                + " scheduled (attempts "
                + b.attempts
                + ", due "
                + (now - due)
                + " ms ago)";
          }
        }
        if (!waiting) {
          long since = tx.decidedAt == null ? tx.createdAt : tx.decidedAt;
          for (Branch b : tx.branches.values()) {
            if (b.acknowledgedAt != null) {
              since = Math.max(since, b.acknowledgedAt);
            }
          }
          return now > since + callTimeout + grace
              ? "every branch acknowledged, not finished"
              : null;
        }
        return null;
      }
      default -> {
        return null;
      }
    }
  }

  /**
   * Moves a stuck transaction on (the liveness check's repair): an undecided one past its deadline
   * is aborted; a decision write that was lost is retried as ABORT, insert-if-absent, so a COMMIT
   * that landed stays COMMIT; a one-phase commit's outcome is asked again; phase 2 is sent again to
   * every waiting branch; a transaction that only lacks its end is finished.
   */
  void unstick(String txId) {
    Tx tx = registry.get(txId);
    if (tx == null) {
      return;
    }
    TxState state;
    boolean waiting = false;
    synchronized (tx) {
      state = tx.state();
      for (Branch b : tx.branches.values()) {
        if (b.awaitingPhase2()) {
          waiting = true;
          b.inFlight = false; // a call that never called back
          if (b.retry != null) {
            b.retry.cancel(false);
            b.retry = null;
          }
        }
      }
    }
    switch (state) {
      case ONE_PHASE -> onePhase.askAgain(tx);
      case ACTIVE, PREPARING ->
          decider.abort(tx, "not decided past its deadline (liveness check)", "liveness-check");
      case DECIDING ->
          decider.writeDecision(
              tx, Decision.ABORT, "the decision write was lost (liveness check)", "liveness-check");
      case COMMITTING, ABORTING -> {
        if (waiting) {
          phaseTwo.retryNow(tx);
        } else {
          phaseTwo.finish(tx);
        }
      }
      default -> {}
    }
  }
}
