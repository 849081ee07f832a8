package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.internal.log.DecisionLog.DecisionResult;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import java.util.concurrent.CompletableFuture;

/**
 * What the protocol writes to the decision log. Every future completes once its record is durable
 * (or, for lazy records in process mode, applied), or exceptionally with a {@link
 * LogStoreException} if it may not be: a failed write is "maybe written". {@link DecisionLog} is
 * the implementation; the engine's unit tests use an in-memory one.
 */
public interface LogWriter {

  /** Queues {@code record}. For a {@link Decided}, use {@link #decide}. */
  CompletableFuture<Void> append(LogRecord record);

  /**
   * Writes a decision insert-if-absent (safety rule 2). Completes with the decision now in the log:
   * this one, or the one an earlier writer put there.
   */
  CompletableFuture<DecisionResult> decide(Decided decision);

  /**
   * Queues {@code record} (a decision too) for a caller that does not wait for it: a record whose
   * loss at a crash is safe — it is lazy, or the log already holds what makes it redundant. Each
   * caller says why beside the call. A failed write is logged ({@code event=log_write_failed}) and
   * turns {@link #healthy} off, as for any write.
   */
  void queue(LogRecord record);

  /** False after a failed batch, until a batch succeeds again. */
  boolean healthy();
}
