package dev.twopc.coordinator;

/** How hard the decision log pushes a COMMIT decision to storage before anyone hears of it. */
public enum Durability {
  /**
   * The default: every group-commit batch is fsynced ({@code CHECKPOINT SYNC} on H2) before its
   * decisions are acknowledged, so a decision survives power loss.
   */
  FSYNC,
  /**
   * The batch is handed to the operating system (H2 with no write delay) but not fsynced: a
   * decision survives {@code kill -9} of the coordinator, not a power failure. Faster.
   */
  PROCESS
}
