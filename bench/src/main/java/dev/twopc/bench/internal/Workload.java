package dev.twopc.bench.internal;

/** What one phase runs: makes the slots that each carry one transaction at a time. */
public interface Workload {
  /** {@code 2pc} or {@code baseline}. */
  String name();

  Slot newSlot();
}
