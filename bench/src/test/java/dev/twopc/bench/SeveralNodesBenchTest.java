package dev.twopc.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.twopc.bench.internal.MemoryParticipant;
import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.Durability;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code twopc bench --coordinator n1,n2} against two coordinator nodes on one PostgreSQL log
 * (issue 14): the load is spread over both, and each node owns transactions of its own.
 */
class SeveralNodesBenchTest {
  private static final String BASE = "jdbc:postgresql://127.0.0.1:5432/test?user=postgres";

  @TempDir Path dir;

  @Test
  void theLoadIsSpreadOverEveryNodeGiven() throws Exception {
    String schema = "twopc_bench_nodes_" + UUID.randomUUID().toString().substring(0, 8);
    try (Connection c = DriverManager.getConnection(BASE + "&connectTimeout=5");
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      String why = "PostgreSQL is not reachable: " + e.getMessage().lines().findFirst().orElse("");
      if (System.getenv("CI") != null) {
        throw new AssertionError(why + " (CI is set: a missing server is a failure)", e);
      }
      Assumptions.abort(why);
    }
    try (CoordinatorServer a = node(schema, "a");
        CoordinatorServer b = node(schema, "b");
        MemoryParticipant p1 = MemoryParticipant.start("p1", 0);
        MemoryParticipant p2 = MemoryParticipant.start("p2", 0)) {
      p1.register(a.target(), Duration.ofSeconds(30));
      p2.register(b.target(), Duration.ofSeconds(30)); // the registry is shared
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int exit;
      try (PrintStream o = new PrintStream(out, true, UTF_8);
          PrintStream e = new PrintStream(err, true, UTF_8)) {
        exit =
            BenchCommand.commandLine(BenchCommand.printingTo(o, e))
                .execute(
                    "--coordinator",
                    a.target() + "," + b.target(),
                    "--participants",
                    "p1=" + p1.address() + ",p2=" + p2.address(),
                    "--no-baseline",
                    "--concurrency",
                    "8",
                    "--warmup",
                    "1s",
                    "--duration",
                    "2s",
                    "--json",
                    "--work",
                    dir.resolve("work").toString());
      }
      String json = out.toString(UTF_8);
      assertEquals(0, exit, err.toString(UTF_8) + json);
      JsonObject twopc = JsonParser.parseString(json).getAsJsonObject().getAsJsonObject("twopc");
      assertEquals(0, twopc.get("errors").getAsLong(), json);
      Map<String, Long> owned = owners(schema);
      assertTrue(owned.getOrDefault("a", 0L) > 0 && owned.getOrDefault("b", 0L) > 0, "" + owned);
    } finally {
      try (Connection c = DriverManager.getConnection(BASE);
          Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }

  private CoordinatorServer node(String schema, String id) throws Exception {
    return CoordinatorServer.start(
        CoordinatorConfig.builder()
            .host("127.0.0.1")
            .port(0)
            .dataDir(dir.resolve(id))
            .jdbcUrl(BASE + "&currentSchema=" + schema)
            .durability(Durability.PROCESS)
            .nodeId(id)
            .build());
  }

  private static Map<String, Long> owners(String schema) throws SQLException {
    Map<String, Long> owned = new HashMap<>();
    try (Connection c = DriverManager.getConnection(BASE + "&currentSchema=" + schema);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT owner, COUNT(*) FROM twopc_tx GROUP BY owner")) {
      while (rs.next()) {
        owned.put(rs.getString(1), rs.getLong(2));
      }
    }
    return owned;
  }
}
