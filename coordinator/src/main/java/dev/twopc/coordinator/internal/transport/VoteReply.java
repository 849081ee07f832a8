package dev.twopc.coordinator.internal.transport;

import dev.twopc.coordinator.internal.model.Vote;

/** A participant's vote, with its reason (empty unless NO). */
public record VoteReply(Vote vote, String reason) {}
