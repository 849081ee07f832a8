package dev.twopc.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.coordinator.CoordinatorServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * docs/prometheus-alerts.yml is a valid rule file whose every twopc metric exists: each name in an
 * expression is among those a live coordinator and a live participant serve on /metrics. With
 * promtool on the PATH (or TWOPC_PROMTOOL), {@code promtool check rules} must pass too.
 */
class AlertRulesTest {
  private static final Path RULES = Path.of("..", "docs", "prometheus-alerts.yml");
  private static final Pattern METRIC = Pattern.compile("\\btwopc_[a-z0-9_]+");

  @Test
  void everyRuleIsCompleteAndNamesOnlyServedMetrics(@TempDir Path dir) throws Exception {
    List<Map<String, Object>> rules = rules();
    assertTrue(rules.size() >= 4, "in doubt, parked, store, latency at least");
    Set<String> named = new TreeSet<>();
    for (Map<String, Object> r : rules) {
      String alert = (String) r.get("alert");
      assertNotNull(alert, "every rule is an alert: " + r);
      assertNotNull(r.get("expr"), alert + " has an expr");
      assertNotNull(r.get("for"), alert + " has a for");
      @SuppressWarnings("unchecked")
      Map<String, Object> labels = (Map<String, Object>) r.get("labels");
      assertNotNull(labels == null ? null : labels.get("severity"), alert + " has a severity");
      @SuppressWarnings("unchecked")
      Map<String, Object> annotations = (Map<String, Object>) r.get("annotations");
      assertNotNull(
          annotations == null ? null : annotations.get("summary"), alert + " has a summary");
      Matcher m = METRIC.matcher(String.valueOf(r.get("expr")));
      boolean any = false;
      while (m.find()) {
        named.add(m.group());
        any = true;
      }
      assertTrue(any, alert + " names a twopc metric");
    }

    String served = served(dir);
    List<String> missing = new ArrayList<>();
    for (String name : named) {
      String family = name.replaceAll("_(bucket|count|sum|total)$", "");
      if (!served.contains("# TYPE " + family + " ") && !served.contains("# TYPE " + name + " ")) {
        missing.add(name);
      }
    }
    assertEquals(List.of(), missing, "alert rules name metrics nobody serves");
  }

  @Test
  void promtoolAcceptsTheRulesWhenInstalled() throws Exception {
    String promtool = System.getenv().getOrDefault("TWOPC_PROMTOOL", "promtool");
    Process p;
    try {
      p =
          new ProcessBuilder(promtool, "check", "rules", RULES.toString())
              .redirectErrorStream(true)
              .start();
    } catch (IOException notInstalled) {
      org.junit.jupiter.api.Assumptions.abort("promtool not installed (" + promtool + ")");
      return;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("SUCCESS"), out);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> rules() throws IOException {
    try (InputStream in = Files.newInputStream(RULES)) {
      Map<String, Object> doc = new Yaml().load(in);
      List<Map<String, Object>> out = new ArrayList<>();
      for (Map<String, Object> g : (List<Map<String, Object>>) doc.get("groups")) {
        assertFalse(String.valueOf(g.get("name")).isBlank());
        out.addAll((List<Map<String, Object>>) g.get("rules"));
      }
      return out;
    }
  }

  /** The /metrics pages of a live coordinator and a live participant. */
  private static String served(Path dir) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    try (CoordinatorServer c =
        CoordinatorServer.start(
            Coordinators.defaults(dir.resolve("coordinator")).metricsPort(0).build())) {
      Participant p =
          Participant.builder("inventory")
              .coordinator(c.target())
              .dataDirectory(dir.resolve("inventory"))
              .handler(new TestHandler())
              .metricsPort(0)
              .build();
      try (p;
          TransactionClient client = TransactionClient.builder().target(c.target()).build()) {
        p.start();
        // Series with labels appear once observed: one transaction through both.
        org.awaitility.Awaitility.await()
            .until(
                () -> {
                  try {
                    return client
                            .execute(
                                List.of(
                                    new TransactionBranch(
                                        "inventory", "sku-1".getBytes(StandardCharsets.UTF_8))))
                            .outcome()
                        == TransactionOutcome.COMMITTED;
                  } catch (RuntimeException notRegisteredYet) {
                    return false;
                  }
                });
        return get(http, c.metricsPort().getAsInt()) + get(http, p.metricsPort());
      }
    }
  }

  private static String get(HttpClient http, int port) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
