package dev.twopc.participant.faults;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.twopc.participant.BranchContext;
import dev.twopc.participant.ParticipantHandler;
import dev.twopc.participant.PrepareContext;
import dev.twopc.participant.Vote;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A participant that moves money between its accounts. A branch payload is {@code
 * PARTS=p0,p2;MOVES=a1:-7,a3:+2[;NO]}: the participants of the whole transaction, and this branch's
 * deltas. Prepare locks each account, votes NO on insufficient funds (or when told to), and holds
 * the deltas in HOLDS; commit applies them to ACCOUNTS and records them in APPLIED (primary key
 * (TX, ACCT): a second apply fails); rollback drops the holds. All writes go through the branch's
 * connection, so they are exactly-once with the SDK's records.
 */
public final class BankHandler implements ParticipantHandler {
  public static final int ACCOUNTS = 4;
  public static final long OPENING_BALANCE = 100;

  /** One branch's payload. */
  public record Payload(List<String> parts, Map<String, Long> moves, boolean no) {
    public static Payload parse(byte[] bytes) {
      List<String> parts = new ArrayList<>();
      Map<String, Long> moves = new LinkedHashMap<>();
      boolean no = false;
      for (String field : new String(bytes, UTF_8).split(";")) {
        if (field.startsWith("PARTS=")) {
          parts.addAll(List.of(field.substring(6).split(",")));
        } else if (field.startsWith("MOVES=")) {
          for (String m : field.substring(6).split(",")) {
            String[] kv = m.split(":");
            moves.merge(kv[0], Long.parseLong(kv[1]), Long::sum);
          }
        } else if (field.equals("NO")) {
          no = true;
        }
      }
      return new Payload(parts, moves, no);
    }

    public byte[] bytes() {
      StringBuilder sb =
          new StringBuilder("PARTS=").append(String.join(",", parts)).append(";MOVES=");
      List<String> ms = new ArrayList<>();
      moves.forEach((a, d) -> ms.add(a + ":" + d));
      sb.append(String.join(",", ms));
      if (no) {
        sb.append(";NO");
      }
      return sb.toString().getBytes(UTF_8);
    }
  }

  /** The embedded store's URL of participant {@code name} under {@code dataDir}. */
  public static String url(Path dataDir, String name) {
    return "jdbc:sqlite:" + dataDir.resolve(name + ".db").toAbsolutePath() + "?busy_timeout=10000";
  }

  /** Creates the tables and opens the accounts, once. */
  public static void seed(Path dataDir, String name) throws SQLException, IOException {
    Files.createDirectories(dataDir);
    try (Connection c = DriverManager.getConnection(url(dataDir, name))) {
      createTables(c);
      for (int i = 0; i < ACCOUNTS; i++) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO ACCOUNTS (ID, BALANCE) VALUES (?, ?) ON CONFLICT (ID) DO NOTHING")) {
          ps.setString(1, "a" + i);
          ps.setLong(2, OPENING_BALANCE);
          ps.executeUpdate();
        }
      }
    }
  }

  static void createTables(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS ACCOUNTS (ID VARCHAR(16) PRIMARY KEY, "
              + "BALANCE BIGINT NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS HOLDS (TX VARCHAR(128), ACCT VARCHAR(16), "
              + "DELTA BIGINT NOT NULL, PRIMARY KEY (TX, ACCT))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS APPLIED (TX VARCHAR(128), ACCT VARCHAR(16), "
              + "DELTA BIGINT NOT NULL, PARTS VARCHAR(256) NOT NULL, PRIMARY KEY (TX, ACCT))");
    }
  }

  @Override
  public Vote prepare(PrepareContext ctx) throws Exception {
    Payload p = Payload.parse(ctx.payload());
    if (p.no()) {
      return Vote.no("told to refuse");
    }
    Connection c = ctx.connection();
    for (Map.Entry<String, Long> m : p.moves().entrySet()) {
      ctx.lock(m.getKey());
      long balance;
      try (PreparedStatement ps = c.prepareStatement("SELECT BALANCE FROM ACCOUNTS WHERE ID = ?")) {
        ps.setString(1, m.getKey());
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return Vote.no("unknown account " + m.getKey());
          }
          balance = rs.getLong(1);
        }
      }
      // The exclusive lock means no other prepared branch holds this account.
      if (balance + m.getValue() < 0) {
        return Vote.no("insufficient funds in " + m.getKey());
      }
      try (PreparedStatement ps =
          c.prepareStatement("INSERT INTO HOLDS (TX, ACCT, DELTA) VALUES (?, ?, ?)")) {
        ps.setString(1, ctx.txId());
        ps.setString(2, m.getKey());
        ps.setLong(3, m.getValue());
        ps.executeUpdate();
      }
    }
    return Vote.yes();
  }

  @Override
  public void commit(BranchContext ctx) throws Exception {
    Payload p = Payload.parse(ctx.payload());
    Connection c = ctx.connection();
    for (Map.Entry<String, Long> m : p.moves().entrySet()) {
      try (PreparedStatement up =
              c.prepareStatement("UPDATE ACCOUNTS SET BALANCE = BALANCE + ? WHERE ID = ?");
          PreparedStatement ins =
              c.prepareStatement(
                  "INSERT INTO APPLIED (TX, ACCT, DELTA, PARTS) VALUES (?, ?, ?, ?)")) {
        up.setLong(1, m.getValue());
        up.setString(2, m.getKey());
        up.executeUpdate();
        ins.setString(1, ctx.txId());
        ins.setString(2, m.getKey());
        ins.setLong(3, m.getValue());
        ins.setString(4, String.join(",", p.parts()));
        ins.executeUpdate();
      }
    }
    dropHolds(c, ctx.txId());
  }

  @Override
  public void rollback(BranchContext ctx) throws Exception {
    dropHolds(ctx.connection(), ctx.txId());
  }

  private static void dropHolds(Connection c, String txId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("DELETE FROM HOLDS WHERE TX = ?")) {
      ps.setString(1, txId);
      ps.executeUpdate();
    }
  }

  /** What one participant's durable tables say, read after the run. */
  public record State(
      long total, Map<String, Set<String>> appliedParts, Set<String> held, List<String> prepared) {}

  /** Reads the durable state (business tables and the SDK's pending map). */
  public static State read(Path dataDir, String name) throws SQLException {
    try (Connection c = DriverManager.getConnection(url(dataDir, name))) {
      createTables(c);
      long total;
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT COALESCE(SUM(BALANCE), 0) FROM ACCOUNTS")) {
        rs.next();
        total = rs.getLong(1);
      }
      Map<String, Set<String>> applied = new HashMap<>();
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT TX, PARTS FROM APPLIED")) {
        while (rs.next()) {
          applied.put(rs.getString(1), new TreeSet<>(List.of(rs.getString(2).split(","))));
        }
      }
      Set<String> held = new TreeSet<>();
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT DISTINCT TX FROM HOLDS")) {
        while (rs.next()) {
          held.add(rs.getString(1));
        }
      }
      List<String> prepared = new ArrayList<>();
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT TX_ID FROM TWOPC_PREPARED_BRANCH")) {
        while (rs.next()) {
          prepared.add(rs.getString(1));
        }
      }
      return new State(total, applied, held, prepared);
    }
  }
}
