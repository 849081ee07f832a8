package dev.twopc.coordinator.internal.protocol;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.api.AdminService;
import dev.twopc.coordinator.internal.api.TransactionQueries;
import dev.twopc.coordinator.internal.api.Views;
import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.LogStore;
import dev.twopc.coordinator.internal.recovery.LivenessCheck;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import dev.twopc.coordinator.internal.transport.grpc.GrpcParticipantTransport;
import dev.twopc.coordinator.internal.transport.grpc.ParticipantDirectory;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.testing.FakeParticipant;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The liveness check finds a transaction that nothing drives any more (a lost phase-2 retry, a
 * transaction the engine dropped while the log holds it unfinished), counts it only when seen
 * twice, and repairs it through the engine's own paths: the branches then learn the outcome. Real
 * RocksDB log, real gRPC participants; the loss itself is simulated.
 */
class LivenessCheckTest {
  @TempDir Path dir;

  @Test
  void aLostRetryAndALostTransactionAreFoundCountedAndDrivenToTheEnd() throws Exception {
    CoordinatorConfig config =
        CoordinatorConfig.builder()
            .dataDir(dir)
            .durability(Durability.PROCESS)
            .phase2BackoffBase(Duration.ofMillis(50))
            .phase2BackoffCap(Duration.ofMillis(200))
            .build();
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1);
    try (LogStore store = LogStore.open(config);
        DecisionLog log =
            new DecisionLog(store, config.durability(), config.maxBatchSize(), ok -> {});
        ParticipantDirectory directory =
            new ParticipantDirectory(log, Clock.systemUTC(), config.maxInboundMessageBytes());
        FakeParticipant a = FakeParticipant.start("a");
        FakeParticipant b = FakeParticipant.start("b")) {
      directory.register("a", a.address()).get(10, TimeUnit.SECONDS);
      directory.register("b", b.address()).get(10, TimeUnit.SECONDS);
      TransactionEngine engine =
          new TransactionEngine(
              config,
              log,
              store,
              new GrpcParticipantTransport(directory, () -> "localhost:0", config.tracing()),
              scheduler,
              Ticker.system(),
              CoordinatorMetrics.disabled());
      // 2 s of grace past when the next step was due: a step in progress is never counted.
      LivenessCheck check = new LivenessCheck(store, log, engine, Clock.systemUTC(), 2_000);
      List<BranchSpec> branches =
          List.of(
              new BranchSpec("a", "x".getBytes(StandardCharsets.UTF_8)),
              new BranchSpec("b", "y".getBytes(StandardCharsets.UTF_8)));

      // 1. A branch whose scheduled retry was lost: COMMITTING with nothing to move it on.
      b.phase2Down(true);
      String lostRetry = commit(engine, branches);
      Tx tx = engine.liveTx(lostRetry);
      Branch bb = tx.branches.get("b");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                synchronized (tx) {
                  return bb.retry != null && !bb.inFlight;
                }
              });
      synchronized (tx) {
        bb.retry.cancel(false);
        bb.retry = null;
        bb.nextAttemptAt = System.currentTimeMillis() - 60_000; // due long ago
      }
      b.phase2Down(false);
      assertEquals(0, check.run(), "one sighting is not yet a violation");
      assertEquals(1, check.run());
      await().atMost(Duration.ofSeconds(30)).until(() -> b.committed().contains(lostRetry));
      await().atMost(Duration.ofSeconds(30)).until(() -> engine.live(lostRetry).isEmpty());

      // 2. A transaction the engine dropped while the log holds it COMMITTING.
      b.phase2Down(true);
      String lost = commit(engine, branches);
      Tx gone = engine.liveTx(lost);
      Branch gb = gone.branches.get("b");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                synchronized (gone) {
                  return gb.retry != null && !gb.inFlight;
                }
              });
      synchronized (gone) {
        gb.retry.cancel(false); // nothing of the dropped transaction runs any more
        gb.retry = null;
      }
      engine.forget(lost);
      b.phase2Down(false);
      assertEquals(0, check.run());
      assertEquals(1, check.run());
      await().atMost(Duration.ofSeconds(30)).until(() -> b.committed().contains(lost));
      await().atMost(Duration.ofSeconds(30)).until(() -> store.find(lost).orElseThrow().finished());

      // 3. An operator's `tx retry` of a transaction the engine lost drives it too (it used to
      // be refused with "is COMMITTING"), over gRPC to the real Admin service.
      String name = InProcessServerBuilder.generateName();
      TransactionQueries queries =
          new TransactionQueries(
              store,
              engine,
              new Views(config.parkAfter(), directory::addressOf),
              Clock.systemUTC(),
              config.retention());
      Server admin =
          InProcessServerBuilder.forName(name)
              .directExecutor()
              .addService(new AdminService(engine, queries, store, log, config))
              .build()
              .start();
      ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
      try {
        b.phase2Down(true);
        String orphan = commit(engine, branches);
        Tx o = engine.liveTx(orphan);
        Branch ob = o.branches.get("b");
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> {
                  synchronized (o) {
                    return ob.retry != null && !ob.inFlight;
                  }
                });
        synchronized (o) {
          ob.retry.cancel(false);
          ob.retry = null;
        }
        engine.forget(orphan);
        b.phase2Down(false);
        AdminGrpc.newBlockingStub(channel)
            .retryTransaction(
                RetryTransactionRequest.newBuilder().setTxId(orphan).setOperator("test").build());
        await().atMost(Duration.ofSeconds(30)).until(() -> b.committed().contains(orphan));
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> store.find(orphan).orElseThrow().finished());
      } finally {
        channel.shutdownNow();
        admin.shutdownNow();
      }

      // 4. Healthy work in progress is never a violation.
      b.phase2Down(true);
      String retrying = commit(engine, branches);
      assertEquals(0, check.run());
      assertEquals(0, check.run());
      assertEquals(2, check.violations());
      b.phase2Down(false);
      await().atMost(Duration.ofSeconds(30)).until(() -> b.committed().contains(retrying));
      engine.close();
    } finally {
      scheduler.shutdownNow();
    }
  }

  private static String commit(TransactionEngine engine, List<BranchSpec> branches)
      throws Exception {
    TxResult r = engine.execute(branches, null, null, Map.of(), false).get(30, TimeUnit.SECONDS);
    assertEquals(Outcome.OUTCOME_COMMITTED, r.outcome(), r.reason());
    return r.txId();
  }
}
