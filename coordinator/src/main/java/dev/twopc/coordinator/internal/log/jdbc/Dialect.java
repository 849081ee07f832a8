package dev.twopc.coordinator.internal.log.jdbc;

import com.zaxxer.hikari.HikariConfig;
import dev.twopc.coordinator.Durability;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * Every difference between the databases the log runs on, in one place. The SQL itself is portable
 * ({@code LIMIT}, {@code CREATE INDEX IF NOT EXISTS}, no upserts); what differs is how a batch is
 * made durable and how tables are declared.
 */
enum Dialect {
  /** H2: {@code WRITE_DELAY=0} survives kill -9 only; FSYNC adds a {@code CHECKPOINT SYNC}. */
  H2,
  /** PostgreSQL: a commit is fsync'd (synchronous_commit); PROCESS turns that off per batch. */
  POSTGRESQL,
  /** MariaDB (or MySQL through the MariaDB driver): InnoDB, utf8mb4. */
  MARIADB,
  /** SQLite in WAL mode, one writer; synchronous FULL for FSYNC, NORMAL for PROCESS. */
  SQLITE,
  /** Any other JDBC database: its commit is taken as durable. */
  OTHER;

  static Dialect of(String url) {
    String u = url.toLowerCase(Locale.ROOT);
    if (u.startsWith("jdbc:h2:")) {
      return H2;
    } else if (u.startsWith("jdbc:postgresql:")) {
      return POSTGRESQL;
    } else if (u.startsWith("jdbc:mariadb:") || u.startsWith("jdbc:mysql:")) {
      return MARIADB;
    } else if (u.startsWith("jdbc:sqlite:")) {
      return SQLITE;
    }
    return OTHER;
  }

  /** Appended to every CREATE TABLE. */
  String tableOptions() {
    return this == MARIADB ? " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" : "";
  }

  /**
   * A column for data of unbounded length (labels: 32 of up to 320 characters, URL-encoded, so up
   * to ~90 000 characters), which a VARCHAR(n) of a portable size does not hold.
   */
  String longText() {
    switch (this) {
      case MARIADB:
        return "MEDIUMTEXT"; // TEXT holds 64 KiB, fewer characters than that in utf8mb4
      case H2:
        return "CHARACTER VARYING(1000000)";
      default:
        return "TEXT";
    }
  }

  /** Driver settings for the pool. */
  void configure(HikariConfig pool, Durability durability) {
    if (this == SQLITE) {
      // sqlite-jdbc reads pragmas from the connection properties, for every connection.
      pool.addDataSourceProperty("journal_mode", "WAL");
      pool.addDataSourceProperty("synchronous", durability == Durability.FSYNC ? "FULL" : "NORMAL");
      pool.addDataSourceProperty("busy_timeout", "5000");
      pool.addDataSourceProperty("journal_size_limit", "67108864");
    } else if (this == MARIADB) {
      pool.addDataSourceProperty("rewriteBatchedStatements", "true");
    }
  }

  /** Run at the start of every write batch. */
  void beforeWrite(Connection c, Durability durability) throws SQLException {
    if (this == POSTGRESQL && durability == Durability.PROCESS) {
      try (Statement s = c.createStatement()) {
        s.execute("SET LOCAL synchronous_commit TO OFF");
      }
    }
  }

  /** Run after a write batch committed, before anyone hears of it. */
  void afterCommit(Connection c, Durability durability) throws SQLException {
    if (this == H2 && durability == Durability.FSYNC) {
      try (Statement s = c.createStatement()) {
        s.execute("CHECKPOINT SYNC");
      }
      c.commit();
    }
  }
}
