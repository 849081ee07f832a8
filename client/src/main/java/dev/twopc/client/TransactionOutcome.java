package dev.twopc.client;

/** What a client learns about a transaction. */
public enum TransactionOutcome {
  /** The COMMIT decision is durable; every branch commits (now or after retries). */
  COMMITTED,
  /** The transaction aborted. */
  ABORTED,
  /**
   * No definite answer (deadline exceeded, coordinator unreachable): it may have committed or not.
   * Ask again with {@link TransactionClient#status(String)}; never guess.
   */
  UNKNOWN,
  /** Not decided yet. */
  IN_PROGRESS
}
