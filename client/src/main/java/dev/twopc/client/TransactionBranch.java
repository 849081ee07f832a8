package dev.twopc.client;

import java.util.Objects;

/** One branch of an {@link TransactionClient#execute} call: a participant and its work. */
// The array is copied in and out, and equals, hashCode and toString look at its contents.
@SuppressWarnings("ArrayRecordComponent")
public record TransactionBranch(String participant, byte[] payload) {
  public TransactionBranch {
    Objects.requireNonNull(participant, "participant");
    payload = payload == null ? new byte[0] : payload.clone();
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TransactionBranch b
        && b.participant.equals(participant)
        && java.util.Arrays.equals(b.payload, payload);
  }

  @Override
  public int hashCode() {
    return participant.hashCode() * 31 + java.util.Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    return "TransactionBranch[participant="
        + participant
        + ", payload="
        + payload.length
        + " bytes]";
  }
}
