package dev.twopc.coordinator.internal.model;

/** A transaction's decision. Once in the log it never changes (safety rule 2). */
public enum Decision {
  COMMIT,
  ABORT
}
