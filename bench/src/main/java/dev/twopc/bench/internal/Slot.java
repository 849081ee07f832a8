package dev.twopc.bench.internal;

/**
 * One transaction in flight, reused for the next one: it owns the request builders and the response
 * observers, so starting a transaction allocates little beyond the request messages. Not
 * thread-safe by itself: the driver hands a slot to one transaction at a time, and the callbacks of
 * that transaction are ordered by the slot's own atomic counters.
 */
public abstract class Slot {
  Driver driver;

  /** When the transaction started: the intended start in the open loop, the actual one closed. */
  long start;

  /** The next free slot (the open loop's pool). */
  Slot next;

  /** Starts one transaction; must lead to exactly one {@link #done(int)}, from any thread. */
  protected abstract void fire();

  /** Reports the end of the transaction started by the last {@link #fire()}. */
  protected final void done(int outcome) {
    driver.completed(this, outcome);
  }
}
