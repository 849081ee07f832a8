package dev.twopc.participant;

import static org.junit.jupiter.api.Assertions.fail;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;

/**
 * The store matrix of the SDK's store tests: the embedded SQLite store, and PostgreSQL and MariaDB
 * given as the participant's DataSource, each test in its own schema or database that {@link
 * #close()} drops. A server that cannot be reached skips the test with a one-line reason, unless
 * the environment variable {@code CI} is set, where it fails it.
 */
final class TestStore implements AutoCloseable {
  /** A database of the matrix. */
  enum Kind {
    SQLITE,
    POSTGRESQL,
    MARIADB
  }

  static final String POSTGRES_URL = "jdbc:postgresql://127.0.0.1:5432/test";
  static final String MARIADB_SERVER = "jdbc:mariadb://127.0.0.1:3306/";

  private final Kind kind;
  private final Path dir;
  private final String schema;
  private final HikariDataSource pool;

  private TestStore(Kind kind, Path dir, String schema, HikariDataSource pool) {
    this.kind = kind;
    this.dir = dir;
    this.schema = schema;
    this.pool = pool;
  }

  /** For {@code @MethodSource}: every database of the matrix. */
  static Stream<Kind> kinds() {
    return Stream.of(Kind.values());
  }

  /** Opens a fresh store; the embedded one lives under {@code dir}. */
  static TestStore open(Kind kind, Path dir) throws SQLException {
    String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    return switch (kind) {
      case SQLITE -> new TestStore(kind, dir, null, null);
      case POSTGRESQL -> {
        try (Connection c = admin(POSTGRES_URL + "?connectTimeout=3", "postgres", "PostgreSQL");
            Statement s = c.createStatement()) {
          s.execute("CREATE SCHEMA " + schema);
        }
        yield new TestStore(
            kind, dir, schema, pool(POSTGRES_URL + "?currentSchema=" + schema, "postgres", schema));
      }
      case MARIADB -> {
        try (Connection c = admin(MARIADB_SERVER + "test?connectTimeout=3000", "root", "MariaDB");
            Statement s = c.createStatement()) {
          s.execute("CREATE DATABASE " + schema + " CHARACTER SET utf8mb4");
        }
        yield new TestStore(kind, dir, schema, pool(MARIADB_SERVER + schema, "root", schema));
      }
    };
  }

  private static Connection admin(String url, String user, String what) throws SQLException {
    try {
      return DriverManager.getConnection(url, user, "");
    } catch (SQLException e) {
      unavailable(what + " not reachable at " + url + ": " + e.getMessage());
      throw e;
    }
  }

  /** Skips the calling test, or fails it where {@code CI} is set. */
  static void unavailable(String reason) {
    if (System.getenv("CI") != null) {
      fail(reason + " (CI is set, so the store matrix must be complete)");
    }
    Assumptions.assumeTrue(false, reason);
  }

  private static HikariDataSource pool(String url, String user, String name) {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(url);
    hc.setUsername(user);
    hc.setPassword("");
    hc.setAutoCommit(false);
    // More than the prepares a test runs at once: each holds a connection through its lock waits.
    hc.setMaximumPoolSize(8);
    hc.setPoolName(name);
    return new HikariDataSource(hc);
  }

  Kind kind() {
    return kind;
  }

  /** Points {@code b} at this store: its data directory, or its DataSource. */
  Participant.Builder configure(Participant.Builder b) {
    return kind == Kind.SQLITE ? b.dataDirectory(dir) : b.dataSource(pool);
  }

  /** Reads the business tables of participant {@code name} (configured by this store). */
  BusinessDb business(String name) {
    return kind == Kind.SQLITE ? BusinessDb.embedded(dir, name) : BusinessDb.of(pool);
  }

  DataSource dataSource() {
    return pool;
  }

  @Override
  public void close() throws SQLException {
    if (pool == null) {
      return;
    }
    pool.close();
    String drop =
        kind == Kind.POSTGRESQL ? "DROP SCHEMA " + schema + " CASCADE" : "DROP DATABASE " + schema;
    String url = kind == Kind.POSTGRESQL ? POSTGRES_URL : MARIADB_SERVER + "test";
    try (Connection c =
            DriverManager.getConnection(url, kind == Kind.POSTGRESQL ? "postgres" : "root", "");
        Statement s = c.createStatement()) {
      s.execute(drop);
    }
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase(Locale.ROOT);
  }
}
