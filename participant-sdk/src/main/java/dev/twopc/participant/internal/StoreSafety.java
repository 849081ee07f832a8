package dev.twopc.participant.internal;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Refuses stores known to lose commits that already returned, since a YES vote resting on such a
 * commit breaks atomicity. Databases it knows nothing against pass; the documented production
 * choices are PostgreSQL and MariaDB.
 */
public final class StoreSafety {
  private StoreSafety() {}

  /**
   * Throws {@link IllegalStateException} with a one-line reason if {@code ds} is known to be
   * unsafe; leaves the connection it borrowed as it found it.
   */
  public static void check(DataSource ds) {
    try (Connection c = ds.getConnection()) {
      try {
        Optional<String> reason = unsafeBecause(c);
        if (reason.isPresent()) {
          throw new IllegalStateException("refusing the participant store: " + reason.get());
        }
      } finally {
        if (!c.getAutoCommit()) {
          c.rollback();
        }
      }
    } catch (SQLException e) {
      throw new StoreException("checking the participant store", e);
    }
  }

  static Optional<String> unsafeBecause(Connection c) throws SQLException {
    String version = c.getMetaData().getDatabaseProductVersion();
    return switch (Dialect.of(c.getMetaData())) {
      case H2 -> h2(c, version);
      case SQLITE -> sqlite(c, version);
      default -> Optional.empty();
    };
  }

  private static Optional<String> h2(Connection c, String version) throws SQLException {
    // The URL that DatabaseMetaData reports has the settings stripped; the SETTINGS view has them.
    String writeDelay = h2Setting(c, "WRITE_DELAY").orElse("");
    if (!writeDelay.equals("0")) {
      return Optional.of(
          "H2 "
              + version
              + " with WRITE_DELAY="
              + writeDelay
              + " loses commits that returned when the process dies; add ;WRITE_DELAY=0 to the URL");
    }
    String reuseSpace = h2Setting(c, "REUSE_SPACE").orElse("TRUE");
    if (version.startsWith("2.5.") && !reuseSpace.equalsIgnoreCase("FALSE")) {
      return Optional.of(
          "H2 "
              + version
              + " with space reuse (REUSE_SPACE="
              + reuseSpace
              + ") loses acknowledged commits under kill -9; add ;REUSE_SPACE=FALSE to the URL,"
              + " or use SQLite (dataDirectory), PostgreSQL or MariaDB");
    }
    return Optional.empty();
  }

  private static Optional<String> h2Setting(Connection c, String name) throws SQLException {
    try (var ps =
        c.prepareStatement(
            "SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS WHERE SETTING_NAME = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
      }
    }
  }

  private static Optional<String> sqlite(Connection c, String version) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
      String mode = rs.next() ? rs.getString(1).toLowerCase(Locale.ROOT) : "unknown";
      if (!mode.equals("wal")) {
        return Optional.of(
            "SQLite "
                + version
                + " in journal_mode="
                + mode
                + ", not WAL; open it with journal_mode=WAL (the embedded store does)");
      }
    }
    return Optional.empty();
  }
}
