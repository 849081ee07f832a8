package dev.twopc.coordinator.internal.transport;

import io.opentelemetry.context.Context;

/** A one-phase commit of a transaction's only branch, with the payload it prepares and commits. */
// A payload carrier: never compared or hashed, so array identity in equals does not matter.
@SuppressWarnings("ArrayRecordComponent")
public record OnePhaseCall(
    String txId, String participant, byte[] payload, long timeoutMillis, Context trace) {}
