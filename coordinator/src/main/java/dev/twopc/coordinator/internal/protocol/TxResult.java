package dev.twopc.coordinator.internal.protocol;

import dev.twopc.proto.v1.Outcome;

/** What a client is told: the outcome and, if it is not COMMITTED, why. */
public record TxResult(String txId, Outcome outcome, String reason) {

  static TxResult committed(String txId) {
    return new TxResult(txId, Outcome.OUTCOME_COMMITTED, "");
  }

  static TxResult aborted(String txId, String reason) {
    return new TxResult(txId, Outcome.OUTCOME_ABORTED, reason == null ? "" : reason);
  }

  /** Not known (yet): the client asks again later. */
  static TxResult unknown(String txId, String reason) {
    return new TxResult(txId, Outcome.OUTCOME_UNKNOWN, reason);
  }
}
