package dev.twopc.coordinator;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.Resolution;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.telemetry.MetricsText;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.FakeParticipant.Behaviour;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's {@code /metrics}, scraped over HTTP, across a commit, an abort, an in-doubt
 * episode (a participant down for phase 2, parked) and its resolution by an operator's retry.
 */
class MetricsTest {
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void metricsFollowCommitAbortAndAnInDoubtEpisode(@TempDir Path dir) throws Exception {
    try (CoordinatorHarness h =
        new CoordinatorHarness(
            dir,
            b ->
                b.metricsPort(0)
                    .participantStreams(true) // a message on a stream counts as its call
                    .parkAfter(Duration.ofMillis(300))
                    .phase2BackoffBase(Duration.ofMillis(50))
                    .phase2BackoffCap(Duration.ofMillis(200)))) {
      URI url = URI.create("http://127.0.0.1:" + h.server().metricsPort().getAsInt() + "/metrics");
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");

      MetricsText start = scrape(url);
      assertEquals(0, start.sum("twopc_transactions_begun_total"));
      assertEquals(0, start.sum("twopc_in_doubt_transactions"));
      assertEquals(1, start.sum("twopc_store_up"));
      assertTrue(start.all("jvm_memory_used_bytes").size() > 0, "JVM metrics beside twopc's");

      // A commit.
      ExecuteResponse committed = h.coordinator().execute(execute(a, b));
      assertEquals(Outcome.OUTCOME_COMMITTED, committed.getOutcome());
      await()
          .until(
              () ->
                  scrape(url)
                          .sum(
                              "twopc_transactions_finished_total",
                              "path",
                              "execute",
                              "outcome",
                              "committed")
                      == 1);
      MetricsText m = scrape(url);
      assertEquals(1, m.sum("twopc_transactions_begun_total", "path", "execute"));
      assertEquals(
          1, m.sum("twopc_transactions_decided_total", "path", "execute", "outcome", "committed"));
      assertEquals(1, m.sum("twopc_decision_duration_seconds_count", "path", "execute"));
      assertEquals(
          1,
          m.sum(
              "twopc_transaction_duration_seconds_count",
              "path",
              "execute",
              "outcome",
              "committed"));
      for (String p : new String[] {"a", "b"}) {
        assertEquals(
            1,
            m.sum(
                "twopc_participant_calls_total",
                "participant",
                p,
                "method",
                "Prepare",
                "code",
                "OK"));
        assertEquals(
            1,
            m.sum(
                "twopc_participant_calls_total",
                "participant",
                p,
                "method",
                "Commit",
                "code",
                "OK"));
        assertEquals(
            1,
            m.sum(
                "twopc_participant_call_duration_seconds_count",
                "participant",
                p,
                "method",
                "Prepare"));
        assertEquals(
            1, m.sum("twopc_phase2_attempts_total", "participant", p, "decision", "commit"));
      }
      assertEquals(
          1,
          m.sum(
              "twopc_grpc_server_calls_total",
              "method",
              "twopc.v1.Coordinator/Execute",
              "code",
              "OK"));
      assertTrue(m.sum("twopc_log_batch_records_count") >= 1);
      assertTrue(m.sum("twopc_log_write_duration_seconds_count") >= 1);
      assertEquals(0, m.sum("twopc_in_doubt_transactions"));

      // An abort: b votes NO.
      b.behave(Behaviour.NO);
      ExecuteResponse aborted = h.coordinator().execute(execute(a, b));
      assertEquals(Outcome.OUTCOME_ABORTED, aborted.getOutcome());
      await()
          .until(
              () ->
                  scrape(url)
                          .sum(
                              "twopc_transactions_finished_total",
                              "path",
                              "execute",
                              "outcome",
                              "aborted")
                      == 1);
      m = scrape(url);
      assertEquals(
          1, m.sum("twopc_transactions_decided_total", "path", "execute", "outcome", "aborted"));
      assertEquals(2, m.sum("twopc_transactions_begun_total"));
      assertEquals(0, m.sum("twopc_in_doubt_transactions"));

      // In doubt: committed, but b cannot be told; parked after 300 ms.
      b.behave(Behaviour.YES);
      b.phase2Down(true);
      ExecuteResponse stuck = h.coordinator().execute(execute(a, b));
      assertEquals(Outcome.OUTCOME_COMMITTED, stuck.getOutcome());
      await()
          .until(
              () -> {
                MetricsText s = scrape(url);
                return s.sum("twopc_in_doubt_transactions") == 1
                    && s.sum("twopc_parked_branches") == 1
                    && s.sum("twopc_in_doubt_oldest_age_seconds") >= 0.3;
              });
      m = scrape(url);
      assertTrue(
          m.sum(
                  "twopc_participant_calls_total",
                  "participant",
                  "b",
                  "method",
                  "Commit",
                  "code",
                  "UNAVAILABLE")
              >= 1);
      assertTrue(
          m.sum("twopc_phase2_attempts_total", "participant", "b", "decision", "commit") >= 2,
          "retried");
      assertEquals(1, m.sum("twopc_live_transactions", "state", "COMMITTING"));

      // An operator's refused resolution, then b is back and the operator retries.
      StatusRuntimeException refused =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.admin()
                      .resolveTransaction(
                          ResolveTransactionRequest.newBuilder()
                              .setTxId(stuck.getTxId())
                              .setResolution(Resolution.RESOLUTION_ABORT)
                              .setReason("b looks dead")
                              .setOperator("alice")
                              .build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
      b.phase2Down(false);
      h.admin()
          .retryTransaction(
              RetryTransactionRequest.newBuilder()
                  .setTxId(stuck.getTxId())
                  .setOperator("alice")
                  .build());
      await().until(() -> scrape(url).sum("twopc_in_doubt_transactions") == 0);
      await()
          .until(
              () ->
                  scrape(url).sum("twopc_transactions_finished_total", "outcome", "committed")
                      == 2);
      m = scrape(url);
      assertEquals(0, m.sum("twopc_parked_branches"));
      assertEquals(0, m.sum("twopc_in_doubt_oldest_age_seconds"));
      assertEquals(
          1, m.sum("twopc_operator_actions_total", "action", "abort", "result", "refused"));
      assertEquals(1, m.sum("twopc_operator_actions_total", "action", "retry", "result", "done"));
      assertEquals(0, m.sum("twopc_live_transactions"));
      assertTrue(m.sum("twopc_transactions_decided_total", "outcome", "unknown") == 0);
    }
  }

  @Test
  void noMetricsPortServesNothing(@TempDir Path dir) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(dir)) {
      assertTrue(h.server().metricsPort().isEmpty());
    }
  }

  private MetricsText scrape(URI url) throws Exception {
    return MetricsText.fetch(http, url, Duration.ofSeconds(10));
  }
}
