package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.testing.FaultInjector;
import dev.twopc.testing.FaultInjector.Profile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A one-phase commit whose answer is lost, then a coordinator restart before the call is repeated:
 * the participant committed, so the coordinator must not presume abort.
 */
class OnePhaseAcrossRestartTest {
  @TempDir Path dir;

  @Test
  void aOnePhaseCommitWhoseAnswerWasLostIsNotAbortedByRecovery() throws Exception {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    FaultInjector dropAnswers =
        new FaultInjector(
            "coordinator->participants", 1, new Profile(0, 1, 0, 0, 0, 0, 1, 1), timer);
    Path log = dir.resolve("coordinator");
    CoordinatorServer first =
        CoordinatorServer.start(
            Coordinators.defaults(log)
                // The one-phase call is not repeated before the restart.
                .phase2BackoffBase(Duration.ofMinutes(1))
                .phase2BackoffCap(Duration.ofMinutes(1))
                .participantInterceptor(dropAnswers)
                .build());
    int port = first.port();
    CoordinatorServer second = null;
    try (Participant p =
            Participant.builder("solo")
                .coordinator("127.0.0.1:" + port)
                .dataDirectory(dir.resolve("solo"))
                .handler(new TestHandler())
                .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .build();
        TransactionClient client =
            TransactionClient.builder().target("127.0.0.1:" + port).build()) {
      p.start();
      await().atMost(Duration.ofSeconds(10)).until(p::isRegistered);

      TransactionResult r =
          client.execute(List.of(new TransactionBranch("solo", "k1".getBytes(UTF_8))));
      assertEquals(TransactionOutcome.UNKNOWN, r.outcome(), r.reason());
      // The participant did commit: only its answer was lost.
      assertEquals(List.of("k1"), BusinessDb.applied(dir.resolve("solo"), "solo", r.txId()));

      first.close();
      second =
          CoordinatorServer.start(
              Coordinators.defaults(log)
                  .port(port)
                  .phase2BackoffBase(Duration.ofMillis(20))
                  .phase2BackoffCap(Duration.ofMillis(200))
                  .build());
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertEquals(
                      TransactionOutcome.COMMITTED,
                      client.status(r.txId()).outcome(),
                      "the coordinator's answer about a transaction its participant committed"));
    } finally {
      first.close();
      if (second != null) {
        second.close();
      }
      timer.shutdownNow();
    }
  }
}
