package dev.twopc.coordinator.internal.protocol;

/** A branch a client asks for: the participant and its work. */
// A payload carrier: never compared or hashed, so array identity in equals does not matter.
@SuppressWarnings("ArrayRecordComponent")
public record BranchSpec(String participant, byte[] payload) {}
