/**
 * The twopc participant SDK (applications run transactions with twopc-client's {@code
 * dev.twopc.client.TransactionClient}).
 *
 * <ul>
 *   <li>{@link dev.twopc.participant.Participant}: embed in a service that owns a resource; give it
 *       a {@link dev.twopc.participant.ParticipantHandler} (prepare, commit, rollback).
 *   <li>{@link dev.twopc.participant.Participant#currentTxId()}: the transaction a business call
 *       carried ({@code dev.twopc.client.TransactionPropagation} attaches it), for the interactive
 *       flow.
 * </ul>
 *
 * <p>What the SDK guarantees: a YES vote is sent only after the branch (payload, staged work, lock
 * keys, coordinator) is committed in the participant's database together with the handler's staged
 * writes; locks live exactly as long as the branch; Prepare, Commit and Rollback are idempotent per
 * transaction id; after a crash, prepared branches are reloaded and re-locked before anything is
 * served, and resolved only by asking the coordinator.
 */
package dev.twopc.participant;
