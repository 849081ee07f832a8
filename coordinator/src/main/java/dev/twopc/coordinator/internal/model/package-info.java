/**
 * The protocol's vocabulary: transaction and branch states with their legal transitions, votes and
 * decisions. Shared by the log (which stores them by name) and the protocol (which moves them); it
 * imports nothing of either.
 */
package dev.twopc.coordinator.internal.model;
