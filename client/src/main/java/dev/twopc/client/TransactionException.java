package dev.twopc.client;

/**
 * The coordinator refused a call, or could not be reached for one whose failure has no outcome to
 * report (Begin, Enlist, status). Commit and Execute never throw this for lost answers: they return
 * {@link TransactionOutcome#UNKNOWN}.
 */
public final class TransactionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why, in the canonical codes' terms. */
  public enum Code {
    INVALID_ARGUMENT,
    NOT_FOUND,
    FAILED_PRECONDITION,
    UNAVAILABLE,
    DEADLINE_EXCEEDED,
    OTHER
  }

  private final Code code;

  public TransactionException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public Code code() {
    return code;
  }
}
