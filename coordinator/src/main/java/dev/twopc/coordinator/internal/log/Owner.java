package dev.twopc.coordinator.internal.log;

/**
 * A coordinator node of a log several nodes share, at one epoch: its id, and the count of times it
 * joined or was fenced. A transaction row owned by an epoch older than its node's current one is
 * free for any node to claim.
 */
public record Owner(String nodeId, long epoch) {}
