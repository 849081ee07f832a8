package dev.twopc.coordinator.internal.protocol;

import dev.twopc.proto.v1.Outcome;

/** What a client is told: the outcome and, if it is not COMMITTED, why. */
public record TxResult(String txId, Outcome outcome, String reason) {}
