package dev.twopc.participant;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A branch that voted YES and has not learned its outcome yet, as shown to operators.
 *
 * @param outcomeQueries how many times the participant asked the coordinator for the outcome
 * @param lastError the last error asking (or applying the outcome), empty if none
 */
public record PreparedBranchInfo(
    String txId,
    String participant,
    Instant preparedAt,
    Duration age,
    List<String> lockKeys,
    String coordinator,
    int outcomeQueries,
    String lastError) {
  public PreparedBranchInfo {
    Objects.requireNonNull(txId, "txId");
    Objects.requireNonNull(participant, "participant");
    Objects.requireNonNull(preparedAt, "preparedAt");
    Objects.requireNonNull(age, "age");
    lockKeys = List.copyOf(lockKeys);
    Objects.requireNonNull(coordinator, "coordinator");
    lastError = lastError == null ? "" : lastError;
  }
}
