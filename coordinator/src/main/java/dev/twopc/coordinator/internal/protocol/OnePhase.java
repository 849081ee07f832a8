package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.concurrent.Completions;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogWriter;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import dev.twopc.coordinator.internal.transport.BranchCall;
import dev.twopc.coordinator.internal.transport.CallFailed;
import dev.twopc.coordinator.internal.transport.OnePhaseCall;
import dev.twopc.coordinator.internal.transport.OnePhaseReply;
import dev.twopc.coordinator.internal.transport.ParticipantTransport;
import java.time.Clock;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A single-branch transaction without an idempotency key: one call that prepares and commits, and
 * the participant decides. The transaction is first logged, forced, in state ONE_PHASE: once the
 * call is sent only the participant knows the outcome, so a coordinator that restarts before the
 * answer asks it ({@link #resume}) rather than presume abort.
 */
final class OnePhase {
  private final LogWriter decisionLog;
  private final ParticipantTransport transport;
  private final Decider decider;
  private final PhaseTwo phaseTwo;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Ticker ticker;
  private final Backoff backoff;
  private final long prepareTimeoutMillis;
  private final long callTimeoutMillis;
  private final BooleanSupplier closing;

  OnePhase(
      LogWriter decisionLog,
      ParticipantTransport transport,
      Decider decider,
      PhaseTwo phaseTwo,
      ScheduledExecutorService scheduler,
      Clock clock,
      Ticker ticker,
      Backoff backoff,
      long prepareTimeoutMillis,
      long callTimeoutMillis,
      BooleanSupplier closing) {
    this.decisionLog = decisionLog;
    this.transport = transport;
    this.decider = decider;
    this.phaseTwo = phaseTwo;
    this.scheduler = scheduler;
    this.clock = clock;
    this.ticker = ticker;
    this.backoff = backoff;
    this.prepareTimeoutMillis = prepareTimeoutMillis;
    this.callTimeoutMillis = callTimeoutMillis;
    this.closing = closing;
  }

  /** {@code tx} is ONE_PHASE with its only branch {@code b}: log it, then send the call. */
  void start(Tx tx, Branch b) {
    boolean logged;
    synchronized (tx) {
      logged = tx.begunAppended;
      tx.begunAppended = true;
    }
    if (logged) {
      send(tx, b);
      return;
    }
    Completions.whenDone(
        decisionLog.append(tx.begunRecord()),
        "one-phase begin record",
        (r, e) -> {
          if (e != null) {
            // the store's message stays in the coordinator's log, off the wire
            decider.abortUnsent(tx, "the decision log is unavailable");
          } else {
            send(tx, b);
          }
        });
  }

  /** Recovery of a one-phase commit sent before a restart with no answer logged: ask it. */
  void resume(Tx tx) {
    synchronized (tx) {
      tx.onePhase = true;
      tx.begunAppended = true;
    }
    ask(tx, tx.branches.values().iterator().next());
  }

  /** The liveness check's repair: ask again. */
  void askAgain(Tx tx) {
    ask(tx, tx.branches.values().iterator().next());
  }

  private void send(Tx tx, Branch b) {
    long left = Math.max(1, (tx.deadlineNanos - ticker.nanoTime()) / 1_000_000);
    long timeout = Math.min(prepareTimeoutMillis, left);
    synchronized (tx) {
      if (tx.abandoned) {
        return;
      }
      b.attempts++;
      b.lastAttemptAt = clock.millis();
    }
    Completions.whenDone(
        transport.commitOnePhase(
            new OnePhaseCall(tx.id, b.participant, b.payload, timeout, tx.trace)),
        "one-phase commit reply",
        (reply, error) -> {
          if (error == null) {
            answered(tx, b, reply);
          } else {
            CallFailed f = callFailed(error);
            if (f != null && !f.sent() && firstAttempt(tx, b)) {
              decider.abortUnsent(tx, f.detail());
            } else {
              failed(tx, b, why(f, error), () -> send(tx, b));
            }
          }
        });
  }

  private void ask(Tx tx, Branch b) {
    int attempt;
    synchronized (tx) {
      attempt = ++b.attempts;
      b.lastAttemptAt = clock.millis();
    }
    Completions.whenDone(
        transport.askOnePhase(
            new BranchCall(tx.id, b.participant, attempt, callTimeoutMillis, tx.trace)),
        "one-phase outcome reply",
        (reply, error) -> {
          if (error == null) {
            answered(tx, b, reply);
          } else {
            retry(tx, b, why(callFailed(error), error), () -> ask(tx, b));
          }
        });
  }

  /** The participant's answer is the decision: record it (with the end) and finish. */
  private void answered(Tx tx, Branch b, OnePhaseReply r) {
    boolean committed = r.committed();
    long now = clock.millis();
    Decided record;
    synchronized (tx) {
      if (tx.decision != null) {
        return;
      }
      tx.decision = committed ? Decision.COMMIT : Decision.ABORT;
      tx.decidedAt = now;
      tx.decidedBy = "one-phase";
      tx.abortReason =
          committed
              ? null
              : Limits.text(
                  "participant " + b.participant + " refused: " + r.reason(), Limits.REASON);
      b.vote = committed ? Vote.YES : Vote.NO;
      b.voteReason = committed ? null : Limits.text(r.reason(), Limits.REASON);
      b.votedAt = now;
      b.moveTo(committed ? BranchState.COMMITTED : BranchState.REFUSED);
      b.acknowledgedAt = now;
      b.lastError = null;
      tx.moveTo(committed ? TxState.COMMITTED : TxState.ABORTED);
      if (tx.timeout != null) {
        tx.timeout.cancel(false);
      }
      record =
          new Decided(
              tx.id,
              tx.decision,
              tx.state(),
              now,
              "one-phase",
              tx.abortReason,
              tx.branchRows(),
              tx.begunRecord(),
              tx.begunAppended);
    }
    // Not waited for: the forced ONE_PHASE begin record is in the log, so a crash before this
    // one is written makes recovery ask the participant again, and it repeats its first answer.
    decisionLog.queue(record);
    tx.decided.complete(
        committed ? TxResult.committed(tx.id) : TxResult.aborted(tx.id, tx.abortReason));
    phaseTwo.finish(tx);
  }

  /**
   * The one-phase call may or may not have been applied. The client hears UNKNOWN; the call is
   * repeated (participants answer a repeated one-phase commit with its first outcome) until the
   * participant gives a definite answer, which the transaction then records.
   */
  private void failed(Tx tx, Branch b, String why, Runnable again) {
    tx.decided.complete(
        TxResult.unknown(
            tx.id, "one-phase commit at " + b.participant + " did not answer: " + why));
    retry(tx, b, why, again);
  }

  /**
   * Repeats a one-phase call (or, after a restart, the question) with backoff until the participant
   * answers; the participant holds the outcome, so stopping loses nothing that the next start does
   * not ask again.
   */
  private void retry(Tx tx, Branch b, String why, Runnable call) {
    long delay;
    synchronized (tx) {
      b.lastError = Limits.text(why, Limits.LAST_ERROR);
      delay = backoff.delayMillis(Math.max(1, b.attempts));
      b.nextAttemptAt = clock.millis() + delay;
    }
    if (closing.getAsBoolean()) {
      return;
    }
    // false when stopping: see above
    Completions.schedule(scheduler, "one-phase retry", call, delay, TimeUnit.MILLISECONDS);
  }

  private static boolean firstAttempt(Tx tx, Branch b) {
    synchronized (tx) {
      return b.attempts <= 1;
    }
  }

  private static CallFailed callFailed(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    return cause instanceof CallFailed f ? f : null;
  }

  private static String why(CallFailed f, Throwable error) {
    return Limits.text(f != null ? f.getMessage() : String.valueOf(error), Limits.LAST_ERROR);
  }
}
