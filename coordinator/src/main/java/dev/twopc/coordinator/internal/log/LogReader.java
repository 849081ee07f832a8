package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Read-only queries over the decision log (recovery, outcomes, the Admin API). Every method may
 * throw {@link LogStoreException}.
 */
public interface LogReader {

  /** A page of transactions, newest first, and the position after its last one. */
  record Page(List<StoredTransaction> transactions, Cursor next) {}

  /** A position in the newest-first order: (created_at, tx_id) of the last row seen. */
  record Cursor(long createdAt, String txId) {}

  /** What {@link #list} selects. Null fields do not filter. */
  record Filter(
      Collection<TxState> states,
      boolean inDoubtOnly,
      Long createdBefore,
      long now,
      Cursor after,
      int limit) {}

  /** The transaction with its branches and operator actions. */
  Optional<StoredTransaction> find(String txId);

  /** The logged decision, empty if none (presumed abort). */
  Optional<Decision> decisionOf(String txId);

  Optional<String> txIdForKey(String idempotencyKey);

  /** Every transaction not finished, oldest first, with branches: recovery's work list. */
  List<StoredTransaction> unfinished();

  long countFinished();

  /** Transactions newest first, filtered, one page. */
  Page list(Filter filter);

  /** The registry, by name. */
  List<StoredParticipant> participants();

  /** Count of unacknowledged branches per participant in decided, unfinished transactions. */
  Map<String, Integer> inDoubtBranchesByParticipant();

  /**
   * The coordinator nodes that share this log, by id (see {@link NodeLeases}); empty for a log with
   * one writer.
   */
  default List<NodeLeases.Node> nodes() {
    return List.of();
  }
}
