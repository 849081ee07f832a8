package dev.twopc.participant.internal;

import java.time.Instant;

/** A row of the finished table. */
public record Finished(String txId, Fate fate, String reason, Instant finishedAt) {}
