package dev.twopc.participant.internal;

import com.zaxxer.hikari.HikariDataSource;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Savepoint;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group commit on a store with a single connection (the embedded SQLite): the local transactions
 * that arrive together run one after another in one database transaction, each inside its own
 * savepoint, and one COMMIT (one fsync) makes them all durable.
 *
 * <p>A member whose work fails, or that votes NO, rolls back to its savepoint and touches no other
 * member's work. A COMMIT that fails fails every member of its batch, as a failed commit of its own
 * would have failed each; a savepoint that cannot be released or rolled back to (the database ended
 * the transaction itself) fails the batch too, so no member is told its work is durable when it is
 * not.
 *
 * <p>Members take the connection in turn. The one that gives it back with nobody waiting for it
 * commits the batch, and those that gave it back before wait for that commit: a batch grows while
 * the previous one is syncing, and a lone transaction commits at once, without a delay. A batch
 * stops growing after {@link #MAX_BATCH} sessions or {@link #MAX_BATCH_WAIT_NANOS}. The connection
 * goes back to its pool after each batch, so the store's other users (checkpoints, the
 * application's own queries) get their turn.
 */
final class GroupCommit {
  private static final Logger log = LoggerFactory.getLogger(GroupCommit.class);

  /**
   * A batch takes the connection at most this many times (members, readers, discarded work): a
   * steady stream cannot defer a commit, or the pool's other users, for long.
   */
  static final int MAX_BATCH = 512;

  /**
   * Nor is the connection handed on once the batch's first member has waited this long for its
   * commit: a member's answer waits for the sessions queued behind it about this long, plus the
   * session that has the connection when the time runs out (which is why a handler must not wait
   * for anything while it has the connection).
   */
  static final long MAX_BATCH_WAIT_NANOS = 25_000_000L;

  private final DataSource pool;
  private final long waitNanos;
  private final int maxSessions;
  private final long maxWaitNanos;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition released = lock.newCondition();

  /** Guarded by {@link #lock}: a member (or the committer) has the connection. */
  private boolean inUse;

  /** Guarded by {@link #lock}: members waiting for the connection. */
  private int waiting;

  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong committed = new AtomicLong();
  // Touched only by the thread that has the connection; handed over under the lock.
  private Connection connection;
  private Batch batch;

  /**
   * @param pool gives the single connection, with auto-commit off
   * @param wait how long a member waits for the connection before failing (the pool's own
   *     connection timeout plays this part without group commit)
   */
  GroupCommit(DataSource pool, Duration wait) {
    this(pool, wait, MAX_BATCH, MAX_BATCH_WAIT_NANOS);
  }

  /** With other bounds on a batch (tests). */
  GroupCommit(DataSource pool, Duration wait, int maxSessions, long maxWaitNanos) {
    this.pool = pool;
    this.waitNanos = wait.toNanos();
    this.maxSessions = maxSessions;
    this.maxWaitNanos = maxWaitNanos;
  }

  /**
   * A connection whose work is a member of the open batch: {@code commit()} returns once the batch
   * holding it is durable, {@code rollback()} undoes this member's work only and {@code close()}
   * without a commit discards it. The caller closes it.
   */
  Connection begin() throws SQLException {
    acquire();
    try {
      if (connection == null) {
        Connection c = pool.getConnection();
        try {
          if (c.getAutoCommit()) {
            c.setAutoCommit(false);
          }
        } catch (SQLException | RuntimeException | Error e) {
          c.close();
          throw e;
        }
        connection = c;
        batch = new Batch();
      }
      Savepoint sp;
      batch.sessions++;
      try {
        sp = connection.setSavepoint();
      } catch (SQLException | RuntimeException | Error e) {
        batch.fail(e);
        throw e;
      }
      return new Member(connection, batch, sp).proxy;
    } catch (SQLException | RuntimeException | Error e) {
      release(); // whatever failed, the connection is given back: a batch is never left held
      throw e;
    }
  }

  /** The COMMITs that made batches durable: one sync each. */
  long commits() {
    return commits.get();
  }

  /** The local transactions those COMMITs made durable. */
  long committed() {
    return committed.get();
  }

  /** Members waiting for the connection now (for tests). */
  int waiting() {
    lock.lock();
    try {
      return waiting;
    } finally {
      lock.unlock();
    }
  }

  private void acquire() throws SQLException {
    lock.lock();
    try {
      long deadline = System.nanoTime() + waitNanos;
      long nanos = waitNanos;
      boolean interrupted = Thread.interrupted();
      waiting++;
      try {
        while (inUse) {
          if (nanos <= 0) {
            throw new SQLTransientConnectionException(
                "the participant store's connection was"
                    + " not available within "
                    + Duration.ofNanos(waitNanos).toMillis()
                    + " ms",
                "08001");
          }
          // Not interruptible: a waiter that left on an interrupt could take a hand-over's
          // signal with it, and the batch would stay open with nobody to end it.
          try {
            released.awaitNanos(nanos);
          } catch (InterruptedException e) {
            interrupted = true;
          }
          nanos = deadline - System.nanoTime();
        }
      } finally {
        waiting--;
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
      inUse = true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Gives the connection back: to the next waiting member while the batch may still grow, otherwise
   * after ending the batch (commit, or rollback if it holds no work or has failed).
   */
  private void release() {
    lock.lock();
    try {
      Batch b = batch;
      boolean grow =
          b == null
              || (b.failure == null
                  && b.sessions < maxSessions
                  && (b.size == 0 || System.nanoTime() - b.firstJoined < maxWaitNanos));
      if (waiting > 0 && grow) {
        inUse = false;
        released.signal();
        return;
      }
    } finally {
      lock.unlock();
    }
    try {
      endBatch();
    } finally {
      lock.lock();
      try {
        inUse = false;
        released.signal();
      } finally {
        lock.unlock();
      }
    }
  }

  private void endBatch() {
    Connection c = connection;
    Batch b = batch;
    connection = null;
    batch = null;
    if (c == null) {
      return;
    }
    SQLException failure = b.failure;
    boolean commit = failure == null && b.size > 0;
    Error fatal = null;
    if (commit) {
      // Until the COMMIT returns, the batch has failed: whatever else it throws (an Error, a
      // driver's RuntimeException) no member may be told its work is durable.
      failure = new SQLException("the store's COMMIT did not complete", "58000");
    }
    try {
      if (commit) {
        c.commit();
        failure = null;
        commits.incrementAndGet();
        committed.addAndGet(b.size);
      } else {
        c.rollback();
      }
    } catch (SQLException | RuntimeException | Error e) {
      if (failure == null || commit) {
        failure =
            e instanceof SQLException sql
                ? sql
                : new SQLException("the store's COMMIT did not complete: " + e, "58000", e);
      }
      log.warn("event=store_batch_failed members={}", b.size, e);
      try {
        c.rollback();
      } catch (SQLException | RuntimeException again) {
        e.addSuppressed(again);
      }
      if (e instanceof Error err) {
        fatal = err;
      }
    } finally {
      try {
        giveBack(c, failure != null);
      } finally {
        b.end(failure); // the members wait for this, whatever giving the connection back did
      }
    }
    if (fatal != null) {
      throw fatal;
    }
  }

  /**
   * Returns the connection to its pool; after a failed batch the pool drops it instead, so the next
   * batch starts on a fresh connection, not on one whose transaction state is unknown (a database
   * that ended the transaction itself leaves the driver believing it is still open).
   */
  private void giveBack(Connection c, boolean failed) {
    try {
      if (failed && pool instanceof HikariDataSource hikari) {
        hikari.evictConnection(c);
      } else {
        c.close();
      }
    } catch (SQLException | RuntimeException e) {
      log.warn("event=store_connection_close_failed", e);
    }
  }

  /** The members whose work is in one database transaction, and that transaction's end. */
  private static final class Batch {
    private final CountDownLatch ended = new CountDownLatch(1);

    /** Members that released their savepoint into the batch (the holder's thread only). */
    private int size;

    /** Times the connection was taken in this batch (the holder's thread only). */
    private int sessions;

    /** When the first member joined (the holder's thread only). */
    private long firstJoined;

    void join() {
      if (size++ == 0) {
        firstJoined = System.nanoTime();
      }
    }

    /** Set by the holder before {@link #ended}; read by the members after it. */
    private volatile SQLException failure;

    void fail(Throwable e) {
      if (failure == null) {
        failure =
            e instanceof SQLException sql
                ? sql
                : new SQLException("the store's local transaction failed", "58000", e);
      }
    }

    void end(SQLException f) {
      failure = f;
      ended.countDown();
    }

    /** Waits for the batch's commit, however long the sync takes: it decides the answer. */
    void awaitDurable() throws SQLException {
      boolean interrupted = false;
      while (true) {
        try {
          ended.await();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      SQLException f = failure;
      if (f != null) {
        throw new SQLException(
            "the store's group commit failed: " + f.getMessage(), f.getSQLState(), f);
      }
    }
  }

  /** One member's view of the shared connection. */
  private final class Member {
    private final Connection shared;
    private final Batch batch;
    private final Savepoint savepoint;
    private final Connection proxy;

    /** Whether this member still has the connection (it has neither committed nor closed). */
    private boolean active = true;

    Member(Connection shared, Batch batch, Savepoint savepoint) {
      this.shared = shared;
      this.batch = batch;
      this.savepoint = savepoint;
      this.proxy =
          (Connection)
              Proxy.newProxyInstance(
                  Connection.class.getClassLoader(),
                  new Class<?>[] {Connection.class},
                  this::invoke);
    }

    private Object invoke(Object self, Method m, Object[] args) throws Throwable {
      boolean noArgs = args == null || args.length == 0;
      switch (m.getName()) {
        case "equals":
          return self == args[0];
        case "hashCode":
          return System.identityHashCode(self);
        case "toString":
          return "GroupCommit.Member[" + (active ? "active" : "ended") + "]";
        case "isClosed":
          return !active;
        case "getAutoCommit":
          return false;
        case "commit":
          commit();
          return null;
        case "rollback":
          if (noArgs) {
            rollback();
            return null;
          }
          break;
        case "close":
          close();
          return null;
        case "setAutoCommit":
          if (!(Boolean) args[0]) {
            return null;
          }
          throw new SQLException(
              "a branch's connection stays in its local transaction: the SDK" + " commits it",
              "25000");
        case "abort":
          throw new SQLException(
              "a branch's connection cannot be aborted: the SDK ends it", "25000");
        default:
          break;
      }
      if (!active) {
        throw new SQLException("the local transaction on this connection has ended", "08003");
      }
      try {
        return m.invoke(shared, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }

    private void commit() throws SQLException {
      if (!active) {
        throw new SQLException("the local transaction on this connection has ended", "08003");
      }
      active = false;
      try {
        shared.releaseSavepoint(savepoint);
        batch.join();
      } catch (SQLException | RuntimeException | Error e) {
        batch.fail(e);
        throw e;
      } finally {
        release();
      }
      batch.awaitDurable();
    }

    private void rollback() throws SQLException {
      if (!active) {
        return; // its work was committed or discarded already: nothing of its own is left
      }
      try {
        shared.rollback(savepoint);
      } catch (SQLException | RuntimeException e) {
        batch.fail(e);
        throw e;
      }
    }

    private void close() throws SQLException {
      if (!active) {
        return;
      }
      active = false;
      try {
        shared.rollback(savepoint);
        shared.releaseSavepoint(savepoint);
      } catch (SQLException | RuntimeException e) {
        batch.fail(e);
        throw e;
      } finally {
        release();
      }
    }
  }
}
