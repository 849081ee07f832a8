package dev.twopc.participant;

import java.sql.Connection;
import java.util.List;
import java.util.Set;

/**
 * What a {@link ParticipantHandler} sees of one branch: its transaction, its work and the local
 * JDBC transaction it runs in. Valid only during the handler call it was given to.
 */
public interface BranchContext {
  /** The global transaction id. */
  String txId();

  /** The participant name this branch belongs to. */
  String participant();

  /** The branch's payload (from Execute, or a client's Enlist); empty if none. A copy. */
  byte[] payload();

  /**
   * Work staged by business calls of the interactive flow ({@link Participant#stage(String,
   * byte[])}), in staging order; empty for branches started by Execute. Recorded durably with the
   * prepared branch, so commit and rollback see it after a restart too. Copies.
   */
  List<byte[]> staged();

  /** The keys this branch holds locks on (exclusive and shared). */
  Set<String> lockKeys();

  /**
   * The JDBC connection of the local transaction that also records the branch's state change
   * (prepared, committed or rolled back). Write through it and the SDK commits your writes and its
   * own record together, or neither. Do not commit, roll back, close it or change its auto-commit
   * mode, and send no transaction-control SQL through it ({@code COMMIT}, {@code ROLLBACK}, {@code
   * END}). Do not keep it, or statements made on it, past the call.
   *
   * <p>On the embedded store this connection's transaction is shared: the branches that reach the
   * store together commit in one SQLite transaction, each in a savepoint of its own, so your NO
   * vote or exception undoes your writes only. A statement that makes SQLite end the whole
   * transaction ({@code INSERT OR ROLLBACK}, a trigger's {@code RAISE(ROLLBACK)}, a full disk)
   * fails every branch sharing that commit: none of them is acknowledged, and each is retried or
   * resolved as after any failed commit.
   */
  Connection connection();
}
