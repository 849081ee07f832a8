package dev.twopc.coordinator;

import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named places where a test can make the coordinator halt the JVM at once (no shutdown hooks, no
 * flush), the way a {@code kill -9} or a power cut would. Used by the crash tests, which run the
 * coordinator in a forked JVM; {@link #none()} in production.
 */
public final class CrashPoints {
  /** The places. */
  public enum Point {
    /** All branches voted YES; the COMMIT decision is about to be written. */
    BEFORE_DECISION_WRITE,
    /** The COMMIT decision write returned; nobody has been told yet. */
    AFTER_DECISION_WRITE,
    /** The k-th phase-2 commit acknowledgement of the process arrived (k = the count given). */
    AFTER_COMMIT_ACK
  }

  private static final CrashPoints NONE = new CrashPoints(null, 0);

  private final Point point;
  private final int afterHits;
  private final AtomicInteger hits = new AtomicInteger();

  private CrashPoints(Point point, int afterHits) {
    this.point = point;
    this.afterHits = afterHits;
  }

  public static CrashPoints none() {
    return NONE;
  }

  /** Halts the JVM the {@code hit}-th time {@code point} is reached (1 = the first time). */
  public static CrashPoints haltAt(Point point, int hit) {
    Objects.requireNonNull(point, "point");
    if (hit < 1) {
      throw new IllegalArgumentException("hit must be >= 1, was " + hit);
    }
    return new CrashPoints(point, hit);
  }

  /** Parses {@code NAME} or {@code NAME:K}, e.g. {@code after_commit_ack:3}; empty means none. */
  public static CrashPoints parse(String spec) {
    if (spec == null || spec.isBlank()) {
      return none();
    }
    String[] parts = spec.trim().split(":", 2);
    Point p = Point.valueOf(parts[0].toUpperCase(Locale.ROOT));
    return haltAt(p, parts.length == 2 ? Integer.parseInt(parts[1]) : 1);
  }

  /** Called at {@code at}; halts the process if this is the configured point and hit. */
  public void reached(Point at) {
    if (point == at && hits.incrementAndGet() == afterHits) {
      System.err.println("crash point " + at + " reached: halting");
      System.err.flush();
      Runtime.getRuntime().halt(137);
    }
  }
}
