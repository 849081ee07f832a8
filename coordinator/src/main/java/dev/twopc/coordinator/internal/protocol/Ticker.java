package dev.twopc.coordinator.internal.protocol;

/**
 * Monotonic time, for deadlines and latencies (the wall clock may jump). Injected with the
 * scheduler, so that the engine's tests move both together.
 */
@FunctionalInterface
public interface Ticker {
  long nanoTime();

  static Ticker system() {
    return System::nanoTime;
  }
}
