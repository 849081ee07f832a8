package dev.twopc.coordinator;

/**
 * What start-up recovery found in the decision log and did about it.
 *
 * @param resumedCommits transactions decided COMMIT whose phase 2 was resumed
 * @param resumedAborts transactions decided ABORT whose rollbacks were resumed
 * @param abortedUndecided transactions begun or preparing with no decision, now aborted
 * @param finished finished transactions kept for audit (not touched)
 */
public record RecoverySummary(
    int resumedCommits, int resumedAborts, int abortedUndecided, long finished) {

  /** One line for the log and the console. */
  public String describe() {
    return "recovery: resumed "
        + resumedCommits
        + " commit(s), resumed "
        + resumedAborts
        + " abort(s), aborted "
        + abortedUndecided
        + " undecided, "
        + finished
        + " finished kept";
  }

  /** The same as {@code key=value} pairs, for the log's {@code event=} lines. */
  public String keyValues() {
    return "resumed_commits="
        + resumedCommits
        + " resumed_aborts="
        + resumedAborts
        + " aborted_undecided="
        + abortedUndecided
        + " finished_kept="
        + finished;
  }
}
