package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * A handler over two business tables: prepare locks the keys named in the payload ("k1,k2", or
 * "!no", "!fail", "!readonly", "!gate" to refuse, throw, read only or wait for {@link #gate};
 * "!badsql" runs a query the store refuses) and writes them to STAGED; commit moves them to APPLIED
 * (whose primary key catches a double apply); rollback deletes them. Interactive work arrives as
 * staged items, one key each.
 */
final class TestHandler implements ParticipantHandler {
  final AtomicInteger commitFailuresLeft = new AtomicInteger();
  final AtomicInteger commitCalls = new AtomicInteger();
  final AtomicInteger rollbackCalls = new AtomicInteger();

  /** "!gate" in a payload makes prepare wait for this latch. */
  final java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);

  static void createTables(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS STAGED (TX VARCHAR(128), K VARCHAR(64), "
              + "PRIMARY KEY (TX, K))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS APPLIED (TX VARCHAR(128), K VARCHAR(64), "
              + "PRIMARY KEY (TX, K))");
    }
  }

  static void createTables(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection()) {
      createTables(c);
      if (!c.getAutoCommit()) {
        c.commit();
      }
    }
  }

  static List<String> keys(BranchContext ctx) {
    List<String> keys = new ArrayList<>();
    String p = new String(ctx.payload(), UTF_8);
    for (String k : p.split(",")) {
      if (!k.isBlank()) {
        keys.add(k.trim());
      }
    }
    for (byte[] item : ctx.staged()) {
      keys.add(new String(item, UTF_8));
    }
    return keys;
  }

  @Override
  public Vote prepare(PrepareContext ctx) throws Exception {
    createTables(ctx.connection());
    List<String> keys = keys(ctx);
    for (String k : keys) {
      switch (k) {
        case "!no" -> {
          return Vote.no("scripted no");
        }
        case "!fail" -> throw new IllegalStateException("scripted prepare failure");
        case "!badsql" -> {
          try (Statement st = ctx.connection().createStatement()) {
            st.executeQuery("SELECT secret_column FROM NO_SUCH_TABLE");
          }
        }
        case "!readonly" -> {
          return Vote.readOnly();
        }
        case "!gate" -> {
          if (!gate.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
            throw new IllegalStateException("gate never opened");
          }
        }
        default -> {
          ctx.lock(k);
          try (PreparedStatement ps =
              ctx.connection().prepareStatement("INSERT INTO STAGED (TX, K) VALUES (?, ?)")) {
            ps.setString(1, ctx.txId());
            ps.setString(2, k);
            ps.executeUpdate();
          }
        }
      }
    }
    return Vote.yes();
  }

  @Override
  public void commit(BranchContext ctx) throws Exception {
    commitCalls.incrementAndGet();
    try (PreparedStatement ins =
            ctx.connection()
                .prepareStatement(
                    "INSERT INTO APPLIED (TX, K) SELECT TX, K FROM STAGED WHERE TX = ?");
        PreparedStatement del =
            ctx.connection().prepareStatement("DELETE FROM STAGED WHERE TX = ?")) {
      ins.setString(1, ctx.txId());
      ins.executeUpdate();
      del.setString(1, ctx.txId());
      del.executeUpdate();
    }
    if (commitFailuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new IllegalStateException("scripted commit failure");
    }
  }

  @Override
  public void rollback(BranchContext ctx) throws Exception {
    rollbackCalls.incrementAndGet();
    try (PreparedStatement del =
        ctx.connection().prepareStatement("DELETE FROM STAGED WHERE TX = ?")) {
      del.setString(1, ctx.txId());
      del.executeUpdate();
    }
  }
}
