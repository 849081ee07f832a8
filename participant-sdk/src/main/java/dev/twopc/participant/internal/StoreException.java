package dev.twopc.participant.internal;

import java.sql.SQLException;

/** A failed access to the participant's store; keeps the SQLState of the cause. */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String sqlState;

  StoreException(String what, SQLException cause) {
    super(what + ": " + cause.getMessage() + " (SQLState " + cause.getSQLState() + ")", cause);
    this.sqlState = cause.getSQLState();
  }

  public String sqlState() {
    return sqlState;
  }
}
