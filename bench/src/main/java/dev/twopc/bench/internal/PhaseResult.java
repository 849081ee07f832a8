package dev.twopc.bench.internal;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one workload measured, over one or more measured windows (rounds are merged).
 *
 * <p>{@code counts} and {@code latency} cover the transactions that <em>started</em> inside a
 * measured window (in the open loop: whose intended start was inside it), including those that
 * finished after it; {@code committedInWindow} counts the commits that <em>finished</em> inside it,
 * which is what throughput is made of (so an open loop the system cannot keep up with shows a
 * throughput below the offered rate).
 */
public final class PhaseResult {
  final String name;
  final Histogram latencyMicros;
  final long[] counts = new long[Outcome.COUNT];
  long committedInWindow;

  /** Of {@link #committedInWindow}, those that finished in the window's second half. */
  long committedSecondHalf;

  long notSent;
  long windowNanos;

  /** CPU nanoseconds used by each process during the measured windows. */
  final Map<String, Long> cpuNanos = new LinkedHashMap<>();

  /** After each phase: how long until the participants had nothing prepared left. */
  Duration settle = Duration.ZERO;

  PhaseResult(String name) {
    this.name = name;
    this.latencyMicros = new Histogram(Driver.HIGHEST_MICROS, 3);
  }

  /** Adds another round of the same workload. */
  public void add(PhaseResult r) {
    latencyMicros.add(r.latencyMicros);
    for (int i = 0; i < counts.length; i++) {
      counts[i] += r.counts[i];
    }
    committedInWindow += r.committedInWindow;
    committedSecondHalf += r.committedSecondHalf;
    notSent += r.notSent;
    windowNanos += r.windowNanos;
    r.cpuNanos.forEach((k, v) -> cpuNanos.merge(k, v, Long::sum));
    settle = settle.compareTo(r.settle) >= 0 ? settle : r.settle;
  }

  public String name() {
    return name;
  }

  public double throughput() {
    return windowNanos == 0 ? 0 : committedInWindow * 1e9 / windowNanos;
  }

  /**
   * Commits that finished in the second half of the measured window over those of the first (1 for
   * a steady rate; NaN when the first half committed nothing). Well above 1 means the rate was
   * still rising: the warm-up was too short for the JIT (or caches) to settle.
   */
  public double secondHalfRatio() {
    long first = committedInWindow - committedSecondHalf;
    return first <= 0 ? Double.NaN : (double) committedSecondHalf / first;
  }

  /** True when the second half committed over 10 % more than the first. */
  public boolean stillRising() {
    return secondHalfRatio() > STILL_RISING;
  }

  static final double STILL_RISING = 1.10;

  public long count(int outcome) {
    return counts[outcome];
  }

  public long errors() {
    long n = 0;
    for (int i = 0; i < counts.length; i++) {
      n += Outcome.isError(i) ? counts[i] : 0;
    }
    return n;
  }

  /** Errors by gRPC status code name, only the codes seen. */
  public Map<String, Long> errorsByCode() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (int i = 0; i < counts.length; i++) {
      if (Outcome.isError(i) && counts[i] > 0) {
        m.put(Outcome.codeName(i), counts[i]);
      }
    }
    return m;
  }

  public long transactions() {
    long n = 0;
    for (long c : counts) {
      n += c;
    }
    return n;
  }

  /** A latency percentile in milliseconds (0 when nothing was measured). */
  public double percentileMs(double p) {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getValueAtPercentile(p) / 1000.0;
  }

  public double maxMs() {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getMaxValue() / 1000.0;
  }

  public double meanMs() {
    return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getMean() / 1000.0;
  }

  public long notSent() {
    return notSent;
  }

  public double windowSeconds() {
    return windowNanos / 1e9;
  }

  /** Cores kept busy by each process during the measured windows (CPU time / wall time). */
  public Map<String, Double> cpuCores() {
    Map<String, Double> m = new LinkedHashMap<>();
    cpuNanos.forEach((k, v) -> m.put(k, windowNanos == 0 ? 0 : (double) v / windowNanos));
    return m;
  }

  /** Records how long the participants took to have nothing prepared after this phase. */
  public void settled(Duration d) {
    settle = d;
  }

  public Duration settle() {
    return settle;
  }
}
