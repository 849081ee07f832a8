package dev.twopc.coordinator.internal.recovery;

import dev.twopc.coordinator.RecoverySummary;
import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.protocol.TransactionEngine;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up recovery, run before the server accepts calls. A transaction decided COMMIT resumes its
 * commits; one decided ABORT resumes its rollbacks; one with no decision (ACTIVE or PREPARING when
 * the coordinator stopped) can no longer be committed by anyone, so ABORT is logged
 * (insert-if-absent) and its known branches are rolled back — except a one-phase commit that was
 * sent (state ONE_PHASE), whose outcome only its participant knows: it is asked.
 */
public final class Recovery {
  private static final Logger log = LoggerFactory.getLogger(Recovery.class);

  private Recovery() {}

  public static RecoverySummary run(
      LogReader reader, DecisionLog decisionLog, TransactionEngine engine, Clock clock)
      throws IOException {
    boolean[] read = {false};
    return run(
        reader,
        () -> {
          if (read[0]) {
            return List.of();
          }
          read[0] = true;
          return reader.unfinished();
        },
        decisionLog,
        engine,
        clock,
        "the coordinator restarted before a decision");
  }

  /**
   * Recovery of the work {@code work} hands out, batch after batch until it answers an empty one:
   * the whole unfinished log of a coordinator that is its only writer, or what a node of several
   * claims.
   */
  public static RecoverySummary run(
      LogReader reader,
      Supplier<List<StoredTransaction>> work,
      DecisionLog decisionLog,
      TransactionEngine engine,
      Clock clock,
      String abortReason)
      throws IOException {
    int commits = 0;
    int aborts = 0;
    int undecided = 0;
    long finished;
    try {
      // Counted before anything resumes: a resumed transaction may finish (and be counted)
      // while the others are still being read.
      finished = reader.countFinished();
      for (List<StoredTransaction> batch = work.get(); !batch.isEmpty(); batch = work.get()) {
        for (StoredTransaction tx : batch) {
          switch (resumeOne(tx, decisionLog, engine, clock, abortReason)) {
            case COMMIT -> commits++;
            case ABORT -> aborts++;
            case UNDECIDED -> undecided++;
            case ONE_PHASE -> {}
          }
        }
      }
    } catch (LogStoreException e) {
      throw new IOException("recovery could not read the decision log: " + e.getMessage(), e);
    }
    RecoverySummary summary = new RecoverySummary(commits, aborts, undecided, finished);
    // Not the ready line: the port is not open yet. CoordinatorServer logs event=started with
    // this summary once it is.
    log.debug("event=recovery_scanned {}", summary.keyValues());
    return summary;
  }

  /** What a resumed transaction was. */
  public enum Resumed {
    COMMIT,
    ABORT,
    UNDECIDED,
    ONE_PHASE
  }

  /**
   * Hands one unfinished transaction from the log to the engine: at start, and later for one the
   * log holds as unfinished that the engine is no longer running (the liveness check). An undecided
   * one is aborted first (insert-if-absent: a COMMIT that landed stays COMMIT).
   */
  public static Resumed resumeOne(
      StoredTransaction tx,
      DecisionLog decisionLog,
      TransactionEngine engine,
      Clock clock,
      String abortReason)
      throws IOException {
    if (tx.decision() == null && tx.state() == TxState.ONE_PHASE) {
      // Sent as one phase: the participant decided; ask it rather than presume abort.
      log.info(
          "event=recovered tx={} was=one_phase asking={}",
          tx.txId(),
          tx.branches().isEmpty() ? "" : tx.branches().get(0).participant());
      engine.resumeOnePhase(tx);
      return Resumed.ONE_PHASE;
    }
    Resumed kind;
    if (tx.decision() == null) {
      Decision decision = abortUndecided(tx, decisionLog, clock, abortReason);
      kind = Resumed.UNDECIDED;
      tx =
          new StoredTransaction(
              tx.txId(),
              tx.state(),
              tx.createdAt(),
              tx.deadlineAt(),
              decision,
              clock.millis(),
              "recovery",
              abortReason,
              null,
              tx.idempotencyKey(),
              tx.labels(),
              tx.branches(),
              tx.actions());
      log.info("event=recovered tx={} decision={} was={}", tx.txId(), decision, "undecided");
    } else {
      kind = tx.decision() == Decision.COMMIT ? Resumed.COMMIT : Resumed.ABORT;
    }
    engine.resume(tx);
    return kind;
  }

  // Safety rule 3: undecided at restart can no longer commit: ABORT, insert-if-absent (rule 2).
  private static Decision abortUndecided(
      StoredTransaction tx, DecisionLog decisionLog, Clock clock, String reason)
      throws IOException {
    Decided abort =
        new Decided(
            tx.txId(),
            Decision.ABORT,
            TxState.ABORTING,
            clock.millis(),
            "recovery",
            reason,
            tx.branches(),
            null,
            true);
    try {
      return decisionLog.decide(abort).get().decision();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted during recovery", e);
    } catch (ExecutionException e) {
      throw new IOException(
          "recovery could not write to the decision log: " + e.getCause().getMessage(),
          e.getCause());
    }
  }
}
