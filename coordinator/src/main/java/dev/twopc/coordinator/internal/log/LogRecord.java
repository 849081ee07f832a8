package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import java.util.List;
import java.util.Map;

/**
 * One change to the decision log. Records are applied in the order they were appended, by one
 * writer, so a transaction's begin is always written no later than its decision.
 */
public sealed interface LogRecord {

  /** A branch as logged: who, the digest of its payload, its vote and phase-2 progress. */
  record BranchRow(
      String participant,
      int index,
      String payloadDigest,
      Vote vote,
      String voteReason,
      BranchState state,
      int attempts,
      String lastError,
      Long lastAttemptAt,
      Long acknowledgedAt,
      Long votedAt) {}

  /**
   * A transaction was begun (lazy), or, in state ONE_PHASE, a one-phase commit is about to be sent
   * (forced: after a restart, recovery asks the participant for the outcome instead of presuming
   * abort).
   */
  record Begun(
      String txId,
      long createdAt,
      long deadlineAt,
      String idempotencyKey,
      Map<String, String> labels,
      List<BranchRow> branches,
      TxState state)
      implements LogRecord {}

  /** A branch joined an interactive transaction (lazy). */
  record Enlisted(String txId, BranchRow branch) implements LogRecord {}

  /**
   * The decision, written insert-if-absent: if the transaction already has one, the record changes
   * nothing and the append completes with the decision that was there (the first writer wins). A
   * COMMIT decision is forced; an ABORT need not be (presumed abort).
   *
   * @param state the transaction state that goes with it (COMMITTING, ABORTING, or the final state
   *     when no branch needs phase 2)
   * @param begun the begin record to write first if the transaction is not in the log yet
   * @param begunAppended whether {@code begun} was appended earlier (it may be in the log): if not,
   *     the decision inserts the transaction without looking for it first
   */
  record Decided(
      String txId,
      Decision decision,
      TxState state,
      long decidedAt,
      String decidedBy,
      String abortReason,
      List<BranchRow> branches,
      Begun begun,
      boolean begunAppended)
      implements LogRecord {}

  /** A branch's phase-2 progress changed: an attempt failed, or it acknowledged (lazy). */
  record BranchUpdated(
      String txId,
      String participant,
      BranchState state,
      int attempts,
      String lastError,
      Long lastAttemptAt,
      Long acknowledgedAt)
      implements LogRecord {}

  /**
   * Every branch acknowledged: the transaction is over (lazy). Carries the final state of the
   * branches whose acknowledgement was not written yet, so the happy path writes no {@link
   * BranchUpdated} at all.
   */
  record Finished(String txId, TxState state, long finishedAt, List<BranchUpdated> branches)
      implements LogRecord {}

  /** An operator acted on a transaction (forced). */
  record OperatorActed(
      String txId,
      long at,
      String action,
      String operator,
      String reason,
      boolean accepted,
      String refusal)
      implements LogRecord {}

  /** A participant registered its address (forced: the registry is durable). */
  record Registered(String name, String address, long at) implements LogRecord {}

  /** Delete up to {@code batchSize} transactions finished before {@code before}. */
  record Prune(long before, int batchSize) implements LogRecord {}
}
