package dev.twopc.participant;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Prepares the participant's store for its handler at start (see {@link
 * Participant.Builder#storeInitializer}): typically {@code CREATE TABLE IF NOT EXISTS} and seed
 * rows. Runs in a local transaction that the SDK commits; do not commit or close the connection.
 */
@FunctionalInterface
public interface StoreInitializer {
  void initialize(Connection connection) throws SQLException;
}
