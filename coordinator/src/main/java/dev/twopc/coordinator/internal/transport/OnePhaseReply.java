package dev.twopc.coordinator.internal.transport;

/** What a participant decided in one phase: committed, or not with its reason. */
public record OnePhaseReply(boolean committed, String reason) {}
