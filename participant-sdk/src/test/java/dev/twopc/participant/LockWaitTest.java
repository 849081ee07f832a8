package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.telemetry.MetricsText;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prepare waiting for a lock on the embedded store (one connection) gets it as soon as the holder
 * commits. The waiting prepare used to hold the store's only connection, so the holder's commit
 * could not run to release the lock: every contended wait ended in a timeout and a NO (this test
 * then failed: the second transaction aborted after the 20 s lock wait). Over real gRPC, with the
 * real coordinator and SDK participants.
 */
class LockWaitTest {
  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /** Locks the payload's key, then records it through the branch's connection. */
  private static final class LockFirst implements ParticipantHandler {
    @Override
    public Vote prepare(PrepareContext ctx) throws Exception {
      String key = new String(ctx.payload(), UTF_8);
      ctx.lock(key);
      try (Statement st = ctx.connection().createStatement()) {
        st.execute("CREATE TABLE IF NOT EXISTS HELD (TX VARCHAR(64) PRIMARY KEY, K VARCHAR(64))");
      }
      try (PreparedStatement ps =
          ctx.connection().prepareStatement("INSERT INTO HELD (TX, K) VALUES (?, ?)")) {
        ps.setString(1, ctx.txId());
        ps.setString(2, key);
        ps.executeUpdate();
      }
      return Vote.yes();
    }

    @Override
    public void commit(BranchContext ctx) throws Exception {
      try (PreparedStatement ps =
          ctx.connection().prepareStatement("DELETE FROM HELD WHERE TX = ?")) {
        ps.setString(1, ctx.txId());
        ps.executeUpdate();
      }
    }

    @Override
    public void rollback(BranchContext ctx) throws Exception {
      commit(ctx);
    }
  }

  private Participant participant(
      CoordinatorServer c, String name, ParticipantHandler handler, CountDownLatch prepared)
      throws Exception {
    CountDownLatch registered = new CountDownLatch(1);
    Participant p =
        Participant.builder(name)
            .coordinator(c.target())
            .dataDirectory(dir.resolve(name))
            .handler(handler)
            .metricsPort(0)
            .lockWait(Duration.ofSeconds(20))
            .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .listener(
                new ParticipantListener() {
                  @Override
                  public void onPrepared(String txId) {
                    prepared.countDown();
                  }

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

  @Test
  void aWaitingPrepareGetsTheLockWhenTheHolderCommits() throws Exception {
    CoordinatorServer c =
        CoordinatorServer.start(
            Coordinators.defaults(dir.resolve("coordinator"))
                .prepareTimeout(Duration.ofSeconds(60))
                .phase2BackoffBase(Duration.ofMillis(20))
                .phase2BackoffCap(Duration.ofMillis(200))
                .build());
    toClose.add(c);
    CountDownLatch inventoryPrepared = new CountDownLatch(1);
    Participant inventory = participant(c, "inventory", new LockFirst(), inventoryPrepared);
    TestHandler gated = new TestHandler();
    participant(c, "payments", gated, new CountDownLatch(1));
    TransactionClient client =
        TransactionClient.builder()
            .target(c.target())
            .commitTimeout(Duration.ofSeconds(90))
            .build();
    toClose.add(client);

    // The first holds sku-1 at inventory while payments waits at its gate.
    CompletableFuture<TransactionResult> first =
        CompletableFuture.supplyAsync(
            () ->
                client.execute(
                    List.of(branch("inventory", "sku-1"), branch("payments", "!gate,acct-1"))));
    assertTrue(inventoryPrepared.await(20, TimeUnit.SECONDS));
    // The second waits for sku-1.
    CompletableFuture<TransactionResult> second =
        CompletableFuture.supplyAsync(
            () ->
                client.execute(
                    List.of(branch("inventory", "sku-1"), branch("payments", "acct-2"))));
    HttpClient http = HttpClient.newHttpClient();
    URI metrics = URI.create("http://127.0.0.1:" + inventory.metricsPort() + "/metrics");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                MetricsText.fetch(http, metrics, Duration.ofSeconds(5))
                        .sum("twopc_branch_lock_waits_total")
                    == 1);

    gated.gate.countDown();
    assertEquals(TransactionOutcome.COMMITTED, first.get(60, TimeUnit.SECONDS).outcome());
    TransactionResult r = second.get(60, TimeUnit.SECONDS);
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), "the waiter got the lock: " + r);
    MetricsText m = MetricsText.fetch(http, metrics, Duration.ofSeconds(5));
    assertEquals(0, m.sum("twopc_branch_lock_timeouts_total"));
  }

  private static TransactionBranch branch(String participant, String payload) {
    return new TransactionBranch(participant, payload.getBytes(UTF_8));
  }
}
