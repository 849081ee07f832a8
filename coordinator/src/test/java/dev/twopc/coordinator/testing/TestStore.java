package dev.twopc.coordinator.testing;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A fresh, empty decision-log store of one {@link StoreKind} for one test: a temporary directory
 * (RocksDB), a temporary file (SQLite), its own schema (PostgreSQL) or database (MariaDB), all
 * removed again on {@link #close()}. A server that is not reachable skips the test, or fails it
 * when the environment variable {@code CI} is set (CI must not go green by skipping).
 */
public final class TestStore implements AutoCloseable {
  static final String PG_ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/test";
  static final String PG_USER = "postgres";
  static final String MARIADB_ADMIN_URL = "jdbc:mariadb://127.0.0.1:3306/";
  static final String MARIADB_USER = "root";

  /** Per server: null if reachable, else why not (asked once per JVM). */
  private static final Map<StoreKind, String> UNREACHABLE = new ConcurrentHashMap<>();

  private final StoreKind kind;
  private final Path tempDir;
  private final Path dataDir;
  private final String jdbcUrl;
  private final String user;
  private final String password;
  private final String dropSql;

  private TestStore(
      StoreKind kind,
      Path tempDir,
      Path dataDir,
      String jdbcUrl,
      String user,
      String password,
      String dropSql) {
    this.kind = kind;
    this.tempDir = tempDir;
    this.dataDir = dataDir;
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.dropSql = dropSql;
  }

  /** Makes a fresh store, or aborts (fails under CI) the test if its server is not reachable. */
  public static TestStore create(StoreKind kind) throws IOException {
    requireReachable(kind);
    Path tmp = Files.createTempDirectory("twopc-" + kind.name().toLowerCase(Locale.ROOT) + "-");
    String name = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    try {
      switch (kind) {
        case ROCKSDB:
          return new TestStore(kind, tmp, tmp.resolve("data"), null, null, null, null);
        case SQLITE:
          return new TestStore(
              kind,
              tmp,
              tmp.resolve("unused"),
              "jdbc:sqlite:" + tmp.resolve("log.db"),
              "",
              "",
              null);
        case POSTGRESQL:
          admin(PG_ADMIN_URL, PG_USER, "CREATE SCHEMA " + name);
          return new TestStore(
              kind,
              tmp,
              tmp.resolve("unused"),
              PG_ADMIN_URL + "?currentSchema=" + name,
              PG_USER,
              "",
              "DROP SCHEMA IF EXISTS " + name + " CASCADE");
        case MARIADB:
          admin(
              MARIADB_ADMIN_URL,
              MARIADB_USER,
              "CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
          return new TestStore(
              kind,
              tmp,
              tmp.resolve("unused"),
              MARIADB_ADMIN_URL + name,
              MARIADB_USER,
              "",
              "DROP DATABASE IF EXISTS " + name);
        default:
          throw new IllegalArgumentException(kind.name());
      }
    } catch (SQLException e) {
      deleteTree(tmp);
      throw new IOException("cannot create a " + kind + " test store: " + e.getMessage(), e);
    }
  }

  private static void requireReachable(StoreKind kind) {
    if (kind == StoreKind.ROCKSDB || kind == StoreKind.SQLITE) {
      return;
    }
    String why =
        UNREACHABLE.computeIfAbsent(
            kind,
            k -> {
              try {
                if (k == StoreKind.POSTGRESQL) {
                  admin(PG_ADMIN_URL + "?connectTimeout=3", PG_USER, "SELECT 1");
                } else {
                  admin(MARIADB_ADMIN_URL + "?connectTimeout=3000", MARIADB_USER, "SELECT 1");
                }
                return "";
              } catch (SQLException e) {
                String m = String.valueOf(e.getMessage());
                int nl = m.indexOf('\n');
                return (nl < 0 ? m : m.substring(0, nl));
              }
            });
    if (!why.isEmpty()) {
      String where = kind == StoreKind.POSTGRESQL ? "127.0.0.1:5432" : "127.0.0.1:3306";
      String msg = kind + " is not reachable at " + where + ": " + why;
      if (System.getenv("CI") != null) {
        Assertions.fail(msg + " (CI is set: a missing server is a failure, not a skip)");
      }
      Assumptions.abort(msg);
    }
  }

  private static void admin(String url, String user, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(url, user, "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  public StoreKind kind() {
    return kind;
  }

  /** Null for RocksDB. */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  /**
   * The coordinator's data directory: RocksDB lives here; on PostgreSQL it keeps the node id, so
   * every coordinator started from {@link #apply} is the same node, restarted (give {@code nodeId}
   * to run several at once).
   */
  public Path dataDir() {
    return dataDir;
  }

  /** Points a coordinator config at this store. */
  public CoordinatorConfig.Builder apply(CoordinatorConfig.Builder b) {
    b.dataDir(dataDir);
    if (jdbcUrl != null) {
      b.jdbcUrl(jdbcUrl).jdbcUser(user).jdbcPassword(password);
    }
    return b;
  }

  /** A minimal config for this store, for opening a {@code LogStore} directly. */
  public CoordinatorConfig config(Durability durability) {
    return apply(CoordinatorConfig.builder().durability(durability)).build();
  }

  /** The arguments that tell {@link ForkedCoordinatorMain} where the log is. */
  List<String> forkArgs() {
    return jdbcUrl == null
        ? List.of(dataDir.toString(), "", "", "")
        : List.of(dataDir.toString(), jdbcUrl, user, password);
  }

  @Override
  public String toString() {
    return kind + (jdbcUrl == null ? " " + dataDir : " " + jdbcUrl);
  }

  /** Drops the schema or database and deletes the temporary files. */
  @Override
  public void close() {
    try {
      if (dropSql != null) {
        admin(kind == StoreKind.POSTGRESQL ? PG_ADMIN_URL : MARIADB_ADMIN_URL, user, dropSql);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot drop the " + kind + " test store: " + e.getMessage(), e);
    } finally {
      deleteTree(tempDir);
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
