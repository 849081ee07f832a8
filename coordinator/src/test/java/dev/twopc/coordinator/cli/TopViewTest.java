package dev.twopc.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.telemetry.MetricsText;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link TopView}'s figures from two hand-written scrapes two seconds apart. */
class TopViewTest {
  private static final Instant AT = Instant.parse("2026-12-03T09:00:00Z");

  private static String scrape(
      int begun,
      int committed,
      int aborted,
      int prepareOk,
      int commitUnavailable,
      int decisionFast,
      int decisionSlow,
      int inDoubt,
      double oldest) {
    int decisions = decisionFast + decisionSlow;
    return String.join(
        "\n",
        "# TYPE twopc_transactions_begun counter",
        "twopc_transactions_begun_total{path=\"execute\"} " + begun,
        "twopc_transactions_decided_total{outcome=\"committed\",path=\"execute\"} " + committed,
        "twopc_transactions_decided_total{outcome=\"aborted\",path=\"execute\"} " + aborted,
        "twopc_transactions_decided_total{outcome=\"unknown\",path=\"execute\"} 0",
        "twopc_decision_duration_seconds_bucket{path=\"execute\",le=\"0.001\"} 0",
        "twopc_decision_duration_seconds_bucket{path=\"execute\",le=\"0.01\"} " + decisionFast,
        "twopc_decision_duration_seconds_bucket{path=\"execute\",le=\"0.1\"} " + decisions,
        "twopc_decision_duration_seconds_bucket{path=\"execute\",le=\"+Inf\"} " + decisions,
        "twopc_decision_duration_seconds_count{path=\"execute\"} " + decisions,
        "twopc_participant_calls_total{code=\"OK\",method=\"Prepare\",participant=\"orders\"} "
            + prepareOk,
        "twopc_participant_calls_total{code=\"UNAVAILABLE\",method=\"Commit\","
            + "participant=\"orders\"} "
            + commitUnavailable,
        "twopc_participant_calls_total{code=\"OK\",method=\"Prepare\",participant=\"payments\"} "
            + prepareOk,
        "twopc_in_doubt_transactions " + inDoubt,
        "twopc_in_doubt_oldest_age_seconds " + oldest,
        "twopc_parked_branches 1",
        "twopc_live_transactions{state=\"COMMITTING\"} 1",
        "twopc_live_transactions{state=\"ACTIVE\"} 0",
        "twopc_store_up 1",
        "twopc_log_batch_records_count " + begun / 10,
        "twopc_log_batch_records_sum " + begun / 10 * 4,
        "");
  }

  @Test
  void ratesPercentilesAndGaugesOverTheWindow() {
    MetricsText before = MetricsText.parse(scrape(100, 90, 10, 100, 0, 100, 0, 0, 0));
    // In two seconds: 200 begun, 180 committed, 20 aborted (10/s); decisions 100 fast (<= 10 ms)
    // and
    // 100 slow (10-100 ms); orders failed 6 commits; one transaction in doubt for 75 s.
    MetricsText now = MetricsText.parse(scrape(300, 270, 30, 300, 6, 200, 100, 1, 75));
    TopView view = new TopView(before, now, Duration.ofSeconds(2), AT);

    String plain = view.plain();
    assertTrue(plain.startsWith("time=2026-12-03T09:00:00Z "), plain);
    assertTrue(plain.contains(" begun_per_s=100.0 "), plain);
    assertTrue(
        plain.contains(" committed_per_s=90.0 aborted_per_s=10.0 unknown_per_s=0.0 "), plain);
    // The median of the window is the top of the fast bucket; p99 interpolates in the slow one.
    assertTrue(plain.contains(" decision_p50_ms=10.0 "), plain);
    assertTrue(plain.contains(" decision_p99_ms=98.2 "), plain);
    assertTrue(
        plain.contains(" in_doubt=1 oldest_in_doubt_s=75.0 parked=1 live=1 store=up"), plain);
    assertTrue(
        plain.contains(
            " participant.orders.calls_per_s=103.0"
                + " participant.orders.errors_per_s=3.0 participant.orders.errors=6 "),
        plain);
    assertTrue(plain.contains(" participant.payments.errors_per_s=0.0"), plain);

    List<TopView.ParticipantRow> rows = view.participants();
    assertEquals(
        List.of("orders", "payments"), rows.stream().map(TopView.ParticipantRow::name).toList());
    assertEquals("UNAVAILABLE", rows.get(0).lastErrorCode());
    assertEquals("", rows.get(1).lastErrorCode());

    List<String> screen = view.screen("http://127.0.0.1:9464/metrics", 100);
    String text = String.join("\n", screen);
    assertTrue(text.contains("100.0 begun/s  90.0 committed/s  10.0 aborted/s"), text);
    assertTrue(text.contains("live 1 (COMMITTING 1)"), text);
    assertTrue(text.contains("decision p50 10.0ms p99 98.2ms"), text);
    assertTrue(
        text.contains("In doubt      1 transaction, oldest 1m15s   parked branches 1"), text);
    assertTrue(text.contains("up   10.0 batches/s of 4.0 records"), text);
    assertTrue(
        screen.stream()
            .anyMatch(l -> l.matches("orders\\s+103\\.0\\s+3\\.0\\s+6\\s+" + "UNAVAILABLE.*")),
        text);
    assertTrue(screen.stream().allMatch(l -> l.length() <= 100), text);
  }

  @Test
  void aRestartBetweenScrapesCountsFromZeroAndIsSaid() {
    MetricsText before =
        MetricsText.parse(
            scrape(100, 90, 10, 100, 0, 100, 0, 0, 0) + "process_start_time_seconds 1000\n");
    // Restarted: its counters start again; 20 begun and 18 committed since, in 2 s.
    MetricsText now =
        MetricsText.parse(
            scrape(20, 18, 2, 20, 0, 20, 0, 0, 0) + "process_start_time_seconds 2000\n");
    TopView view = new TopView(before, now, Duration.ofSeconds(2), AT);
    assertTrue(view.plain().contains(" begun_per_s=10.0 committed_per_s=9.0 "), view.plain());
    assertTrue(view.plain().contains(" store=up restarted=true "), view.plain());
    assertTrue(view.screen("u", 120).get(0).contains("RESTARTED meanwhile"));
    assertTrue(view.plain().contains(" participant.orders.errors_per_s=0.0 "), view.plain());
  }

  @Test
  void linesThatAreNotSamplesAreSkippedAndAPageWithoutAnyIsRefused() {
    MetricsText odd =
        MetricsText.parse(
            """
            twopc_store_up 1
            nonsense
            twopc_participant_calls_total{method="Prepare"} 3
            twopc_decision_duration_seconds_bucket{path="execute"} 4
            """);
    TopView view = new TopView(odd, odd, Duration.ofSeconds(1), AT);
    assertTrue(view.plain().endsWith(" store=up"), view.plain());
    assertTrue(view.participants().isEmpty());
    assertThrows(
        IllegalArgumentException.class,
        () -> MetricsText.parse("<html><body>Not metrics</body></html>\n"));
  }

  @Test
  void anIdleCoordinatorShowsDashesNotNumbers() {
    MetricsText idle = MetricsText.parse("twopc_store_up 0\ntwopc_in_doubt_transactions 0\n");
    TopView view = new TopView(idle, idle, Duration.ofSeconds(1), AT);
    assertTrue(view.plain().contains(" begun_per_s=0.0 "), view.plain());
    assertTrue(view.plain().contains(" decision_p99_ms=- "), view.plain());
    assertTrue(view.plain().endsWith(" store=down"), view.plain());
    String text = String.join("\n", view.screen("u", 120));
    assertTrue(text.contains("Store         DOWN"), text);
    assertTrue(text.contains("no participant called yet"), text);
  }
}
