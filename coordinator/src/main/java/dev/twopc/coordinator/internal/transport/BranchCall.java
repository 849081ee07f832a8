package dev.twopc.coordinator.internal.transport;

import io.opentelemetry.context.Context;

/**
 * A phase-2 message (or a one-phase question) for one branch.
 *
 * @param attempt 1 for the first try; a retry reconnects at once instead of waiting out the
 *     channel's own reconnect backoff, since the protocol's backoff already spaced it out
 */
public record BranchCall(
    String txId, String participant, int attempt, long timeoutMillis, Context trace) {}
