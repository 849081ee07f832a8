package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.CrashPoints;
import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.concurrent.Completions;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.log.LogWriter;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import dev.twopc.coordinator.internal.transport.BranchCall;
import dev.twopc.coordinator.internal.transport.CallFailed;
import dev.twopc.coordinator.internal.transport.ParticipantTransport;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives phase 2: tells every branch the decision and retries with capped exponential backoff until
 * it acknowledges — forever, across restarts (recovery hands decided transactions back here; safety
 * rule 6). Every call is treated as possibly applied; participants apply commit and rollback
 * idempotently per (txId, participant) (safety rule 5). When every branch has acknowledged, the
 * transaction's end is written and it leaves the {@link Registry}.
 */
final class PhaseTwo {
  private static final Logger log = LoggerFactory.getLogger(PhaseTwo.class);

  private final ParticipantTransport transport;
  private final LogWriter decisionLog;
  private final Registry registry;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Backoff backoff;
  private final long callTimeoutMillis;
  private final CrashPoints crashPoints;
  private final CoordinatorMetrics metrics;

  PhaseTwo(
      ParticipantTransport transport,
      LogWriter decisionLog,
      Registry registry,
      ScheduledExecutorService scheduler,
      Clock clock,
      Backoff backoff,
      long callTimeoutMillis,
      CrashPoints crashPoints,
      CoordinatorMetrics metrics) {
    this.transport = transport;
    this.decisionLog = decisionLog;
    this.registry = registry;
    this.scheduler = scheduler;
    this.clock = clock;
    this.backoff = backoff;
    this.callTimeoutMillis = callTimeoutMillis;
    this.crashPoints = crashPoints;
    this.metrics = metrics;
  }

  /** Sends the decision to every branch still waiting for it; finishes the tx if none is. */
  void start(Tx tx) {
    List<Branch> pending = new ArrayList<>();
    synchronized (tx) {
      for (Branch b : tx.branches.values()) {
        if (b.awaitingPhase2()) {
          pending.add(b);
        }
      }
    }
    if (pending.isEmpty()) {
      finish(tx);
      return;
    }
    for (Branch b : pending) {
      send(tx, b);
    }
  }

  /** Operator retry: every waiting branch is tried now, its backoff cancelled. */
  void retryNow(Tx tx) {
    List<Branch> pending = new ArrayList<>();
    synchronized (tx) {
      for (Branch b : tx.branches.values()) {
        if (b.awaitingPhase2() && !b.inFlight) {
          if (b.retry != null) {
            b.retry.cancel(false);
            b.retry = null;
          }
          pending.add(b);
        }
      }
    }
    pending.forEach(b -> send(tx, b));
  }

  private void send(Tx tx, Branch b) {
    boolean commit;
    int attempt;
    synchronized (tx) {
      if (b.inFlight || !b.awaitingPhase2() || tx.abandoned) {
        return;
      }
      b.inFlight = true;
      b.retry = null;
      b.nextAttemptAt = null;
      attempt = ++b.attempts;
      b.lastAttemptAt = clock.millis();
      commit = b.state() == BranchState.COMMITTING;
    }
    metrics.phase2Attempt(b.participant, commit);
    BranchCall call = new BranchCall(tx.id, b.participant, attempt, callTimeoutMillis, tx.trace);
    CompletableFuture<Void> ack = commit ? transport.commit(call) : transport.rollback(call);
    Completions.whenDone(
        ack,
        "phase-2 reply",
        (ok, error) -> {
          if (error == null) {
            acknowledged(tx, b);
          } else {
            failed(tx, b, describe(error));
          }
        });
  }

  private static String describe(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof CallFailed f) {
      return Limits.text(
          f.sent() ? f.code() + (f.detail() == null ? "" : ": " + f.detail()) : f.detail(),
          Limits.LAST_ERROR);
    }
    return Limits.text(String.valueOf(cause), Limits.LAST_ERROR);
  }

  /**
   * Not written at once: the acknowledgement goes to the log with the transaction's end, or with
   * another branch's failed attempt. If it is lost in a crash, recovery sends the decision to this
   * branch again, which participants acknowledge idempotently.
   */
  private void acknowledged(Tx tx, Branch b) {
    boolean commit;
    boolean allDone = true;
    synchronized (tx) {
      b.inFlight = false;
      if (!b.awaitingPhase2()) {
        return;
      }
      commit = b.state() == BranchState.COMMITTING;
      b.moveTo(commit ? BranchState.COMMITTED : BranchState.ROLLED_BACK);
      b.acknowledgedAt = clock.millis();
      b.lastError = null;
      b.ackUnlogged = true;
      for (Branch other : tx.branches.values()) {
        allDone &= !other.awaitingPhase2();
      }
    }
    if (commit) {
      crashPoints.reached(CrashPoints.Point.AFTER_COMMIT_ACK);
    }
    if (allDone) {
      finish(tx);
    }
  }

  private void failed(Tx tx, Branch b, String error) {
    long delay;
    int attempt;
    List<BranchUpdated> updates = new ArrayList<>();
    synchronized (tx) {
      b.inFlight = false;
      if (!b.awaitingPhase2()) {
        return;
      }
      attempt = b.attempts;
      b.lastError = error;
      delay = backoff.delayMillis(b.attempts);
      b.nextAttemptAt = clock.millis() + delay;
      updates.add(b.updateRecord(tx.id));
      updates.addAll(tx.takeUnloggedAcks()); // the tx lingers: show who acknowledged
      if (b.attempts == 1 || b.attempts % 10 == 0) {
        log.warn(
            "event=phase2_failed tx={} participant={} attempts={} retry_in_ms={} error=\"{}\"",
            tx.id,
            b.participant,
            b.attempts,
            delay,
            error);
      }
    }
    // Not waited for: a lost update only shows older attempts; phase 2 resumes from the decision.
    updates.forEach(decisionLog::queue);
    // Safety rule 6: retried until acknowledged, with capped backoff, for ever (parked ones are
    // shown and alerted on, never dropped).
    try {
      var f = scheduler.schedule(() -> send(tx, b), delay, TimeUnit.MILLISECONDS);
      synchronized (tx) {
        if (b.attempts == attempt && !b.inFlight) {
          b.retry = f; // unless it already ran (and perhaps scheduled the next one)
        }
      }
    } catch (RejectedExecutionException stopping) {
      // shutting down: recovery resumes this branch at the next start
    }
  }

  /** Every branch acknowledged: record the end and forget the transaction. */
  void finish(Tx tx) {
    TxResult result;
    List<BranchUpdated> acks;
    synchronized (tx) {
      if (tx.finishedAt != null) {
        return;
      }
      tx.finishedAt = clock.millis();
      acks = tx.takeUnloggedAcks();
      boolean committed = tx.decision == Decision.COMMIT;
      tx.moveTo(committed ? TxState.COMMITTED : TxState.ABORTED);
      result = committed ? TxResult.committed(tx.id) : TxResult.aborted(tx.id, tx.abortReason);
    }
    // A one-phase decision already carried the final state.
    CompletableFuture<Void> written =
        tx.onePhase
            ? CompletableFuture.completedFuture(null)
            : decisionLog.append(new Finished(tx.id, tx.state(), tx.finishedAt, acks));
    tx.decided.complete(result);
    tx.finished.complete(result);
    // Answered from memory until the end is in the log, so that a reader who heard the outcome
    // never reads an older state back (the end record is lazy and may still be queued).
    Completions.whenDone(written, "end record", (r, e) -> registry.remove(tx));
  }
}
