package dev.twopc.participant;

/**
 * When a commit of the embedded SQLite store (see {@link Participant.Builder#dataDirectory}) is
 * forced to disk, SQLite's {@code PRAGMA synchronous} in WAL mode.
 */
public enum EmbeddedSync {
  /**
   * The default: every commit is fsynced to the write-ahead log before it returns, so a YES vote
   * and an applied commit survive a killed process, an operating-system crash and a power loss.
   */
  FULL,
  /**
   * Opt-out for throughput: commits reach the log without an fsync (the log is synced at
   * checkpoints). A killed process loses nothing; an operating-system crash or a power loss may
   * lose the last commits, and so YES votes already sent, which breaks atomicity for the
   * transactions they belonged to. Use it only where the machine's durability is not relied on.
   */
  NORMAL
}
