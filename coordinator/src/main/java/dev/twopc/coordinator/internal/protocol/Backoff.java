package dev.twopc.coordinator.internal.protocol;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with a cap and ±20 % jitter, so retries of many branches spread out. */
record Backoff(Duration base, Duration cap) {

  /** The delay before attempt {@code attempt + 1}, after {@code attempt} failed ones. */
  long delayMillis(int attempt) {
    long baseMs = Math.max(1, base.toMillis());
    int shift = Math.min(Math.max(attempt - 1, 0), 30);
    long raw = Math.min(cap.toMillis(), baseMs << shift);
    double jitter = 0.8 + 0.4 * ThreadLocalRandom.current().nextDouble();
    return Math.max(1, (long) (raw * jitter));
  }
}
