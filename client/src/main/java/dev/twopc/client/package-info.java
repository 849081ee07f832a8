/**
 * The twopc client: what applications use to run distributed transactions, without the participant
 * side (twopc-participant-sdk) or its storage.
 *
 * <ul>
 *   <li>{@link dev.twopc.client.TransactionClient}: run transactions, with honest outcomes ({@link
 *       dev.twopc.client.TransactionOutcome#UNKNOWN} when unheard).
 *   <li>{@link dev.twopc.client.TransactionPropagation}: carry the transaction id on business calls
 *       so that participants enlist themselves (the interactive flow).
 * </ul>
 */
package dev.twopc.client;
