package dev.twopc.coordinator.internal.model;

/** A branch's answer to Prepare. */
public enum Vote {
  YES,
  NO,
  /** Nothing to commit or roll back: the branch leaves phase 2. */
  READ_ONLY;

  /** YES or READ_ONLY: a vote that allows COMMIT. */
  public boolean allowsCommit() {
    return this != NO;
  }
}
