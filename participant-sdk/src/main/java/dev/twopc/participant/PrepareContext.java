package dev.twopc.participant;

import java.time.Instant;

/** The {@link BranchContext} of a prepare call, which may also take locks. */
public interface PrepareContext extends BranchContext {
  /**
   * Takes the exclusive lock on {@code key} for this transaction, waiting at most the configured
   * lock wait (and never past {@link #deadline()}). Re-entrant: a key this transaction already
   * holds is granted at once, and a shared lock it holds alone is upgraded. The lock is released
   * when the branch commits or rolls back, or when prepare does not vote YES.
   *
   * <p>Take the locks before the first call on {@link #connection()} (a statement, but also {@code
   * getMetaData()} or {@code setAutoCommit}, which a SQL library may make when built on it):
   * prepare's connection is taken from the store when first used, so a lock wait before it holds
   * none. A wait after it holds one, and on a store with a single connection (the embedded default)
   * the holder's commit, which releases the lock, cannot run until the wait ends.
   *
   * @throws LockUnavailableException if another transaction holds the key past the wait; let it
   *     propagate and the SDK votes NO with its message as the reason
   */
  void lock(String key);

  /** Takes a shared lock on {@code key}: compatible with other shared locks, not exclusive ones. */
  void lockShared(String key);

  /** When the coordinator stops waiting for this vote. */
  Instant deadline();

  /**
   * True when the branch joined through Enlist (the interactive flow), by a client with a payload
   * or by this participant's own business calls (then {@link #staged()} holds their work).
   */
  boolean enlisted();
}
