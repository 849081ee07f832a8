package dev.twopc.telemetry;

/** Histogram bucket bounds twopc's metrics share, so that dashboards can compare them. */
public final class Buckets {
  /** Seconds, 250 µs to 30 s: an fsync here is 0.25–2 ms, a stuck call ends at its deadline. */
  // Temporary: participant-sdk (being changed elsewhere) reads these fields; they become
  // accessors returning a copy once its work is merged (issue 12, item 6).
  @SuppressWarnings("MutablePublicArray")
  public static final double[] LATENCY = {
    0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };

  /** Records per log batch, 1 to 4096. */
  @SuppressWarnings("MutablePublicArray") // as LATENCY
  public static final double[] BATCH = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};

  private Buckets() {}
}
