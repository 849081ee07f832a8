package dev.twopc.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench as users run it: a coordinator and two participants as child JVMs (from this test's
 * classpath instead of the shaded jars), a short baseline phase and a short 2PC phase, and the JSON
 * report. Asserts that the report is complete and both workloads committed; never speed.
 */
class BenchCommandTest {
  @TempDir Path dir;

  @Test
  void closedLoopReportsBothWorkloadsAndTheirRatios() {
    // With --metrics: every process it starts keeps and serves its metrics meanwhile.
    JsonObject report = run("--mode", "closed", "--concurrency", "8", "--metrics");
    JsonObject config = report.getAsJsonObject("config");
    assertEquals("kept and served by every process", config.get("metrics").getAsString());
    assertEquals("closed", config.get("mode").getAsString());
    assertEquals(8, config.get("concurrency").getAsInt());
    assertEquals("sdk", config.get("participant").getAsString());
    assertEquals("unary", config.get("participant_calls").getAsString());
  }

  @Test
  void streamParticipantCallsFromTheCoordinatorAndTheBaseline() {
    // The coordinator it starts gets --participant-calls stream, and the baseline sends alike.
    JsonObject report =
        run("--mode", "closed", "--concurrency", "4", "--participant-calls", "stream");
    assertEquals("stream", report.getAsJsonObject("config").get("participant_calls").getAsString());
    assertEquals(0, report.getAsJsonObject("baseline").get("errors").getAsLong());
    assertEquals(0, report.getAsJsonObject("twopc").get("errors").getAsLong());
  }

  @Test
  void openLoopReportsBothWorkloadsAndTheirRatios() {
    JsonObject report = run("--mode", "open", "--rate", "40");
    JsonObject config = report.getAsJsonObject("config");
    assertEquals("open", config.get("mode").getAsString());
    assertEquals(40.0, config.get("rate").getAsDouble());
    assertEquals(0, report.getAsJsonObject("twopc").get("not_sent").getAsLong());
  }

  @Test
  void withTlsEveryHopIsMutualTlsAndBothWorkloadsCommit() {
    JsonObject report = run("--mode", "closed", "--concurrency", "4", "--tls");
    assertEquals(
        "mutual TLS on every hop", report.getAsJsonObject("config").get("transport").getAsString());
  }

  @Test
  void memoryParticipantsMeasureTheCoordinatorAloneWaitingForPhaseTwo() {
    JsonObject report =
        run(
            "--mode",
            "closed",
            "--concurrency",
            "8",
            "--participant",
            "memory",
            "--participant-calls",
            "stream",
            "--wait-for-completion");
    JsonObject config = report.getAsJsonObject("config");
    assertEquals("memory", config.get("participant").getAsString());
    assertTrue(config.get("wait_for_completion").getAsBoolean());
    assertEquals(0, report.getAsJsonObject("twopc").get("errors").getAsLong());
    // the baseline too, on the memory participants' streams
    assertEquals(0, report.getAsJsonObject("baseline").get("errors").getAsLong());
  }

  @Test
  void memoryParticipantsWithTlsAreAUsageError() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try (PrintStream e = new PrintStream(err, true, UTF_8)) {
      exit =
          BenchCommand.commandLine(BenchCommand.printingTo(System.out, e))
              .setErr(new PrintWriter(new OutputStreamWriter(e, UTF_8), true))
              .execute("--participant", "memory", "--tls");
    }
    assertEquals(2, exit, err.toString(UTF_8));
    assertTrue(
        err.toString(UTF_8).contains("--participant memory is for the plaintext"),
        err.toString(UTF_8));
  }

  @Test
  void tlsFlagsThatDoNotFitTheModeAreUsageErrors() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try (PrintStream e = new PrintStream(err, true, UTF_8)) {
      exit =
          BenchCommand.commandLine(BenchCommand.printingTo(System.out, e))
              .setErr(new PrintWriter(new OutputStreamWriter(e, UTF_8), true))
              .execute("--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-trust", "t.pem");
    }
    assertEquals(2, exit, err.toString(UTF_8));
    assertTrue(
        err.toString(UTF_8)
            .contains("go with --coordinator; for the processes the bench" + " starts use --tls"),
        err.toString(UTF_8));
  }

  private JsonObject run(String... load) {
    List<String> args = new ArrayList<>(List.of(load));
    args.addAll(
        List.of(
            "--branches",
            "2",
            "--warmup",
            "1s",
            "--duration",
            "2s",
            "--durability",
            "process",
            "--payload",
            "64",
            "--json",
            "--child-jvm-opts",
            "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1",
            "--work",
            dir.resolve("work").toString()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try (PrintStream o = new PrintStream(out, true, UTF_8);
        PrintStream e = new PrintStream(err, true, UTF_8)) {
      exit =
          BenchCommand.commandLine(BenchCommand.printingTo(o, e))
              .execute(args.toArray(String[]::new));
    }
    String json = out.toString(UTF_8);
    String progress = err.toString(UTF_8);
    System.out.print(progress + json); // in the test's report
    assertEquals(0, exit, progress + json);
    assertEquals(1, json.lines().count(), "one JSON object on one line: " + json);

    JsonObject report = JsonParser.parseString(json).getAsJsonObject();
    JsonObject config = report.getAsJsonObject("config");
    assertEquals(2, config.get("branches").getAsInt());
    assertEquals(64, config.get("payload_bytes").getAsInt());
    assertEquals("process", config.get("durability").getAsString());
    assertEquals(
        List.of("baseline", "2pc"),
        config.getAsJsonArray("order").asList().stream().map(e -> e.getAsString()).toList());
    assertTrue(config.get("cores").getAsInt() > 0, json);
    for (String phase : List.of("baseline", "twopc")) {
      JsonObject p = report.getAsJsonObject(phase);
      assertTrue(p.get("committed").getAsLong() > 0, phase + " committed nothing: " + json);
      assertTrue(p.get("throughput_tps").getAsDouble() > 0, json);
      assertEquals(2.0, p.get("measured_seconds").getAsDouble(), 1e-9, json);
      JsonObject lat = p.getAsJsonObject("latency_ms");
      for (String q : List.of("p50", "p90", "p99", "p99_9", "max", "mean")) {
        assertTrue(lat.get(q).getAsDouble() > 0, phase + " latency " + q + ": " + json);
      }
      assertTrue(lat.get("p50").getAsDouble() <= lat.get("p99").getAsDouble(), json);
      assertTrue(lat.get("p99").getAsDouble() <= lat.get("max").getAsDouble(), json);
      assertTrue(p.getAsJsonObject("cpu_cores").has("bench"), json);
      assertTrue(p.getAsJsonObject("cpu_cores").has("coordinator"), json);
    }
    JsonObject ratios = report.getAsJsonObject("ratios");
    for (String r : List.of("throughput", "p50", "p99")) {
      assertTrue(ratios.get(r).getAsDouble() > 0, "ratio " + r + ": " + json);
    }
    return report;
  }
}
