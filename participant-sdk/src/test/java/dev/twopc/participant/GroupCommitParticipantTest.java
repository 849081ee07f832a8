package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionOptions;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.telemetry.MetricsText;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store's group commit seen from the outside, over real gRPC with the real
 * coordinator: many transactions at once, some of whose branches vote NO or fail after writing
 * through the shared connection. Each branch's writes end as its own transaction's outcome says (a
 * NO or a failure undoes only its own), every committed transaction's writes are there after the
 * participants restart, and the store's metrics count the syncs and what they made durable.
 */
class GroupCommitParticipantTest {
  private static final int TRANSACTIONS = 90;
  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /**
   * Writes a row for its key, then votes as the payload says: {@code yes:K}, {@code no:K} (refuses
   * after writing) or {@code boom:K} (fails after writing). Commit marks the row DONE, rollback
   * deletes it.
   */
  private static final class WritingHandler implements ParticipantHandler {
    @Override
    public Vote prepare(PrepareContext ctx) throws Exception {
      String[] p = new String(ctx.payload(), UTF_8).split(":", 2);
      ctx.lock(p[1]);
      try (PreparedStatement ps =
          ctx.connection()
              .prepareStatement(
                  "INSERT INTO ROWS_HERE (K, TX, STATUS) VALUES (?, ?, 'PREPARED')")) {
        ps.setString(1, p[1]);
        ps.setString(2, ctx.txId());
        ps.executeUpdate();
      }
      return switch (p[0]) {
        case "no" -> Vote.no("refused after writing");
        case "boom" -> throw new IllegalStateException("failed after writing");
        default -> Vote.yes();
      };
    }

    @Override
    public void commit(BranchContext ctx) throws Exception {
      try (PreparedStatement ps =
          ctx.connection().prepareStatement("UPDATE ROWS_HERE SET STATUS = 'DONE' WHERE TX = ?")) {
        ps.setString(1, ctx.txId());
        assertEquals(1, ps.executeUpdate());
      }
    }

    @Override
    public void rollback(BranchContext ctx) throws Exception {
      try (PreparedStatement ps =
          ctx.connection().prepareStatement("DELETE FROM ROWS_HERE WHERE TX = ?")) {
        ps.setString(1, ctx.txId());
        ps.executeUpdate();
      }
    }
  }

  private Participant participant(String target, String name) throws Exception {
    CountDownLatch registered = new CountDownLatch(1);
    Participant p =
        Participant.builder(name)
            .coordinator(target)
            .dataDirectory(dir.resolve(name))
            .handler(new WritingHandler())
            .metricsPort(0)
            .storeInitializer(
                c -> {
                  try (Statement s = c.createStatement()) {
                    s.execute(
                        "CREATE TABLE IF NOT EXISTS ROWS_HERE (K VARCHAR(64) PRIMARY KEY,"
                            + " TX VARCHAR(128) NOT NULL, STATUS VARCHAR(16) NOT NULL)");
                  }
                })
            .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .listener(
                new ParticipantListener() {
                  @Override
                  public void onRegistered(String coordinator) {
                    registered.countDown();
                  }
                })
            .build();
    toClose.add(p);
    p.start();
    assertTrue(registered.await(20, TimeUnit.SECONDS), name + " registered");
    return p;
  }

  /** Key to status, as the participant's store holds them. */
  private static Map<String, String> rows(Participant p) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = p.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT K, STATUS FROM ROWS_HERE")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getString(2));
      }
      c.rollback();
    }
    return out;
  }

  @Test
  void branchesSharingCommitsEndAsTheirOwnTransactionsDo() throws Exception {
    CoordinatorServer c =
        CoordinatorServer.start(
            Coordinators.defaults(dir.resolve("coordinator"))
                .prepareTimeout(Duration.ofSeconds(60))
                .phase2BackoffBase(Duration.ofMillis(20))
                .phase2BackoffCap(Duration.ofMillis(200))
                .build());
    toClose.add(c);
    Participant inventory = participant(c.target(), "inventory");
    Participant payments = participant(c.target(), "payments");
    TransactionClient client =
        TransactionClient.builder()
            .target(c.target())
            .commitTimeout(Duration.ofSeconds(90))
            .build();
    TransactionOptions waiting = TransactionOptions.defaults().withWaitForCompletion(true);
    toClose.add(client);

    ExecutorService pool = Executors.newFixedThreadPool(24);
    toClose.add(pool::shutdownNow);
    List<Future<TransactionResult>> results = new ArrayList<>();
    Map<String, String> expectedInventory = new TreeMap<>();
    Map<String, String> expectedPayments = new TreeMap<>();
    for (int i = 0; i < TRANSACTIONS; i++) {
      String vote = i % 3 == 1 ? "no" : i % 3 == 2 && i % 2 == 0 ? "boom" : "yes";
      String key = "k" + i;
      results.add(
          pool.submit(
              () ->
                  client.execute(
                      List.of(
                          new TransactionBranch("inventory", (vote + ":" + key).getBytes(UTF_8)),
                          new TransactionBranch("payments", ("yes:" + key).getBytes(UTF_8))),
                      waiting)));
      if (vote.equals("yes")) {
        expectedInventory.put(key, "DONE");
        expectedPayments.put(key, "DONE");
      }
    }
    int committed = 0;
    for (int i = 0; i < TRANSACTIONS; i++) {
      TransactionResult r = results.get(i).get(120, TimeUnit.SECONDS);
      boolean yes = expectedInventory.containsKey("k" + i);
      assertEquals(
          yes ? TransactionOutcome.COMMITTED : TransactionOutcome.ABORTED,
          r.outcome(),
          "k" + i + ": " + r);
      committed += yes ? 1 : 0;
    }
    assertEquals(expectedInventory, rows(inventory), "a NO or a failure undid only its own");
    assertEquals(expectedPayments, rows(payments));

    HttpClient http = HttpClient.newHttpClient();
    for (Participant p : List.of(inventory, payments)) {
      MetricsText m =
          MetricsText.fetch(
              http,
              URI.create("http://127.0.0.1:" + p.metricsPort() + "/metrics"),
              Duration.ofSeconds(5));
      double syncs = m.sum("twopc_branch_store_commits_total");
      double durable = m.sum("twopc_branch_store_committed_transactions_total");
      // At least each committed transaction's prepare and commit; never fewer than one each.
      assertTrue(durable >= 2 * committed, p.name() + ": " + durable);
      assertTrue(syncs >= 1 && syncs <= durable, p.name() + ": " + syncs + " / " + durable);
    }

    // Durable: the same after both participants restart on their stores.
    for (Participant p : List.of(inventory, payments)) {
      p.close();
    }
    assertEquals(expectedInventory, rows(reopened(c.target(), "inventory")));
    assertEquals(expectedPayments, rows(reopened(c.target(), "payments")));
  }

  private Participant reopened(String target, String name) throws Exception {
    Participant p =
        Participant.builder(name)
            .coordinator(target)
            .dataDirectory(dir.resolve(name))
            .handler(new WritingHandler())
            .build();
    toClose.add(p);
    p.start();
    assertTrue(p.listPrepared().isEmpty(), name + " has nothing left prepared");
    return p;
  }
}
