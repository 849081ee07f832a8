package dev.twopc.client;

import java.util.Objects;

/** One branch of an {@link TransactionClient#execute} call: a participant and its work. */
public record Branch(String participant, byte[] payload) {
  public Branch {
    Objects.requireNonNull(participant, "participant");
    payload = payload == null ? new byte[0] : payload.clone();
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Branch b
        && b.participant.equals(participant)
        && java.util.Arrays.equals(b.payload, payload);
  }

  @Override
  public int hashCode() {
    return participant.hashCode() * 31 + java.util.Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    return "Branch[participant=" + participant + ", payload=" + payload.length + " bytes]";
  }
}
