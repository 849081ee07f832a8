package dev.twopc.coordinator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.twopc.coordinator.internal.cluster.Membership;
import dev.twopc.coordinator.internal.log.LogRecord;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogStore;
import dev.twopc.coordinator.internal.log.NodeLeases;
import dev.twopc.coordinator.internal.log.Owner;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.testing.InProcessCoordinator;
import dev.twopc.coordinator.testing.StoreKind;
import dev.twopc.coordinator.testing.TestStore;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A node taking over much more undecided work than one lease lets it write (10,000 transactions,
 * one ABORT write each, a 2 s lease) keeps its lease: renewals run apart from the takeover. Over a
 * real PostgreSQL, with the coordinator serving gRPC.
 */
class LongTakeoverTest {
  private static final int WORK = 10_000;

  @Test
  void aLongTakeoverDoesNotCostTheNodeItsLease() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(Membership.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    logger.addAppender(logged);
    try (TestStore store = TestStore.create(StoreKind.POSTGRESQL);
        CoordinatorServer node =
            CoordinatorServer.start(
                store
                    .apply(InProcessCoordinator.defaults(Files.createTempDirectory("twopc-"), 0))
                    .durability(Durability.FSYNC)
                    .nodeId("taker")
                    .lease(Duration.ofSeconds(2))
                    .build())) {
      // a node that begun WORK transactions and died before deciding any
      try (LogStore dead = LogStore.open(store.config(Durability.PROCESS))) {
        NodeLeases leases = dead.leases().orElseThrow();
        Owner gone = leases.join("gone", "gone:1", 60_000);
        List<LogRecord> batch = new ArrayList<>();
        long now = System.currentTimeMillis();
        for (int i = 0; i < WORK; i++) {
          batch.add(
              new Begun(
                  UUID.randomUUID().toString(),
                  now,
                  now + 60_000,
                  null,
                  Map.of(),
                  List.of(),
                  TxState.ACTIVE));
        }
        dead.write(batch, Durability.PROCESS);
        leases.release(gone);
      }
      await().atMost(Duration.ofMinutes(5)).until(() -> unfinished(store) == 0);
      // a renewal held up by the takeover finds the lease lapsed at its next run, after it
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(10))
          .until(() -> lost(logged).isEmpty());
      List<String> lost =
          logged.list.stream()
              .map(ILoggingEvent::getFormattedMessage)
              .filter(m -> m.contains("event=lease_lost"))
              .toList();
      assertEquals(List.of(), lost, "the taker kept its lease through the takeover");
      assertTrue(
          logged.list.stream()
                  .filter(e -> e.getFormattedMessage().contains("event=claimed"))
                  .count()
              == WORK,
          "every transaction was claimed once by the running node");
      assertTrue(node.nodeId().isPresent());
    } finally {
      logger.detachAppender(logged);
    }
  }

  private static List<String> lost(ListAppender<ILoggingEvent> logged) {
    return List.copyOf(logged.list).stream()
        .map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.contains("event=lease_lost"))
        .toList();
  }

  private static long unfinished(TestStore store) throws Exception {
    try (Connection c =
            DriverManager.getConnection(store.jdbcUrl(), store.user(), store.password());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM twopc_tx WHERE finished_at IS NULL")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
