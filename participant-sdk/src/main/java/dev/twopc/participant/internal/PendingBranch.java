package dev.twopc.participant.internal;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

/** A prepared branch in memory: its record plus the in-doubt bookkeeping of this process. */
final class PendingBranch {
  final PreparedRecord record;

  /**
   * The commit of the prepared record failed, so it may or may not be durable: no YES may be given
   * for it; only the coordinator's outcome settles it.
   */
  final boolean uncertain;

  /** When to ask the coordinator next. */
  volatile Instant nextQueryAt;

  final AtomicInteger outcomeQueries = new AtomicInteger();
  final AtomicInteger failures = new AtomicInteger();
  volatile String lastError = "";

  PendingBranch(PreparedRecord record, Instant nextQueryAt, boolean uncertain) {
    this.record = record;
    this.uncertain = uncertain;
    this.nextQueryAt = nextQueryAt;
  }
}
