/**
 * The twopc participant SDK and client helper.
 *
 * <ul>
 *   <li>{@link dev.twopc.participant.Participant}: embed in a service that owns a resource; give it
 *       a {@link dev.twopc.participant.ParticipantHandler} (prepare, commit, rollback).
 *   <li>{@link dev.twopc.participant.TransactionClient}: run transactions from an application, with
 *       honest outcomes ({@link dev.twopc.participant.Outcome#UNKNOWN} when unheard).
 *   <li>{@link dev.twopc.participant.TxPropagation}: carry the transaction id on business calls so
 *       that participants enlist themselves (the interactive flow).
 * </ul>
 *
 * <p>What the SDK guarantees: a YES vote is sent only after the branch (payload, staged work, lock
 * keys, coordinator) is committed in the participant's database together with the handler's staged
 * writes; locks live exactly as long as the branch; Prepare, Commit and Rollback are idempotent per
 * transaction id; after a crash, prepared branches are reloaded and re-locked before anything is
 * served, and resolved only by asking the coordinator.
 */
package dev.twopc.participant;
