package dev.twopc.coordinator;

/** How hard the decision log pushes a COMMIT decision to storage before anyone hears of it. */
public enum Durability {
  /**
   * The default: every group-commit batch is synced to disk (one WAL sync on the embedded RocksDB
   * log; the database's commit on PostgreSQL and MariaDB; {@code synchronous=FULL} on SQLite;
   * {@code CHECKPOINT SYNC} on H2) before its decisions are acknowledged, so a decision survives
   * power loss.
   */
  FSYNC,
  /**
   * The batch is handed to the operating system but not synced (RocksDB's WAL unsynced, PostgreSQL
   * {@code synchronous_commit=off}, SQLite {@code synchronous=NORMAL}): a decision survives {@code
   * kill -9} of the coordinator, not a power failure. Faster. (H2 in this mode was seen to lose
   * acknowledged commits after repeated kills: use FSYNC with H2.)
   */
  PROCESS
}
