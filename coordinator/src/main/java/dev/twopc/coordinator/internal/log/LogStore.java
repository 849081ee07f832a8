package dev.twopc.coordinator.internal.log;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/** The decision log's database: the connection pool, the schema and its version. */
public final class LogStore implements AutoCloseable {
  /** Bumped whenever the tables change; a newer log than this code refuses to open. */
  static final int SCHEMA_VERSION = 1;

  private static final String[] SCHEMA = {
    "CREATE TABLE IF NOT EXISTS twopc_schema (version INT NOT NULL)",
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
        + " labels VARCHAR(8192))",
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
        + " PRIMARY KEY (tx_id, participant))",
    "CREATE TABLE IF NOT EXISTS twopc_action ("
        + " tx_id VARCHAR(128) NOT NULL,"
        + " at BIGINT NOT NULL,"
        + " action VARCHAR(16) NOT NULL,"
        + " operator VARCHAR(128) NOT NULL,"
        + " reason VARCHAR(1024) NOT NULL,"
        + " accepted BOOLEAN NOT NULL,"
        + " refusal VARCHAR(1024))",
    "CREATE INDEX IF NOT EXISTS twopc_action_tx ON twopc_action (tx_id)",
    "CREATE TABLE IF NOT EXISTS twopc_participant ("
        + " name VARCHAR(64) PRIMARY KEY,"
        + " address VARCHAR(256) NOT NULL,"
        + " registered_at BIGINT NOT NULL,"
        + " updated_at BIGINT NOT NULL)",
  };

  private final HikariDataSource dataSource;
  private final boolean h2;
  private final String description;

  private LogStore(HikariDataSource dataSource, boolean h2, String description) {
    this.dataSource = dataSource;
    this.h2 = h2;
    this.description = description;
  }

  /** Opens (and creates or checks the schema of) the log the config points at. */
  public static LogStore open(CoordinatorConfig config) throws IOException {
    String url = config.jdbcUrl();
    if (url == null) {
      Path dir = config.dataDir().toAbsolutePath();
      Files.createDirectories(dir);
      url = embeddedH2Url(dir);
    }
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(url);
    hc.setUsername(config.jdbcUser());
    hc.setPassword(config.jdbcPassword());
    hc.setPoolName("twopc-log");
    hc.setMaximumPoolSize(8);
    hc.setMinimumIdle(1);
    hc.setAutoCommit(false);
    hc.setConnectionTimeout(3_000);
    hc.setValidationTimeout(1_000);
    hc.setInitializationFailTimeout(10_000);
    HikariDataSource ds;
    try {
      ds = new HikariDataSource(hc);
    } catch (RuntimeException e) {
      throw new IOException("cannot open the decision log at " + redact(url) + ": "
          + e.getMessage(), e);
    }
    LogStore store = new LogStore(ds, url.startsWith("jdbc:h2:"), redact(url));
    try {
      store.migrate();
    } catch (SQLException e) {
      ds.close();
      throw new IOException("cannot create the decision log schema: " + e.getMessage(), e);
    }
    return store;
  }

  /**
   * H2's default write delay (500 ms) acknowledges commits that a {@code kill -9} then loses.
   * WRITE_DELAY=0 writes every commit to the file before it returns; an fsync on top is
   * {@link Durability#FSYNC}'s job ({@code CHECKPOINT SYNC} per group-commit batch).
   */
  static String embeddedH2Url(Path dir) {
    return "jdbc:h2:file:" + dir.resolve("twopc") + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE";
  }

  private void migrate() throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      for (String ddl : SCHEMA) {
        s.execute(ddl);
      }
      Integer version = null;
      try (ResultSet rs = s.executeQuery("SELECT MAX(version) FROM twopc_schema")) {
        if (rs.next()) {
          int v = rs.getInt(1);
          version = rs.wasNull() ? null : v;
        }
      }
      if (version == null) {
        s.executeUpdate("INSERT INTO twopc_schema (version) VALUES (" + SCHEMA_VERSION + ")");
      } else if (version > SCHEMA_VERSION) {
        throw new SQLException("the decision log has schema version " + version
            + ", newer than this coordinator's " + SCHEMA_VERSION);
      }
      c.commit();
    }
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /**
   * Drops a connection that failed, so the pool opens a fresh one next time. Needed because
   * H2 reports a dead server with a vendor SQLState that the pool does not treat as fatal.
   */
  void evict(Connection c) {
    dataSource.evictConnection(c);
  }

  /** True for H2, where FSYNC durability needs an explicit {@code CHECKPOINT SYNC}. */
  boolean isH2() {
    return h2;
  }

  /** The JDBC URL without credentials, for logs. */
  public String description() {
    return description;
  }

  private static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^;&]*", "$1***");
  }

  @Override
  public void close() {
    if (h2) {
      // A clean close leaves H2 nothing to replay at the next start.
      try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
        s.execute("CHECKPOINT SYNC");
        c.commit();
      } catch (SQLException ignored) {
        // the store is going away anyway; every decision is already on disk
      }
    }
    dataSource.close();
  }
}
