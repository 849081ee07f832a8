package dev.twopc.participant.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with a cap and some jitter, so many participants do not retry in step. */
public final class Backoff {
  private final Duration base;
  private final Duration cap;

  public Backoff(Duration base, Duration cap) {
    this.base = base;
    this.cap = cap;
  }

  /** The delay before attempt {@code failures + 1}, after {@code failures} failures (>= 1). */
  public Duration delay(int failures) {
    long baseMs = Math.max(1, base.toMillis());
    int shift = Math.min(Math.max(failures - 1, 0), 30);
    long ms = Math.min(cap.toMillis(), baseMs << shift);
    long jitter = ms / 5 == 0 ? 0 : ThreadLocalRandom.current().nextLong(ms / 5 + 1);
    return Duration.ofMillis(Math.min(cap.toMillis(), ms - ms / 10 + jitter));
  }
}
