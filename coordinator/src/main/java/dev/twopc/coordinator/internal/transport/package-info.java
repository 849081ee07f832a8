/**
 * The protocol's view of participants: {@link
 * dev.twopc.coordinator.internal.transport.ParticipantTransport} and its typed calls and replies.
 * Nothing here knows gRPC; {@code transport.grpc} implements it.
 */
package dev.twopc.coordinator.internal.transport;
