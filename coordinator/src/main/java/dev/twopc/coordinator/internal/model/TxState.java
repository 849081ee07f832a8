package dev.twopc.coordinator.internal.model;

import java.util.EnumSet;
import java.util.Set;

/**
 * A transaction's state at the coordinator, in memory and in the log (docs/protocol.md draws the
 * machine). {@link #DECIDING} is in memory only: the log holds such a transaction as {@link
 * #PREPARING} until its decision is written.
 */
public enum TxState {
  /** Begun; branches may enlist. */
  ACTIVE,
  /** A one-phase commit is (or may be) at its single participant, which decides. */
  ONE_PHASE,
  /** Prepares are out; votes are being counted. */
  PREPARING,
  /** Every branch voted YES or READ_ONLY; the COMMIT write is in flight or failed (memory only). */
  DECIDING,
  /** COMMIT is durable; phase 2 tells the branches. */
  COMMITTING,
  /** ABORT is decided; phase 2 tells the branches. */
  ABORTING,
  /** Final: every branch acknowledged its commit. */
  COMMITTED,
  /** Final: every branch rolled back, refused, or had nothing to do. */
  ABORTED;

  /** Whether the protocol may move a transaction from this state to {@code next}. */
  public boolean canMoveTo(TxState next) {
    return next == this || successors().contains(next);
  }

  private Set<TxState> successors() {
    return switch (this) {
      case ACTIVE -> EnumSet.of(ONE_PHASE, PREPARING, DECIDING, ABORTING);
      case ONE_PHASE -> EnumSet.of(COMMITTED, ABORTED, ABORTING);
      case PREPARING -> EnumSet.of(DECIDING, ABORTING);
      case DECIDING -> EnumSet.of(COMMITTING, ABORTING);
      case COMMITTING -> EnumSet.of(COMMITTED);
      case ABORTING -> EnumSet.of(ABORTED);
      case COMMITTED, ABORTED -> EnumSet.noneOf(TxState.class);
    };
  }

  /** COMMITTED or ABORTED. */
  public boolean isFinal() {
    return this == COMMITTED || this == ABORTED;
  }

  /** Decided, phase 2 under way: COMMITTING or ABORTING. */
  public boolean inPhaseTwo() {
    return this == COMMITTING || this == ABORTING;
  }

  /** Not decided yet: ACTIVE, ONE_PHASE, PREPARING or DECIDING. */
  public boolean undecided() {
    return this == ACTIVE || this == ONE_PHASE || this == PREPARING || this == DECIDING;
  }
}
