package dev.twopc.samples;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Small JDBC helpers so the handlers read as SQL. Statements run on the caller's connection. */
public final class Sql {
  private Sql() {}

  /**
   * Rows as maps keyed by lower-case column label, in select order; integers as {@link Long},
   * whatever width the driver picks (SQLite returns Integer for small BIGINT values).
   */
  public static List<Map<String, Object>> rows(Connection c, String sql, Object... args)
      throws SQLException {
    try (PreparedStatement ps = prepare(c, sql, args);
        ResultSet rs = ps.executeQuery()) {
      ResultSetMetaData md = rs.getMetaData();
      List<Map<String, Object>> out = new ArrayList<>();
      while (rs.next()) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
          Object v = rs.getObject(i);
          if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            v = ((Number) v).longValue();
          }
          row.put(md.getColumnLabel(i).toLowerCase(Locale.ROOT), v);
        }
        out.add(row);
      }
      return out;
    }
  }

  /** The only row, if any. */
  public static Optional<Map<String, Object>> row(Connection c, String sql, Object... args)
      throws SQLException {
    List<Map<String, Object>> rows = rows(c, sql, args);
    if (rows.size() > 1) {
      throw new SQLException("expected at most one row, got " + rows.size() + ": " + sql);
    }
    return rows.stream().findFirst();
  }

  /** The first column of the only row, as a long; empty if there is no row. */
  public static Optional<Long> longValue(Connection c, String sql, Object... args)
      throws SQLException {
    try (PreparedStatement ps = prepare(c, sql, args);
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
    }
  }

  /** Runs an INSERT, UPDATE or DELETE; returns the row count. */
  public static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = prepare(c, sql, args)) {
      return ps.executeUpdate();
    }
  }

  private static PreparedStatement prepare(Connection c, String sql, Object... args)
      throws SQLException {
    PreparedStatement ps = c.prepareStatement(sql);
    try {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      return ps;
    } catch (SQLException e) {
      ps.close();
      throw e;
    }
  }
}
