package dev.twopc.participant.internal;

import dev.twopc.participant.LockUnavailableException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Per-key locks owned by transactions: exclusive or shared, re-entrant, with a bounded wait. A
 * waiter gives up at its bound, so a deadlock between two preparing transactions lasts at most the
 * lock wait and ends in a NO vote. Locks are released all at once per transaction.
 */
public final class LockManager {
  /** Lock modes. */
  public enum Mode {
    SHARED('S'),
    EXCLUSIVE('X');

    final char code;

    Mode(char code) {
      this.code = code;
    }

    static Mode of(char code) {
      for (Mode m : values()) {
        if (m.code == code) {
          return m;
        }
      }
      throw new IllegalArgumentException("unknown lock mode " + code);
    }
  }

  private static final class Holders {
    String exclusive;
    final Set<String> shared = new HashSet<>();

    boolean isFree() {
      return exclusive == null && shared.isEmpty();
    }

    boolean grantable(String tx, Mode mode) {
      if (exclusive != null && !exclusive.equals(tx)) {
        return false;
      }
      if (mode == Mode.SHARED) {
        return true;
      }
      return shared.isEmpty() || (shared.size() == 1 && shared.contains(tx));
    }

    String describe() {
      return exclusive != null ? exclusive : String.join(",", shared);
    }
  }

  private final Object monitor = new Object();
  private final java.util.concurrent.atomic.LongAdder waits =
      new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder timeouts =
      new java.util.concurrent.atomic.LongAdder();
  private final Map<String, Holders> byKey = new HashMap<>();
  private final Map<String, Map<String, Mode>> byTx = new HashMap<>();

  /**
   * Takes the lock, waiting at most {@code maxWaitNanos}.
   *
   * @throws LockUnavailableException when the wait is over (or the thread is interrupted, whose
   *     flag is restored)
   */
  public void acquire(String tx, String key, Mode mode, long maxWaitNanos) {
    long deadline = System.nanoTime() + Math.max(0, maxWaitNanos);
    boolean waited = false;
    synchronized (monitor) {
      while (true) {
        Holders h = byKey.computeIfAbsent(key, k -> new Holders());
        if (h.grantable(tx, mode)) {
          grant(h, tx, key, mode);
          return;
        }
        if (!waited) {
          waited = true;
          waits.increment();
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          timeouts.increment();
          throw new LockUnavailableException(
              key, "lock wait timed out: key=" + key + " held by tx=" + h.describe());
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(monitor, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          if (h.isFree()) {
            byKey.remove(key);
          }
          throw new LockUnavailableException(key, "interrupted waiting for lock: key=" + key);
        }
      }
    }
  }

  /**
   * Re-takes a lock recorded with a prepared branch, at recovery. Never waits: recorded locks were
   * granted before the crash, so they are compatible with each other.
   *
   * @return false if the key is held incompatibly (a corrupt record); the lock is taken anyway
   */
  public boolean restore(String tx, String key, Mode mode) {
    synchronized (monitor) {
      Holders h = byKey.computeIfAbsent(key, k -> new Holders());
      boolean ok = h.grantable(tx, mode);
      grant(h, tx, key, mode);
      return ok;
    }
  }

  private void grant(Holders h, String tx, String key, Mode mode) {
    Map<String, Mode> held = byTx.computeIfAbsent(tx, t -> new LinkedHashMap<>());
    if (mode == Mode.EXCLUSIVE) {
      h.exclusive = tx;
      h.shared.remove(tx);
      held.put(key, Mode.EXCLUSIVE);
    } else if (!tx.equals(h.exclusive)) {
      h.shared.add(tx);
      held.putIfAbsent(key, Mode.SHARED);
    }
  }

  /** Releases every lock of {@code tx}; a no-op if it holds none. */
  /** Lock requests that had to wait, since start. */
  public long waits() {
    return waits.sum();
  }

  /** Lock waits that ran out, since start. */
  public long timeouts() {
    return timeouts.sum();
  }

  public void releaseAll(String tx) {
    synchronized (monitor) {
      Map<String, Mode> held = byTx.remove(tx);
      if (held == null) {
        return;
      }
      for (String key : held.keySet()) {
        Holders h = byKey.get(key);
        if (h == null) {
          continue;
        }
        if (tx.equals(h.exclusive)) {
          h.exclusive = null;
        }
        h.shared.remove(tx);
        if (h.isFree()) {
          byKey.remove(key);
        }
      }
      monitor.notifyAll();
    }
  }

  /** The locks {@code tx} holds, in the order taken. */
  public Map<String, Mode> heldBy(String tx) {
    synchronized (monitor) {
      Map<String, Mode> held = byTx.get(tx);
      return held == null ? Map.of() : new LinkedHashMap<>(held);
    }
  }

  /** Every transaction holding some lock. */
  public Set<String> owners() {
    synchronized (monitor) {
      return new HashSet<>(byTx.keySet());
    }
  }

  /** The transactions holding {@code key}, exclusive holder first. */
  public List<String> holders(String key) {
    synchronized (monitor) {
      Holders h = byKey.get(key);
      List<String> out = new ArrayList<>();
      if (h != null) {
        if (h.exclusive != null) {
          out.add(h.exclusive);
        }
        out.addAll(h.shared);
      }
      return out;
    }
  }
}
