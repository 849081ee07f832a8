package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.concurrent.Completions;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import dev.twopc.coordinator.internal.transport.CallFailed;
import dev.twopc.coordinator.internal.transport.ParticipantTransport;
import dev.twopc.coordinator.internal.transport.PrepareCall;
import dev.twopc.coordinator.internal.transport.VoteReply;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * Phase 1: sends Prepare to every branch at once and counts the votes. The first NO, failure or
 * missing participant aborts; the last YES or READ_ONLY hands the transaction to the {@link
 * Decider} for COMMIT.
 */
final class PreparePhase {
  private final ParticipantTransport transport;
  private final Decider decider;
  private final Clock clock;
  private final Ticker ticker;
  private final long prepareTimeoutMillis;

  PreparePhase(
      ParticipantTransport transport,
      Decider decider,
      Clock clock,
      Ticker ticker,
      long prepareTimeoutMillis) {
    this.transport = transport;
    this.decider = decider;
    this.clock = clock;
    this.ticker = ticker;
    this.prepareTimeoutMillis = prepareTimeoutMillis;
  }

  /** {@code tx} is PREPARING with {@code branches}: prepare them all, within its deadline. */
  void start(Tx tx, List<Branch> branches) {
    long left = (tx.deadlineNanos - ticker.nanoTime()) / 1_000_000;
    long timeout = Math.min(prepareTimeoutMillis, left);
    if (timeout <= 0) {
      decider.abort(tx, "timed out before prepare", "timeout");
      return;
    }
    for (Branch b : branches) {
      PrepareCall call =
          new PrepareCall(tx.id, b.participant, b.payload, timeout, b.enlisted, b.staged, tx.trace);
      Completions.whenDone(
          transport.prepare(call),
          "prepare reply",
          (vote, error) -> {
            if (error == null) {
              voted(tx, b, vote);
            } else {
              failed(tx, b, error);
            }
          });
    }
  }

  private void failed(Tx tx, Branch b, Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    String why;
    if (cause instanceof CallFailed f && !f.sent()) {
      why = f.detail();
    } else {
      why =
          Limits.text(
              "prepare failed at " + b.participant + ": " + cause.getMessage(), Limits.LAST_ERROR);
    }
    decider.abort(tx, why, "protocol");
  }

  private void voted(Tx tx, Branch b, VoteReply r) {
    String abortWhy = null;
    boolean allVoted = true;
    synchronized (tx) {
      b.votedAt = clock.millis();
      b.vote = r.vote();
      // A branch already being rolled back (the transaction aborted before its vote) stays so.
      boolean waiting = b.state() == BranchState.ENLISTED;
      switch (r.vote()) {
        case YES -> {
          if (waiting) {
            b.moveTo(BranchState.PREPARED);
          }
        }
        case READ_ONLY -> {
          if (waiting) {
            b.moveTo(BranchState.READ_ONLY);
          }
        }
        case NO -> {
          b.voteReason = Limits.text(r.reason(), Limits.REASON);
          if (waiting) {
            b.moveTo(BranchState.REFUSED);
          }
          abortWhy =
              "participant "
                  + b.participant
                  + " voted NO"
                  + (r.reason().isEmpty() ? "" : ": " + r.reason());
        }
      }
      if (abortWhy == null) {
        if (tx.state() != TxState.PREPARING) {
          return; // already aborted: this branch is among those being rolled back
        }
        for (Branch other : tx.branches.values()) {
          // A NO already counted is being aborted (outside this lock): never a reason to commit.
          allVoted &= other.vote != null && other.vote != Vote.NO;
        }
      }
    }
    if (abortWhy != null) {
      decider.abort(tx, abortWhy, "protocol");
    } else if (allVoted) {
      decider.decideCommit(tx);
    }
  }
}
