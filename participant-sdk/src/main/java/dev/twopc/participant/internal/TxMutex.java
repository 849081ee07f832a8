package dev.twopc.participant.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serializes the work on one transaction id (duplicate and concurrent Prepare, Commit, Rollback,
 * recovery) while letting different transactions run in parallel. Entries live only while used.
 */
final class TxMutex {
  private static final class Entry {
    final ReentrantLock lock = new ReentrantLock();
    int users;
  }

  /** The body run under the mutex. */
  interface Body<T, E extends Exception> {
    T run() throws E;
  }

  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

  <T, E extends Exception> T with(String txId, Body<T, E> body) throws E {
    Entry e =
        entries.compute(
            txId,
            (k, v) -> {
              Entry entry = v == null ? new Entry() : v;
              entry.users++;
              return entry;
            });
    e.lock.lock();
    try {
      return body.run();
    } finally {
      e.lock.unlock();
      entries.computeIfPresent(txId, (k, v) -> --v.users == 0 ? null : v);
    }
  }
}
