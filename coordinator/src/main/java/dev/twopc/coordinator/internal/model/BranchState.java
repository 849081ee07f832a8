package dev.twopc.coordinator.internal.model;

import java.util.EnumSet;
import java.util.Set;

/** A branch's state at the coordinator, in memory and in the log. */
public enum BranchState {
  /** Known, not voted yet. */
  ENLISTED,
  /** Voted YES: holds its locks until phase 2. */
  PREPARED,
  /** Voted READ_ONLY: leaves the transaction, no phase 2. */
  READ_ONLY,
  /** Voted NO (or refused a one-phase commit): nothing to undo. */
  REFUSED,
  /** COMMIT decided; its commit is being sent until acknowledged. */
  COMMITTING,
  /** ABORT decided; its rollback is being sent until acknowledged. */
  ROLLING_BACK,
  /** Final: acknowledged its commit (or committed in one phase). */
  COMMITTED,
  /** Final: acknowledged its rollback. */
  ROLLED_BACK;

  /** Whether the protocol may move a branch from this state to {@code next}. */
  public boolean canMoveTo(BranchState next) {
    return next == this || successors().contains(next);
  }

  private Set<BranchState> successors() {
    return switch (this) {
      // COMMITTED from ENLISTED: a one-phase commit the participant applied.
      case ENLISTED -> EnumSet.of(PREPARED, READ_ONLY, REFUSED, ROLLING_BACK, COMMITTED);
      case PREPARED -> EnumSet.of(COMMITTING, ROLLING_BACK);
      case COMMITTING -> EnumSet.of(COMMITTED);
      case ROLLING_BACK -> EnumSet.of(ROLLED_BACK);
      case READ_ONLY, REFUSED, COMMITTED, ROLLED_BACK -> EnumSet.noneOf(BranchState.class);
    };
  }

  /** Nothing more happens to it: READ_ONLY, REFUSED, COMMITTED or ROLLED_BACK. */
  public boolean isFinal() {
    return this == READ_ONLY || this == REFUSED || this == COMMITTED || this == ROLLED_BACK;
  }

  /** Phase 2 still has to reach it: COMMITTING or ROLLING_BACK. */
  public boolean awaitingPhaseTwo() {
    return this == COMMITTING || this == ROLLING_BACK;
  }
}
