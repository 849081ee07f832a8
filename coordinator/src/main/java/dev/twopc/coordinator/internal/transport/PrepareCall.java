package dev.twopc.coordinator.internal.transport;

import io.opentelemetry.context.Context;

/**
 * A Prepare for one branch.
 *
 * @param payload the branch's work from the client (empty for an enlisted one), not copied
 * @param timeoutMillis how long the participant has to vote
 * @param enlisted the participant enlisted itself (interactive)
 * @param staged its work was staged by its own business calls
 * @param trace the transaction's trace (the root context when tracing is off)
 */
// A payload carrier: never compared or hashed, so array identity in equals does not matter.
@SuppressWarnings("ArrayRecordComponent")
public record PrepareCall(
    String txId,
    String participant,
    byte[] payload,
    long timeoutMillis,
    boolean enlisted,
    boolean staged,
    Context trace) {}
