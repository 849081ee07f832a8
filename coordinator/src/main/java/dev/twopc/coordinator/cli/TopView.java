package dev.twopc.coordinator.cli;

import dev.twopc.telemetry.Durations;
import dev.twopc.telemetry.MetricsText;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What {@code twopc top} shows for one refresh: figures computed from two scrapes of a
 * coordinator's {@code /metrics} taken {@code elapsed} apart (rates and latency percentiles over
 * that window; gauges and totals as of the second), as a screen or as one plain line.
 */
final class TopView {
  private static final String[] OUTCOMES = {"committed", "aborted", "unknown"};

  /** A participant's row: calls and errors over the window, prepare and commit latency. */
  record ParticipantRow(
      String name,
      double callsPerSecond,
      double errorsPerSecond,
      double errorsTotal,
      String lastErrorCode,
      double prepareP99,
      double commitP99) {}

  private final Instant at;
  private final Duration elapsed;
  private final double begunPerSecond;
  private final Map<String, Double> outcomesPerSecond = new TreeMap<>();
  private final Map<String, Double> outcomesTotal = new TreeMap<>();
  private final double decisionP50;
  private final double decisionP99;
  private final double endToEndP50;
  private final double endToEndP99;
  private final double logWriteP99;
  private final double batchesPerSecond;
  private final double recordsPerBatch;
  private final double inDoubt;
  private final double oldestInDoubtSeconds;
  private final double parked;
  private final Map<String, Double> live = new TreeMap<>();
  private final boolean storeUp;
  private final double batchFailures;
  private final double refusedOperatorActions;
  private final List<ParticipantRow> participants = new ArrayList<>();
  private final boolean restarted;
  private final boolean storeKnown;

  TopView(MetricsText previous, MetricsText now, Duration elapsed, Instant at) {
    this.at = at;
    this.elapsed = elapsed;
    // A coordinator that restarted between the scrapes counts from zero again: its figures
    // since the restart are the increase (as Prometheus' rate() takes a counter reset).
    double startedBefore = previous == null ? 0 : previous.sum("process_start_time_seconds");
    double startedNow = now.sum("process_start_time_seconds");
    restarted =
        previous != null && startedBefore > 0 && startedNow > 0 && startedNow != startedBefore;
    MetricsText before = restarted ? null : previous;
    double secs = Math.max(elapsed.toNanos() / 1e9, 1e-9);
    begunPerSecond = delta(before, now, "twopc_transactions_begun_total") / secs;
    for (String o : OUTCOMES) {
      outcomesPerSecond.put(
          o, delta(before, now, "twopc_transactions_decided_total", "outcome", o) / secs);
      outcomesTotal.put(o, now.sum("twopc_transactions_decided_total", "outcome", o));
    }
    decisionP50 = now.quantile("twopc_decision_duration_seconds", 0.5, before);
    decisionP99 = now.quantile("twopc_decision_duration_seconds", 0.99, before);
    endToEndP50 = now.quantile("twopc_transaction_duration_seconds", 0.5, before);
    endToEndP99 = now.quantile("twopc_transaction_duration_seconds", 0.99, before);
    logWriteP99 = now.quantile("twopc_log_write_duration_seconds", 0.99, before);
    double batches = delta(before, now, "twopc_log_batch_records_count");
    batchesPerSecond = batches / secs;
    recordsPerBatch =
        batches == 0 ? Double.NaN : delta(before, now, "twopc_log_batch_records_sum") / batches;
    inDoubt = now.sum("twopc_in_doubt_transactions");
    oldestInDoubtSeconds = now.sum("twopc_in_doubt_oldest_age_seconds");
    parked = now.sum("twopc_parked_branches");
    for (MetricsText.Sample s : now.all("twopc_live_transactions")) {
      if (s.value() > 0) {
        live.merge(s.labels().getOrDefault("state", "?"), s.value(), Double::sum);
      }
    }
    storeUp = now.sum("twopc_store_up") >= 1;
    storeKnown = !now.all("twopc_store_up").isEmpty();
    batchFailures = now.sum("twopc_log_batch_failures_total");
    refusedOperatorActions = now.sum("twopc_operator_actions_total", "result", "refused");
    TreeSet<String> names = new TreeSet<>();
    for (MetricsText.Sample s : now.all("twopc_participant_calls_total")) {
      String p = s.labels().get("participant");
      if (p != null) {
        names.add(p);
      }
    }
    for (String p : names) {
      double calls = delta(before, now, "twopc_participant_calls_total", "participant", p);
      double ok =
          delta(before, now, "twopc_participant_calls_total", "participant", p, "code", "OK");
      double okTotal = now.sum("twopc_participant_calls_total", "participant", p, "code", "OK");
      double total = now.sum("twopc_participant_calls_total", "participant", p);
      participants.add(
          new ParticipantRow(
              p,
              calls / secs,
              (calls - ok) / secs,
              total - okTotal,
              worstCode(before, now, p),
              now.quantile(
                  "twopc_participant_call_duration_seconds",
                  0.99,
                  before,
                  "participant",
                  p,
                  "method",
                  "Prepare"),
              now.quantile(
                  "twopc_participant_call_duration_seconds",
                  0.99,
                  before,
                  "participant",
                  p,
                  "method",
                  "Commit")));
    }
  }

  /** The non-OK code seen most in the window, or "" when every call was OK. */
  private static String worstCode(MetricsText before, MetricsText now, String participant) {
    String worst = "";
    double most = 0;
    for (MetricsText.Sample s :
        now.all("twopc_participant_calls_total", "participant", participant)) {
      String code = s.labels().get("code");
      String method = s.labels().get("method");
      if (code == null || method == null || "OK".equals(code)) {
        continue;
      }
      double d =
          s.value()
              - (before == null
                  ? 0
                  : before.sum(
                      "twopc_participant_calls_total",
                      "participant",
                      participant,
                      "code",
                      code,
                      "method",
                      method));
      if (d > most) {
        most = d;
        worst = code;
      }
    }
    return worst;
  }

  private static double delta(MetricsText before, MetricsText now, String name, String... labels) {
    return Math.max(0, now.sum(name, labels) - (before == null ? 0 : before.sum(name, labels)));
  }

  List<ParticipantRow> participants() {
    return List.copyOf(participants);
  }

  double inDoubt() {
    return inDoubt;
  }

  /** The full screen, one string per line, at most {@code width} characters wide. */
  List<String> screen(String source, int width) {
    List<String> out = new ArrayList<>();
    out.add(
        clip(
            "twopc top  "
                + source
                + "  "
                + at.truncatedTo(ChronoUnit.SECONDS)
                + "  (rates over "
                + Durations.age(elapsed)
                + (restarted ? "; RESTARTED meanwhile" : "")
                + ")",
            width));
    out.add("");
    out.add(
        String.format(
            Locale.ROOT,
            "Transactions  %s begun/s  %s committed/s  %s aborted/s" + "  %s unknown/s",
            rate(begunPerSecond),
            rate(outcomesPerSecond.get("committed")),
            rate(outcomesPerSecond.get("aborted")),
            rate(outcomesPerSecond.get("unknown"))));
    out.add(
        String.format(
            Locale.ROOT,
            "  since start  %.0f committed, %.0f aborted," + " %.0f unknown;  live %s",
            outcomesTotal.get("committed"),
            outcomesTotal.get("aborted"),
            outcomesTotal.get("unknown"),
            liveText()));
    out.add(
        String.format(
            Locale.ROOT,
            "Latency       decision p50 %s p99 %s   end to end p50 %s"
                + " p99 %s   log write p99 %s",
            ms(decisionP50),
            ms(decisionP99),
            ms(endToEndP50),
            ms(endToEndP99),
            ms(logWriteP99)));
    out.add(
        String.format(
            Locale.ROOT,
            "In doubt      %.0f transaction%s%s   parked branches %.0f",
            inDoubt,
            inDoubt == 1 ? "" : "s",
            inDoubt > 0
                ? ", oldest "
                    + Durations.age(Duration.ofMillis(Math.round(oldestInDoubtSeconds * 1000)))
                : "",
            parked));
    out.add(
        String.format(
            Locale.ROOT,
            "Store         %s   %s batches/s of %s records"
                + "   batch failures %.0f   refused operator actions %.0f",
            storeKnown ? storeUp ? "up" : "DOWN" : "?",
            rate(batchesPerSecond),
            Double.isNaN(recordsPerBatch)
                ? "-"
                : String.format(Locale.ROOT, "%.1f", recordsPerBatch),
            batchFailures,
            refusedOperatorActions));
    out.add("");
    if (participants.isEmpty()) {
      out.add("no participant called yet");
      return out.stream().map(l -> clip(l, width)).toList();
    }
    TextTable table =
        new TextTable(
            new String[] {
              "PARTICIPANT",
              "CALLS/S",
              "ERRORS/S",
              "ERRORS",
              "LAST CODE",
              "PREPARE P99",
              "COMMIT P99"
            },
            new int[] {24, 0, 0, 0, 0, 0, 0});
    for (ParticipantRow p : participants) {
      table.row(
          p.name(),
          rate(p.callsPerSecond()),
          rate(p.errorsPerSecond()),
          String.format(Locale.ROOT, "%.0f", p.errorsTotal()),
          p.lastErrorCode().isEmpty() ? "-" : p.lastErrorCode(),
          ms(p.prepareP99()),
          ms(p.commitP99()));
    }
    java.io.StringWriter sw = new java.io.StringWriter();
    java.io.PrintWriter pw = new java.io.PrintWriter(sw);
    table.print(pw, width);
    pw.flush();
    out.addAll(List.of(sw.toString().split("\\R")));
    return out.stream().map(l -> clip(l, width)).toList();
  }

  /** One line of {@code key=value} pairs (what {@code top} prints when not on a terminal). */
  String plain() {
    StringBuilder b = new StringBuilder();
    b.append("time=").append(at.truncatedTo(ChronoUnit.MILLIS));
    kv(b, "begun_per_s", rate(begunPerSecond));
    for (String o : OUTCOMES) {
      kv(b, o + "_per_s", rate(outcomesPerSecond.get(o)));
    }
    kv(b, "decision_p50_ms", msNumber(decisionP50));
    kv(b, "decision_p99_ms", msNumber(decisionP99));
    kv(b, "end_to_end_p50_ms", msNumber(endToEndP50));
    kv(b, "end_to_end_p99_ms", msNumber(endToEndP99));
    kv(b, "log_write_p99_ms", msNumber(logWriteP99));
    kv(b, "in_doubt", String.format(Locale.ROOT, "%.0f", inDoubt));
    kv(b, "oldest_in_doubt_s", String.format(Locale.ROOT, "%.1f", oldestInDoubtSeconds));
    kv(b, "parked", String.format(Locale.ROOT, "%.0f", parked));
    kv(
        b,
        "live",
        String.format(
            Locale.ROOT, "%.0f", live.values().stream().mapToDouble(Double::doubleValue).sum()));
    kv(b, "store", storeKnown ? storeUp ? "up" : "down" : "unknown");
    if (restarted) {
      kv(b, "restarted", "true");
    }
    for (ParticipantRow p : participants) {
      kv(b, "participant." + p.name() + ".calls_per_s", rate(p.callsPerSecond()));
      kv(b, "participant." + p.name() + ".errors_per_s", rate(p.errorsPerSecond()));
      kv(
          b,
          "participant." + p.name() + ".errors",
          String.format(Locale.ROOT, "%.0f", p.errorsTotal()));
      kv(b, "participant." + p.name() + ".prepare_p99_ms", msNumber(p.prepareP99()));
    }
    return b.toString();
  }

  private String liveText() {
    if (live.isEmpty()) {
      return "0";
    }
    double total = live.values().stream().mapToDouble(Double::doubleValue).sum();
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%.0f (", total));
    live.forEach(
        (state, n) ->
            b.append(b.charAt(b.length() - 1) == '(' ? "" : ", ")
                .append(state)
                .append(' ')
                .append(String.format(Locale.ROOT, "%.0f", n)));
    return b.append(')').toString();
  }

  private static void kv(StringBuilder b, String key, String value) {
    b.append(' ').append(key).append('=').append(value);
  }

  private static String rate(double perSecond) {
    return Double.isNaN(perSecond) ? "-" : String.format(Locale.ROOT, "%.1f", perSecond);
  }

  private static String ms(double seconds) {
    return Double.isNaN(seconds) ? "-" : msNumber(seconds) + "ms";
  }

  private static String msNumber(double seconds) {
    if (Double.isNaN(seconds)) {
      return "-";
    }
    double ms = seconds * 1000;
    return String.format(Locale.ROOT, ms < 10 ? "%.2f" : ms < 100 ? "%.1f" : "%.0f", ms);
  }

  private static String clip(String line, int width) {
    return line.length() <= width ? line : line.substring(0, Math.max(0, width - 3)) + "...";
  }
}
