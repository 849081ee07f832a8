package dev.twopc.coordinator.internal.protocol;

/** A branch a client asks for: the participant and its work. */
public record BranchSpec(String participant, byte[] payload) {}
