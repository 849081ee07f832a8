package dev.twopc.bench.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The bench's output: the configuration, one row per workload, and the ratios 2PC/baseline. {@link
 * #human()} is for people; {@link #json()} is one JSON object whose keys are stable (the schema is
 * in {@code docs/benchmarks.md} and the command's help).
 */
public final class Report {
  /** What was run, in the order it is printed. Values: strings, numbers, booleans, lists. */
  private final Map<String, Object> config;

  private final PhaseResult baseline;
  private final PhaseResult twoPc;

  public Report(Map<String, Object> config, PhaseResult baseline, PhaseResult twoPc) {
    this.config = config;
    this.baseline = baseline;
    this.twoPc = twoPc;
  }

  /** Throughput of 2PC over the baseline's (higher is better for 2PC); NaN without baseline. */
  public double throughputRatio() {
    return ratio(twoPc.throughput(), baseline == null ? 0 : baseline.throughput());
  }

  public String human() {
    StringBuilder b = new StringBuilder();
    Map<String, Object> c = config;
    b.append(
        String.format(
            Locale.ROOT,
            "twopc bench: %s branch(es) x %s B payload, %s, warm-up"
                + " %s + %s measured per phase, %s round(s), order %s%n",
            c.get("branches"),
            c.get("payload_bytes"),
            loadLine(c),
            c.get("warmup"),
            c.get("duration"),
            c.get("rounds"),
            String.join(" -> ", order())));
    b.append(
        String.format(
            Locale.ROOT,
            "  coordinator: durability %s, %s%n",
            c.get("durability"),
            Boolean.TRUE.equals(c.get("wait_for_completion"))
                ? "Execute waits for phase 2 (wait_for_completion)"
                : "Execute answers once the decision is durable (phase 2 after)"));
    if ("memory".equals(c.get("participant"))) {
      b.append("  participants: memory, vote YES with no durable work (the coordinator alone)\n");
    } else if ("external".equals(c.get("participant"))) {
      b.append("  participants: external, as they were started (--participants)\n");
    } else {
      b.append(
          String.format(
              Locale.ROOT,
              "  participants: SDK with embedded SQLite pending map,"
                  + " one lock per branch (%s), vote YES, no-op commit%n",
              lockLine(c)));
    }
    b.append(
        String.format(
            Locale.ROOT,
            "  transport: %s; Prepare, Commit and Rollback %s%n",
            c.get("transport"),
            "unary".equals(c.get("participant_calls"))
                ? "as unary calls"
                : "on one stream per participant"));
    b.append(
        String.format(
            Locale.ROOT,
            "  JDK %s, %s core(s), %s; child JVMs: %s, log level %s%n",
            c.get("jdk"),
            c.get("cores"),
            c.get("os"),
            c.get("child_jvm_opts"),
            c.get("child_log_level")));
    b.append("  processes: ").append(c.get("processes")).append('\n');
    b.append('\n');
    b.append(
        String.format(
            Locale.ROOT,
            "%-9s %10s %10s %8s %8s %7s %9s %9s %9s %9s %9s%n",
            "",
            "tx/s",
            "committed",
            "aborted",
            "unknown",
            "errors",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms"));
    for (PhaseResult r : rows()) {
      b.append(
          String.format(
              Locale.ROOT,
              "%-9s %10.1f %10d %8d %8d %7d %9.2f %9.2f %9.2f %9.2f %9.2f%n",
              r.name(),
              r.throughput(),
              r.count(Outcome.COMMITTED),
              r.count(Outcome.ABORTED),
              r.count(Outcome.UNKNOWN),
              r.errors(),
              r.percentileMs(50),
              r.percentileMs(90),
              r.percentileMs(99),
              r.percentileMs(99.9),
              r.maxMs()));
    }
    if (baseline != null) {
      b.append(
          String.format(
              Locale.ROOT,
              "2pc/baseline: throughput %.2f   p50 %.2f   p99 %.2f"
                  + "   (throughput: higher is better; latency: lower is better)%n",
              throughputRatio(),
              ratio(twoPc.percentileMs(50), baseline.percentileMs(50)),
              ratio(twoPc.percentileMs(99), baseline.percentileMs(99))));
    }
    b.append('\n');
    for (PhaseResult r : rows()) {
      List<String> cpu = new ArrayList<>();
      r.cpuCores().forEach((k, v) -> cpu.add(String.format(Locale.ROOT, "%s %.2f", k, v)));
      b.append(
          String.format(
              Locale.ROOT,
              "%-9s cpu (cores busy): %s; idle after %.1f s%n",
              r.name(),
              cpu.isEmpty() ? "n/a" : String.join(", ", cpu),
              r.settle().toMillis() / 1000.0));
      if (r.errors() > 0) {
        b.append(
            String.format(Locale.ROOT, "%-9s errors by status: %s%n", r.name(), r.errorsByCode()));
      }
      if (r.stillRising()) {
        b.append(
            String.format(
                Locale.ROOT,
                "%-9s STILL RISING: the window's second half"
                    + " committed %.2fx its first; the warm-up (%s) was too short here, raise --warmup%n",
                r.name(),
                r.secondHalfRatio(),
                c.get("warmup")));
      }
      if (r.notSent() > 0) {
        b.append(
            String.format(
                Locale.ROOT,
                "%-9s NOT SENT: %d transactions due while"
                    + " --max-in-flight were in flight (the system did not keep up with --rate)%n",
                r.name(),
                r.notSent()));
      }
    }
    b.append(
            "tx/s = commits finished in the measured window / window; latency and outcomes ="
                + " transactions started in it")
        .append(
            Boolean.TRUE.equals(c.get("open_loop")) ? " (open loop: from the intended start)" : "")
        .append('\n');
    return b.toString();
  }

  public String json() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("config", config);
    root.put("baseline", baseline == null ? null : phase(baseline));
    root.put("twopc", phase(twoPc));
    if (baseline == null) {
      root.put("ratios", null);
    } else {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("throughput", throughputRatio());
      r.put("p50", ratio(twoPc.percentileMs(50), baseline.percentileMs(50)));
      r.put("p99", ratio(twoPc.percentileMs(99), baseline.percentileMs(99)));
      root.put("ratios", r);
    }
    return Json.write(root);
  }

  private static Map<String, Object> phase(PhaseResult r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("throughput_tps", r.throughput());
    m.put("measured_seconds", r.windowSeconds());
    m.put("transactions", r.transactions());
    m.put("committed", r.count(Outcome.COMMITTED));
    m.put("aborted", r.count(Outcome.ABORTED));
    m.put("unknown", r.count(Outcome.UNKNOWN));
    m.put("errors", r.errors());
    m.put("errors_by_code", r.errorsByCode());
    m.put("not_sent", r.notSent());
    m.put("second_half_ratio", Double.isNaN(r.secondHalfRatio()) ? null : r.secondHalfRatio());
    m.put("still_rising", r.stillRising());
    Map<String, Object> lat = new LinkedHashMap<>();
    lat.put("p50", r.percentileMs(50));
    lat.put("p90", r.percentileMs(90));
    lat.put("p99", r.percentileMs(99));
    lat.put("p99_9", r.percentileMs(99.9));
    lat.put("max", r.maxMs());
    lat.put("mean", r.meanMs());
    m.put("latency_ms", lat);
    m.put("cpu_cores", r.cpuCores());
    m.put("idle_after_seconds", r.settle().toMillis() / 1000.0);
    return m;
  }

  private List<PhaseResult> rows() {
    return baseline == null ? List.of(twoPc) : List.of(baseline, twoPc);
  }

  @SuppressWarnings("unchecked")
  private List<String> order() {
    return (List<String>) config.get("order");
  }

  private static String loadLine(Map<String, Object> c) {
    return Boolean.TRUE.equals(c.get("open_loop"))
        ? "open loop at " + c.get("rate") + " tx/s"
        : "closed loop, concurrency " + c.get("concurrency");
  }

  private static String lockLine(Map<String, Object> c) {
    Object k = c.get("lock_keys");
    return k instanceof Integer i && i > 0 ? "one of " + i + " keys" : "a key per transaction";
  }

  private static double ratio(double a, double b) {
    return b == 0 ? Double.NaN : a / b;
  }
}
