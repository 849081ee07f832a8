package dev.twopc.participant.internal;

/** A branch operation that could not be done; mapped to a gRPC status once, at the edge. */
public final class BranchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of failure, in the canonical codes' terms. */
  public enum Kind {
    /** Bad input. */
    INVALID_ARGUMENT,
    /** Not this participant. */
    NOT_FOUND,
    /** Out of order with the branch's recorded fate (for example Commit after Rollback). */
    FAILED_PRECONDITION,
    /** Transient: nothing of this attempt was kept; retry. */
    UNAVAILABLE
  }

  private final Kind kind;

  public BranchException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public BranchException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
