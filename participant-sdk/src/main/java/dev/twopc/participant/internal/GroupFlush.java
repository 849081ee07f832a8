package dev.twopc.participant.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Group commit for the embedded H2 store. H2's own durable mode ({@code WRITE_DELAY=0}) writes
 * the store once per commit; here commits are left to H2's background writer, and a branch that
 * is about to answer makes the store durable with one {@code CHECKPOINT}, which covers every
 * commit made before it started. Concurrent branches share that write: the first becomes the
 * leader and runs it, the others wait for it (or for the next one, if theirs came too late).
 *
 * <p>{@code CHECKPOINT} writes the store without an fsync: like {@code WRITE_DELAY=0}, a commit
 * survives the process being killed, not the machine losing power.
 */
final class GroupFlush {
  private final Object lock = new Object();
  private long requested;
  private long flushed;
  private boolean flushing;

  /**
   * Returns once everything the caller committed before calling is written to the store.
   *
   * @param c a connection of the same database, used if this caller leads the write
   */
  void await(Connection c) throws SQLException {
    long ticket;
    synchronized (lock) {
      ticket = ++requested;
    }
    while (true) {
      long target;
      synchronized (lock) {
        while (flushing && flushed < ticket) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for the store to be written", e);
          }
        }
        if (flushed >= ticket) {
          return;
        }
        flushing = true;
        target = requested; // every ticket taken so far committed before this write starts
      }
      boolean written = false;
      try (Statement s = c.createStatement()) {
        s.execute("CHECKPOINT");
        written = true;
      } finally {
        synchronized (lock) {
          flushing = false;
          if (written) {
            flushed = Math.max(flushed, target);
          }
          lock.notifyAll();
        }
      }
    }
  }
}
