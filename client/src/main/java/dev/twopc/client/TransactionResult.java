package dev.twopc.client;

import java.util.Objects;

/**
 * The outcome of a commit, rollback or execute.
 *
 * @param txId the transaction, empty if an Execute got no answer at all
 * @param reason why it aborted, or why the outcome is unknown; empty otherwise
 */
public record TransactionResult(String txId, TransactionOutcome outcome, String reason) {
  public TransactionResult {
    Objects.requireNonNull(txId, "txId");
    Objects.requireNonNull(outcome, "outcome");
    reason = reason == null ? "" : reason;
  }

  public boolean committed() {
    return outcome == TransactionOutcome.COMMITTED;
  }
}
