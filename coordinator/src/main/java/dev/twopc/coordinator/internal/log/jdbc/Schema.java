package dev.twopc.coordinator.internal.log.jdbc;

import dev.twopc.coordinator.internal.Limits;

/** The decision log's tables, created if absent. */
final class Schema {
  /** Size of the free-text columns (reasons, errors): the limit values are bounded to. */
  static final int TEXT = Limits.REASON;

  /** Size of decided_by and operator. */
  static final int NAME = Limits.OPERATOR;

  /**
   * Which node drives an unfinished transaction, and under which of its epochs (version 2): set
   * when the row is inserted and when a node claims it; owner-only writes match it.
   */
  private static final String OWNER_COLUMNS = " owner VARCHAR(64), owner_epoch BIGINT";

  private Schema() {}

  /** What brings a log of {@code version} to the current one, in order. */
  static String[] upgrade(int version) {
    if (version < 2) {
      return new String[] {
        "ALTER TABLE twopc_tx ADD COLUMN owner VARCHAR(64)",
        "ALTER TABLE twopc_tx ADD COLUMN owner_epoch BIGINT"
      };
    }
    return new String[0];
  }

  static String[] statements(Dialect dialect) {
    String t = dialect.tableOptions();
    return new String[] {
      "CREATE TABLE IF NOT EXISTS twopc_schema (version INT NOT NULL)" + t,
      "CREATE TABLE IF NOT EXISTS twopc_tx ("
          + " tx_id VARCHAR(128) PRIMARY KEY,"
          + " state VARCHAR(16) NOT NULL,"
          + " created_at BIGINT NOT NULL,"
          + " deadline_at BIGINT NOT NULL,"
          + " decision VARCHAR(8),"
          + " decided_at BIGINT,"
          + " decided_by VARCHAR(128),"
          + " abort_reason VARCHAR(1024),"
          + " finished_at BIGINT,"
          + " idempotency_key VARCHAR(256),"
          + " labels "
          + dialect.longText()
          + ","
          + OWNER_COLUMNS
          + ")"
          + t,
      "CREATE UNIQUE INDEX IF NOT EXISTS twopc_tx_key ON twopc_tx (idempotency_key)",
      "CREATE INDEX IF NOT EXISTS twopc_tx_created ON twopc_tx (created_at)",
      "CREATE INDEX IF NOT EXISTS twopc_tx_state ON twopc_tx (state)",
      "CREATE INDEX IF NOT EXISTS twopc_tx_finished ON twopc_tx (finished_at)",
      "CREATE TABLE IF NOT EXISTS twopc_branch ("
          + " tx_id VARCHAR(128) NOT NULL,"
          + " participant VARCHAR(64) NOT NULL,"
          + " idx INT NOT NULL,"
          + " payload_digest VARCHAR(64),"
          + " vote VARCHAR(16),"
          + " vote_reason VARCHAR(1024),"
          + " state VARCHAR(16) NOT NULL,"
          + " attempts INT NOT NULL,"
          + " last_error VARCHAR(1024),"
          + " last_attempt_at BIGINT,"
          + " acked_at BIGINT,"
          + " voted_at BIGINT,"
          + " PRIMARY KEY (tx_id, participant))"
          + t,
      "CREATE TABLE IF NOT EXISTS twopc_action ("
          + " tx_id VARCHAR(128) NOT NULL,"
          + " at BIGINT NOT NULL,"
          + " action VARCHAR(16) NOT NULL,"
          + " operator VARCHAR(128) NOT NULL,"
          + " reason VARCHAR(1024) NOT NULL,"
          + " accepted BOOLEAN NOT NULL,"
          + " refusal VARCHAR(1024))"
          + t,
      "CREATE INDEX IF NOT EXISTS twopc_action_tx ON twopc_action (tx_id)",
      "CREATE TABLE IF NOT EXISTS twopc_node ("
          + " node_id VARCHAR(64) PRIMARY KEY,"
          + " epoch BIGINT NOT NULL,"
          + " address VARCHAR(256),"
          + " lease_until BIGINT NOT NULL,"
          + " joined_at BIGINT NOT NULL,"
          + " fenced BOOLEAN NOT NULL)"
          + t,
      "CREATE TABLE IF NOT EXISTS twopc_participant ("
          + " name VARCHAR(64) PRIMARY KEY,"
          + " address VARCHAR(256) NOT NULL,"
          + " registered_at BIGINT NOT NULL,"
          + " updated_at BIGINT NOT NULL)"
          + t,
    };
  }
}
