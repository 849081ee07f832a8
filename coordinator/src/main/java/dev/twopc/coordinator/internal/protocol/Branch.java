package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Vote;
import java.util.concurrent.ScheduledFuture;

/** One branch's progress inside a live {@link Tx}. Guarded by the owning Tx's monitor. */
final class Branch {
  final String participant;
  final int index;
  final byte[] payload;
  final String payloadDigest;
  final boolean enlisted;

  /** The participant enlisted itself: its work was staged by its business calls (interactive). */
  boolean staged;

  Vote vote;
  String voteReason;
  Long votedAt;
  private BranchState state = BranchState.ENLISTED;
  int attempts;
  String lastError;
  Long lastAttemptAt;
  Long acknowledgedAt;
  Long nextAttemptAt;
  boolean inFlight;
  ScheduledFuture<?> retry;

  Branch(String participant, int index, byte[] payload, String payloadDigest, boolean enlisted) {
    this.participant = participant;
    this.index = index;
    this.payload = payload;
    this.payloadDigest = payloadDigest;
    this.enlisted = enlisted;
  }

  static Branch restored(BranchRow row) {
    Branch b = new Branch(row.participant(), row.index(), null, row.payloadDigest(), false);
    b.vote = row.vote();
    b.voteReason = row.voteReason();
    b.votedAt = row.votedAt();
    b.state = row.state();
    b.attempts = row.attempts();
    b.lastError = row.lastError();
    b.lastAttemptAt = row.lastAttemptAt();
    b.acknowledgedAt = row.acknowledgedAt();
    return b;
  }

  /**
   * The acknowledgement is known here but not written yet: it goes to the log with the
   * transaction's end, or with the next failed attempt of another branch.
   */
  boolean ackUnlogged;

  BranchState state() {
    return state;
  }

  /**
   * Moves this branch to {@code next}, which must be a legal transition ({@link
   * BranchState#canMoveTo}); staying put is legal. Caller holds the tx monitor.
   *
   * @throws IllegalStateException for an illegal transition: a bug, never a participant's doing
   */
  void moveTo(BranchState next) {
    if (!state.canMoveTo(next)) {
      throw new IllegalStateException(
          "branch " + participant + " cannot move from " + state + " to " + next);
    }
    state = next;
  }

  /** True while phase 2 still has to reach this branch. */
  boolean awaitingPhase2() {
    return state.awaitingPhaseTwo();
  }

  /** This branch's phase-2 progress as a log record. Caller holds the tx monitor. */
  BranchUpdated updateRecord(String txId) {
    return new BranchUpdated(
        txId, participant, state, attempts, lastError, lastAttemptAt, acknowledgedAt);
  }

  BranchRow row() {
    return new BranchRow(
        participant,
        index,
        payloadDigest,
        vote,
        voteReason,
        state,
        attempts,
        lastError,
        lastAttemptAt,
        acknowledgedAt,
        votedAt);
  }
}
