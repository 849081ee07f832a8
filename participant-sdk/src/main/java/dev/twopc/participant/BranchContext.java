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
   * (prepared, committed or rolled back). Write through it and the SDK commits your writes and
   * its own record together, or neither. Do not commit, roll back, close it or change its
   * auto-commit mode.
   */
  Connection connection();
}
