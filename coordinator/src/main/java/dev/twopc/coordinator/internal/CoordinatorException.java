package dev.twopc.coordinator.internal;

import dev.twopc.coordinator.internal.log.LogStoreException;

/**
 * A request the coordinator will not carry out, with the kind of reason. The gRPC edge maps the
 * kind to a canonical status once ({@code api.Errors}); nothing else knows about gRPC statuses.
 */
public final class CoordinatorException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why, in the terms of the canonical status codes. */
  public enum Kind {
    INVALID_ARGUMENT,
    NOT_FOUND,
    FAILED_PRECONDITION,
    UNAVAILABLE
  }

  private final Kind kind;

  public CoordinatorException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public CoordinatorException(Kind kind, String message, Throwable cause) {
    super(message, cause, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  public static CoordinatorException invalid(String message) {
    return new CoordinatorException(Kind.INVALID_ARGUMENT, message);
  }

  public static CoordinatorException notFound(String message) {
    return new CoordinatorException(Kind.NOT_FOUND, message);
  }

  public static CoordinatorException precondition(String message) {
    return new CoordinatorException(Kind.FAILED_PRECONDITION, message);
  }

  /**
   * The decision log failed: UNAVAILABLE with the SQLState of the database error behind it, if any,
   * but never the store's own message (it may hold SQL, paths or addresses; it is in the
   * coordinator's log).
   */
  public static CoordinatorException logUnavailable(Throwable cause) {
    String sqlState = null;
    for (Throwable t = cause; t != null && sqlState == null; t = t.getCause()) {
      if (t instanceof LogStoreException e) {
        sqlState = e.sqlState();
      }
    }
    return unavailable(
        "decision log unavailable" + (sqlState == null ? "" : " (SQLState " + sqlState + ")"),
        cause);
  }

  public static CoordinatorException unavailable(String message, Throwable cause) {
    return new CoordinatorException(Kind.UNAVAILABLE, message, cause);
  }
}
