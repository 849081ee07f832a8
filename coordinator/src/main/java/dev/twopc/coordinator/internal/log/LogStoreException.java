package dev.twopc.coordinator.internal.log;

/**
 * The decision log's store failed to read or write. Unchecked, so that no engine's exception type
 * leaks past {@link LogStore}; the store's own message stays in the coordinator's log and never
 * reaches the wire.
 */
public final class LogStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String sqlState;

  public LogStoreException(String message, String sqlState, Throwable cause) {
    super(message, cause);
    this.sqlState = sqlState;
  }

  public LogStoreException(String message, Throwable cause) {
    this(message, null, cause);
  }

  /** The SQLState of the JDBC error behind this one, or null (not JDBC, or none given). */
  public String sqlState() {
    return sqlState;
  }
}
