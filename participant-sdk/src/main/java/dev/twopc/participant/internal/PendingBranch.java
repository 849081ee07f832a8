package dev.twopc.participant.internal;

import java.time.Instant;

/** A prepared branch in memory: its record plus the in-doubt bookkeeping of this process. */
final class PendingBranch {
  final PreparedRecord record;
  /** When to ask the coordinator next. */
  volatile Instant nextQueryAt;
  volatile int outcomeQueries;
  volatile int failures;
  volatile String lastError = "";

  PendingBranch(PreparedRecord record, Instant nextQueryAt) {
    this.record = record;
    this.nextQueryAt = nextQueryAt;
  }
}
