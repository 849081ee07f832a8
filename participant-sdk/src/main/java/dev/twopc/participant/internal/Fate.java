package dev.twopc.participant.internal;

/** How a finished branch ended, as remembered in the finished table. */
public enum Fate {
  /** Prepare voted NO (or a one-phase commit aborted); the reason is kept. */
  VOTED_NO,
  /** Prepare voted READ_ONLY. */
  READ_ONLY,
  /** Committed (two-phase or one-phase). */
  COMMITTED,
  /** Rolled back, prepared or not. A later Prepare votes NO. */
  ROLLED_BACK
}
