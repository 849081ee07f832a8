package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.CrashPoints;
import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.concurrent.Completions;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogWriter;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import dev.twopc.telemetry.Tracing;
import io.opentelemetry.api.trace.Span;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides: COMMIT once every vote allows it, written to the log before anyone hears it; ABORT on a
 * NO, a failure, a timeout, the client, an operator or recovery. Tells the client and hands the
 * decision to {@link PhaseTwo}. Every path to a decision passes here.
 */
final class Decider {
  private static final Logger log = LoggerFactory.getLogger(Decider.class);

  private final LogWriter decisionLog;
  private final PhaseTwo phaseTwo;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Ticker ticker;
  private final Backoff backoff;
  private final CrashPoints crashPoints;
  private final Tracing tracing;

  Decider(
      LogWriter decisionLog,
      PhaseTwo phaseTwo,
      ScheduledExecutorService scheduler,
      Clock clock,
      Ticker ticker,
      Backoff backoff,
      CrashPoints crashPoints,
      Tracing tracing) {
    this.decisionLog = decisionLog;
    this.phaseTwo = phaseTwo;
    this.scheduler = scheduler;
    this.clock = clock;
    this.ticker = ticker;
    this.backoff = backoff;
    this.crashPoints = crashPoints;
    this.tracing = tracing;
  }

  /** At its deadline an undecided transaction is aborted. */
  void scheduleTimeout(Tx tx) {
    long delay = Math.max(0, tx.deadlineNanos - ticker.nanoTime());
    try {
      var f =
          scheduler.schedule(
              () -> abort(tx, "timed out: not decided within the transaction timeout", "timeout"),
              delay,
              TimeUnit.NANOSECONDS);
      synchronized (tx) {
        tx.timeout = f;
      }
    } catch (RejectedExecutionException stopping) {
      // shutting down: recovery aborts it
    }
  }

  /** Every branch voted YES or READ_ONLY: make COMMIT durable, then tell everyone. */
  void decideCommit(Tx tx) {
    synchronized (tx) {
      if (tx.state() != TxState.PREPARING) {
        return;
      }
      // Safety rule 1: COMMIT only with every branch's YES or READ_ONLY. A NO sets its vote
      // under this lock but aborts after releasing it, so a YES arriving in between must not
      // take the transaction to COMMIT.
      for (Branch b : tx.branches.values()) {
        if (b.vote == null || !b.vote.allowsCommit()) {
          return;
        }
      }
      tx.moveTo(TxState.DECIDING);
    }
    // Also when nothing was prepared (no branch, or all READ_ONLY) and no participant needs
    // phase 2: the client is told COMMITTED, so that must be what the log says after a crash,
    // not an undecided transaction that recovery aborts or an id presumed aborted.
    crashPoints.reached(CrashPoints.Point.BEFORE_DECISION_WRITE);
    writeDecision(tx, Decision.COMMIT, null, "protocol");
  }

  /**
   * Writes {@code decision} insert-if-absent and acts on the decision the log then holds. Safety
   * rule 1: COMMIT is durable in the log before any participant is told to commit and before the
   * client hears COMMITTED — everything after the write runs in the completion of the write, which
   * completes only once the batch is durable.
   */
  void writeDecision(Tx tx, Decision decision, String abortReason, String decidedBy) {
    // Safety rule 1: nothing is told before the write completes, which is once it is durable.
    // Safety rule 2: what is applied is the decision the log holds after the write, not this one.
    long now = clock.millis();
    synchronized (tx) {
      tx.decisionAttemptAt = now;
    }
    Decided record = decisionRecord(tx, decision, abortReason, decidedBy, now);
    // Completes on the log's completer thread, in log order, one hand-off per batch: the
    // follow-up only queues RPCs and appends, so it never holds up the next batch.
    Span span = tracing.start("twopc.decision_write", tx.trace, tx.id, null);
    span.setAttribute("twopc.decision", decision.name());
    Completions.whenDone(
        decisionLog.decide(record),
        "decision write",
        (result, error) -> {
          Tracing.end(span, error == null ? null : error.toString());
          if (error != null) {
            decisionWriteFailed(tx, error);
          } else {
            crashPoints.reached(CrashPoints.Point.AFTER_DECISION_WRITE);
            apply(tx, result.decision(), abortReason, decidedBy, now);
          }
        });
  }

  /**
   * A failed write is "maybe written": the client hears UNKNOWN, and the coordinator keeps trying
   * to log ABORT insert-if-absent. If the COMMIT did land, that write returns COMMIT and the
   * transaction commits; it never becomes a COMMIT that is not in the log.
   */
  private void decisionWriteFailed(Tx tx, Throwable error) {
    log.warn("event=decision_write_failed tx={} error=\"{}\"", tx.id, error.toString());
    synchronized (tx) {
      // The failed write may have inserted the row, or someone else did (another node's
      // tombstone, issue 14): the retry looks for it first rather than insert it again.
      tx.begunAppended = true;
    }
    tx.decided.complete(
        TxResult.unknown(tx.id, "the decision log is unavailable; ask again later"));
    // false when stopping: recovery at the next start decides it
    Completions.schedule(
        scheduler,
        "decision rewrite",
        () ->
            writeDecision(
                tx,
                Decision.ABORT,
                "the decision log was unavailable when COMMIT was being logged",
                "protocol"),
        backoff.delayMillis(3),
        TimeUnit.MILLISECONDS);
  }

  /** The decision as the log stores it: on COMMIT, every YES branch is to be committed. */
  static Decided decisionRecord(
      Tx tx, Decision decision, String abortReason, String decidedBy, long at) {
    synchronized (tx) {
      List<BranchRow> rows = new ArrayList<>();
      for (Branch b : tx.branches.values()) {
        BranchState state =
            decision == Decision.COMMIT && b.vote == Vote.YES ? BranchState.COMMITTING : b.state();
        rows.add(
            new BranchRow(
                b.participant,
                b.index,
                b.payloadDigest,
                b.vote,
                b.voteReason,
                state,
                b.attempts,
                b.lastError,
                b.lastAttemptAt,
                b.acknowledgedAt,
                b.votedAt));
      }
      return new Decided(
          tx.id,
          decision,
          decision == Decision.COMMIT ? TxState.COMMITTING : TxState.ABORTING,
          at,
          decidedBy,
          abortReason,
          rows,
          tx.begunRecord(),
          tx.begunAppended);
    }
  }

  /** {@code decision} is in the log: record it here, tell the client, start phase 2. */
  void apply(Tx tx, Decision decision, String abortReason, String decidedBy, long at) {
    synchronized (tx) {
      markDecided(tx, decision, abortReason, decidedBy, at);
    }
    announce(tx);
  }

  /** The bookkeeping of a decision. Caller holds the tx monitor. */
  private static void markDecided(
      Tx tx, Decision decision, String abortReason, String decidedBy, long at) {
    tx.decision = decision;
    tx.decidedAt = at;
    tx.decidedBy = decidedBy;
    tx.abortReason = decision == Decision.ABORT ? abortReason : null;
    tx.moveTo(decision == Decision.COMMIT ? TxState.COMMITTING : TxState.ABORTING);
    for (Branch b : tx.branches.values()) {
      if (b.acknowledgedAt != null || b.state().isFinal()) {
        continue; // recovery: this branch already acknowledged phase 2
      }
      if (decision == Decision.COMMIT && b.vote == Vote.YES) {
        b.moveTo(BranchState.COMMITTING);
      } else if (decision == Decision.ABORT && b.vote != Vote.NO && b.vote != Vote.READ_ONLY) {
        b.moveTo(BranchState.ROLLING_BACK);
      }
    }
    if (tx.timeout != null) {
      tx.timeout.cancel(false);
    }
  }

  /** Recovery: a decided transaction from the log resumes phase 2. */
  void resume(Tx tx) {
    synchronized (tx) {
      markDecided(tx, tx.decision, tx.abortReason, tx.decidedBy, tx.decidedAt);
    }
    announce(tx);
  }

  /** Tells the client and starts phase 2. */
  private void announce(Tx tx) {
    TxResult result;
    synchronized (tx) {
      result =
          tx.decision == Decision.COMMIT
              ? TxResult.committed(tx.id)
              : TxResult.aborted(tx.id, tx.abortReason);
    }
    tx.decided.complete(result);
    phaseTwo.start(tx);
  }

  /**
   * Decides ABORT if nothing is decided yet (false if something is, or a COMMIT is being written,
   * or a one-phase commit is out). Not forced (safety rule 3, presumed abort): rollbacks go out at
   * once, and a crash before the record is written still reads as ABORTED.
   */
  boolean abort(Tx tx, String reason, String decidedBy) {
    return abort(tx, reason, decidedBy, false);
  }

  /**
   * A one-phase commit that was never sent (its forced record failed, or its participant is
   * unknown): nothing can have been applied, so an ordinary abort is safe.
   */
  void abortUnsent(Tx tx, String reason) {
    synchronized (tx) {
      tx.onePhase = false;
    }
    abort(tx, reason, "protocol", true);
  }

  private boolean abort(Tx tx, String reason, String decidedBy, boolean unsent) {
    Decided record;
    long now = clock.millis();
    synchronized (tx) {
      if (tx.decision != null
          || tx.state() == TxState.DECIDING
          || (tx.state() == TxState.ONE_PHASE && !unsent)) {
        return false;
      }
      // Every abort reason passes here: a participant's, a status, a client's, an operator's.
      reason = Limits.text(reason, Limits.REASON);
      decidedBy = Limits.text(decidedBy, Limits.DECIDED_BY);
      markDecided(tx, Decision.ABORT, reason, decidedBy, now);
      record =
          new Decided(
              tx.id,
              Decision.ABORT,
              TxState.ABORTING,
              now,
              decidedBy,
              reason,
              tx.branchRows(),
              tx.begunRecord(),
              tx.begunAppended);
    }
    log.info("event=aborted tx={} by={} reason=\"{}\"", tx.id, decidedBy, reason);
    // Safety rule 3: ABORT is not forced; a crash before it is written still reads as ABORTED.
    // Queued before phase 2 starts, so the log never sees the end before the decision.
    decisionLog.queue(record);
    announce(tx);
    return true;
  }
}
