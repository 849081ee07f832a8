/**
 * Internals of the participant SDK: not API, may change without notice. The protocol engine ({@link
 * dev.twopc.participant.internal.BranchEngine}), its store, locks, the gRPC edge, and the
 * background work (registration, in-doubt resolution).
 */
package dev.twopc.participant.internal;
