package dev.twopc.samples.demo;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A demo or chaos run on a PostgreSQL or MariaDB server instead of the embedded stores: one schema
 * (PostgreSQL) or database (MariaDB) per process, created for the run and dropped after it when it
 * passed. The base URL names the server and the user, for example {@code
 * jdbc:postgresql://127.0.0.1:5432/test?user=postgres} or {@code
 * jdbc:mariadb://127.0.0.1:3306/test?user=root}.
 */
public final class ServerStores {
  private final String base;
  private final boolean postgres;
  private final Map<String, String> names = new LinkedHashMap<>();

  private ServerStores(String base, boolean postgres) {
    this.base = base;
    this.postgres = postgres;
  }

  /** Creates a schema or database for each of {@code processes}; fails with one line. */
  public static ServerStores create(String base, String what, List<String> processes)
      throws SQLException {
    boolean pg = base.startsWith("jdbc:postgresql:");
    if (!pg && !base.startsWith("jdbc:mariadb:") && !base.startsWith("jdbc:mysql:")) {
      throw new IllegalArgumentException(
          "--jdbc-url must be a jdbc:postgresql: or jdbc:mariadb:" + " URL, not " + base);
    }
    ServerStores s = new ServerStores(base, pg);
    String run = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    try (Connection c = DriverManager.getConnection(base);
        Statement st = c.createStatement()) {
      for (String p : processes) {
        String name = "twopc_" + what + "_" + run + "_" + p;
        st.execute(
            pg ? "CREATE SCHEMA " + name : "CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
        s.names.put(p, name);
      }
    }
    return s;
  }

  /** The JDBC URL of {@code process}'s own schema or database. */
  public String url(String process) {
    String name = names.get(process);
    if (name == null) {
      throw new IllegalArgumentException("no store for " + process);
    }
    int q = base.indexOf('?');
    String head = q < 0 ? base : base.substring(0, q);
    String query = q < 0 ? "" : base.substring(q + 1);
    if (postgres) {
      return head + "?" + (query.isEmpty() ? "" : query + "&") + "currentSchema=" + name;
    }
    int slash = head.indexOf('/', head.indexOf("//") + 2);
    String server = slash < 0 ? head : head.substring(0, slash);
    return server + "/" + name + (query.isEmpty() ? "" : "?" + query);
  }

  /** Where the run's data is, for its summary line. */
  String describe() {
    return base + " (" + String.join(", ", names.values()) + ")";
  }

  /** Drops every schema or database of the run. */
  public void drop() throws SQLException {
    try (Connection c = DriverManager.getConnection(base);
        Statement st = c.createStatement()) {
      for (String name : names.values()) {
        st.execute(
            postgres
                ? "DROP SCHEMA IF EXISTS " + name + " CASCADE"
                : "DROP DATABASE IF EXISTS " + name);
      }
    }
  }
}
