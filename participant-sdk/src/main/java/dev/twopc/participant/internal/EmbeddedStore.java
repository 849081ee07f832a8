package dev.twopc.participant.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The SQLite file database a participant uses when it is given no DataSource: WAL mode, one
 * connection, a bounded log. Closing it stops the checkpoints and closes the pool.
 */
public final class EmbeddedStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedStore.class);

  /** How long a connection waits for SQLite's write lock held by another process. */
  static final int BUSY_TIMEOUT_MS = 10_000;

  /** How long a local transaction waits for the single connection (the pool's timeout). */
  public static final Duration CONNECTION_WAIT = Duration.ofSeconds(30);

  /** What a checkpoint truncates the WAL file back to, at most. */
  static final long JOURNAL_SIZE_LIMIT = 16L * 1024 * 1024;

  private final Path file;
  private final HikariDataSource pool;
  private volatile ScheduledFuture<?> checkpoints;

  private EmbeddedStore(Path file, HikariDataSource pool) {
    this.file = file;
    this.pool = pool;
  }

  /**
   * Opens (creating if absent) {@code <dir>/<name>.db} and schedules a {@code
   * wal_checkpoint(TRUNCATE)} on {@code scheduler} every {@code checkpointInterval}.
   */
  public static EmbeddedStore open(
      Path dir,
      String name,
      boolean fullSync,
      Duration checkpointInterval,
      ScheduledExecutorService scheduler) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data directory " + dir, e);
    }
    Path file = dir.resolve(name + ".db").toAbsolutePath();
    SQLiteConfig sc = new SQLiteConfig();
    sc.setJournalMode(SQLiteConfig.JournalMode.WAL);
    // FULL: the WAL is fsynced at every commit, so a commit that returned survives power loss,
    // not only a killed process. A YES vote rests on that commit.
    sc.setSynchronous(
        fullSync ? SQLiteConfig.SynchronousMode.FULL : SQLiteConfig.SynchronousMode.NORMAL);
    sc.setBusyTimeout(BUSY_TIMEOUT_MS);
    sc.setJournalSizeLimit((int) JOURNAL_SIZE_LIMIT);
    SQLiteDataSource sqlite = new SQLiteDataSource(sc);
    sqlite.setUrl("jdbc:sqlite:" + file);

    HikariConfig hc = new HikariConfig();
    hc.setDataSource(sqlite);
    hc.setPoolName("twopc-" + name);
    // SQLite has one writer per database: one connection funnels every write instead of letting
    // connections queue on the file lock (busy_timeout covers other processes only).
    hc.setMaximumPoolSize(1);
    hc.setMinimumIdle(1);
    hc.setAutoCommit(false);
    hc.setConnectionTimeout(CONNECTION_WAIT.toMillis());
    HikariDataSource pool = new HikariDataSource(hc);
    EmbeddedStore store = new EmbeddedStore(file, pool);
    try {
      long ms = checkpointInterval.toMillis();
      store.checkpoints =
          scheduler.scheduleWithFixedDelay(store::checkpoint, ms, ms, TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    return store;
  }

  /** The pool of the store's single connection. */
  public DataSource dataSource() {
    return pool;
  }

  public Path file() {
    return file;
  }

  /**
   * Copies the WAL into the database and truncates it to zero bytes. A busy database (a reader of
   * another process) makes it a partial checkpoint, retried at the next interval.
   */
  void checkpoint() {
    try (Connection c = pool.getConnection()) {
      // A checkpoint cannot run inside the connection's own transaction.
      c.setAutoCommit(true);
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
        if (rs.next() && rs.getInt(1) != 0) {
          log.debug(
              "event=checkpoint_busy file={} wal_pages={} checkpointed={}",
              file,
              rs.getInt(2),
              rs.getInt(3));
        }
      } finally {
        c.setAutoCommit(false);
      }
    } catch (SQLException | RuntimeException e) {
      if (!pool.isClosed()) {
        log.warn("event=checkpoint_failed file={}", file, e);
      }
    }
  }

  @Override
  public void close() {
    ScheduledFuture<?> task = checkpoints;
    if (task != null) {
      task.cancel(false);
    }
    pool.close();
  }
}
