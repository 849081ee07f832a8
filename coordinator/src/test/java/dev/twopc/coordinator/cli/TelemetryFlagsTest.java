package dev.twopc.coordinator.cli;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.twopc.coordinator.testing.Clients;
import dev.twopc.coordinator.testing.CoordinatorArgs;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.telemetry.MetricsText;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.ForkedJvm;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code twopc coordinator} as its own process with metrics on through the environment
 * (TWOPC_METRICS_PORT) and tracing through the flag, exporting over OTLP as the standard OTEL_*
 * variables say, to a collector this test plays (OTLP over HTTP): a transaction's spans arrive
 * there, and /metrics counts it.
 */
class TelemetryFlagsTest {
  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) ");
  private static final Pattern METRICS = Pattern.compile("metrics on (http://\\S+/metrics)");

  @TempDir Path data;

  @Test
  void tracingExportsOverOtlpAndMetricsComeFromTheEnvironment() throws Exception {
    List<byte[]> exported = new CopyOnWriteArrayList<>();
    HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    collector.createContext(
        "/v1/traces",
        exchange -> {
          exported.add(exchange.getRequestBody().readAllBytes());
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    collector.start();
    ForkedJvm p =
        ForkedJvm.builder(
                "coordinator",
                ForkedJvm.javaCommand(
                    List.of(),
                    TwopcCommand.class.getName(),
                    CoordinatorArgs.local(data, "--tracing")),
                data.resolveSibling(data.getFileName() + ".log"))
            .env("TWOPC_METRICS_PORT", "0")
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://127.0.0.1:" + collector.getAddress().getPort())
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .start();
    try (FakeParticipant a = FakeParticipant.start("a");
        FakeParticipant b = FakeParticipant.start("b")) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> !p.isAlive() || p.lines().stream().anyMatch(l -> METRICS.matcher(l).find()));
      List<String> output = p.lines();
      String all = String.join("\n", output);
      Matcher listening = LISTENING.matcher(all);
      Matcher metrics = METRICS.matcher(all);
      assertTrue(listening.find() && metrics.find(), all);
      assertTrue(output.get(0).contains(" metrics=127.0.0.1:0 tracing=otlp"), output.get(0));
      String target = "localhost:" + listening.group(1);
      a.register(target);
      b.register(target);
      ManagedChannel channel = Clients.channel(target);
      try {
        ExecuteResponse r =
            CoordinatorGrpc.newBlockingStub(channel)
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .execute(execute(a, b));
        assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome());
        byte[] txId = r.getTxId().getBytes(StandardCharsets.UTF_8);
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () -> {
                  ByteArrayOutputStream all2 = new ByteArrayOutputStream();
                  for (byte[] e : exported) {
                    all2.write(e);
                  }
                  String s = all2.toString(StandardCharsets.ISO_8859_1);
                  return s.contains("twopc.decision_write")
                      && s.contains("twopc.phase2_commit")
                      && s.contains("twopc-coordinator")
                      && s.contains(new String(txId, StandardCharsets.ISO_8859_1));
                });
        MetricsText m =
            MetricsText.fetch(
                HttpClient.newHttpClient(), URI.create(metrics.group(1)), Duration.ofSeconds(10));
        assertEquals(1, m.sum("twopc_transactions_decided_total", "outcome", "committed"));
      } finally {
        channel.shutdownNow();
      }
      p.terminate();
      p.awaitExit(Duration.ofSeconds(30));
    } finally {
      p.close();
      collector.stop(0);
    }
  }
}
