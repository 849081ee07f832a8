package dev.twopc.coordinator.internal.log;

/** A registered participant as read back from the log. Times are epoch milliseconds. */
public record StoredParticipant(String name, String address, long registeredAt, long updatedAt) {}
