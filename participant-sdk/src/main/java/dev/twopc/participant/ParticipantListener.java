package dev.twopc.participant;

import java.util.List;

/**
 * Optional observer of a participant's branches, for metrics and tests. Called synchronously on the
 * thread doing the work; keep it fast. Exceptions it throws are logged and ignored.
 */
public interface ParticipantListener {
  /** Recovery reloaded these prepared branches and re-took their locks; nothing is served yet. */
  default void onRecovered(List<PreparedBranchInfo> branches) {}

  /** The branch's prepared record is durable; the YES vote has not been sent yet. */
  default void onPrepared(String txId) {}

  /** The branch committed (two-phase or one-phase) and released its locks. */
  default void onCommitted(String txId) {}

  /** The branch rolled back, or voted NO, and released its locks. */
  default void onRolledBack(String txId) {}

  /** The coordinator accepted this participant's registration. */
  default void onRegistered(String coordinator) {}
}
