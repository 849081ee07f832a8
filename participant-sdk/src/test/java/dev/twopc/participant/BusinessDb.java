package dev.twopc.participant;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a participant's embedded business tables from the test. In the same JVM, H2 shares the
 * open database between connections to the same file URL.
 */
final class BusinessDb {
  private BusinessDb() {}

  static String url(Path dataDir, String name) {
    return "jdbc:h2:file:" + dataDir.resolve(name).toAbsolutePath() + ";WRITE_DELAY=0";
  }

  static List<String> rows(Path dataDir, String name, String table, String txId) {
    try (Connection c = DriverManager.getConnection(url(dataDir, name), "sa", "")) {
      TestHandler.createTables(c);
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT K FROM " + table + " WHERE TX = ? ORDER BY K")) {
        ps.setString(1, txId);
        List<String> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
        return out;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static List<String> applied(Path dataDir, String name, String txId) {
    return rows(dataDir, name, "APPLIED", txId);
  }

  static List<String> staged(Path dataDir, String name, String txId) {
    return rows(dataDir, name, "STAGED", txId);
  }
}
