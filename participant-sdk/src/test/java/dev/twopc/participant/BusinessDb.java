package dev.twopc.participant;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Reads a participant's business tables ({@link TestHandler}'s STAGED and APPLIED) from the test:
 * through a DataSource, or, for the embedded store, through a connection of its own to the SQLite
 * file (WAL mode lets it read while the participant writes, also from another process).
 */
final class BusinessDb {
  private interface Connector {
    Connection connect() throws SQLException;
  }

  private final Connector connector;

  private BusinessDb(Connector connector) {
    this.connector = connector;
  }

  static BusinessDb of(DataSource ds) {
    return new BusinessDb(ds::getConnection);
  }

  static BusinessDb embedded(Path dataDir, String name) {
    return new BusinessDb(() -> DriverManager.getConnection(url(dataDir, name)));
  }

  /** The embedded store's file of participant {@code name} under {@code dataDir}. */
  static String url(Path dataDir, String name) {
    return "jdbc:sqlite:" + dataDir.resolve(name + ".db").toAbsolutePath() + "?busy_timeout=10000";
  }

  List<String> rows(String table, String txId) {
    try (Connection c = connector.connect()) {
      try {
        TestHandler.createTables(c);
        try (PreparedStatement ps =
            c.prepareStatement("SELECT K FROM " + table + " WHERE TX = ? ORDER BY K")) {
          ps.setString(1, txId);
          List<String> out = new ArrayList<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(rs.getString(1));
            }
          }
          return out;
        }
      } finally {
        if (!c.getAutoCommit()) {
          c.commit();
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  List<String> applied(String txId) {
    return rows("APPLIED", txId);
  }

  List<String> staged(String txId) {
    return rows("STAGED", txId);
  }

  static List<String> applied(Path dataDir, String name, String txId) {
    return embedded(dataDir, name).applied(txId);
  }

  static List<String> staged(Path dataDir, String name, String txId) {
    return embedded(dataDir, name).staged(txId);
  }
}
