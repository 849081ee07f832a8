package dev.twopc.coordinator.cli;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.testing.Clients;
import dev.twopc.coordinator.testing.CoordinatorArgs;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.testing.FakeParticipant;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code twopc coordinator} as its own process, as an operator runs it: its log on stderr is text
 * lines that start with an ISO-8601 timestamp, or with {@code TWOPC_LOG_FORMAT=json} one JSON
 * object per line, every line, the message's pairs as fields; the system property {@code
 * twopc.log.format} wins over the variable.
 */
class LogFormatTest {
  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) ");
  private static final String ISO =
      "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)";

  @TempDir Path dir;

  @Test
  void jsonFromTheEnvironmentIsOneObjectPerLine() throws Exception {
    Forked c = Forked.start(dir.resolve("json"), Map.of("TWOPC_LOG_FORMAT", "json"), List.of());
    String txId;
    try (FakeParticipant a = FakeParticipant.start("a");
        FakeParticipant b = FakeParticipant.start("b")) {
      String target = c.awaitListening();
      a.register(target);
      b.register(target);
      b.behave(FakeParticipant.Behaviour.NO);
      b.noReason("out of \"stock\" for sku-1 (ü)");
      ManagedChannel channel = Clients.channel(target);
      try {
        ExecuteResponse r =
            CoordinatorGrpc.newBlockingStub(channel)
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .execute(execute(a, b));
        assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
        txId = r.getTxId();
      } finally {
        channel.shutdownNow();
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> c.err.stream().anyMatch(l -> l.contains("\"event\":\"aborted\"")));
    } finally {
      c.stop();
    }
    assertFalse(c.err.isEmpty());
    List<Map<String, String>> lines = new ArrayList<>();
    for (String line : c.err) {
      lines.add(jsonLine(line)); // throws on a line that is not one JSON object
    }
    Map<String, String> started =
        lines.stream()
            .filter(l -> "started".equals(l.get("event")))
            .findFirst()
            .orElseThrow(() -> new AssertionError(String.join("\n", c.err)));
    assertTrue(started.get("ts").matches(ISO), started.get("ts"));
    assertEquals("INFO", started.get("level"));
    assertEquals("dev.twopc.coordinator.CoordinatorServer", started.get("logger"));
    assertTrue(started.get("port").matches("\\d+"), started.toString());
    assertEquals("PROCESS", started.get("durability"));
    assertTrue(started.get("message").startsWith("event=started port="), started.toString());
    Map<String, String> aborted =
        lines.stream().filter(l -> "aborted".equals(l.get("event"))).findFirst().orElseThrow();
    assertEquals(txId, aborted.get("tx"));
    // the participant's reason, quotes and all, exactly; UTF-8 whatever the platform's charset
    assertTrue(
        aborted.get("reason").endsWith("out of \"stock\" for sku-1 (ü)"), aborted.toString());
    assertTrue(aborted.get("message").contains("tx=" + txId), aborted.toString());
    assertTrue(lines.stream().anyMatch(l -> "stopped".equals(l.get("event"))), c.err.toString());
  }

  @Test
  void textByDefaultAndThePropertyWinsOverTheEnvironment() throws Exception {
    assertTextLines(untilStarted(Forked.start(dir.resolve("text"), Map.of(), List.of())));
    assertTextLines(
        untilStarted(
            Forked.start(
                dir.resolve("both"),
                Map.of("TWOPC_LOG_FORMAT", "json"),
                List.of("-Dtwopc.log.format=text"))));
  }

  /** Its stderr once it has logged event=started and been stopped. */
  private static List<String> untilStarted(Forked c) throws Exception {
    try {
      c.awaitListening();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> c.err.stream().anyMatch(l -> l.contains("event=started")));
    } finally {
      c.stop();
    }
    return c.err;
  }

  private static void assertTextLines(List<String> err) {
    String all = String.join("\n", err);
    assertTrue(
        err.stream()
            .anyMatch(
                l ->
                    l.matches(
                        ISO + " INFO  \\[main\\] CoordinatorServer - event=started port=\\d+ .*")),
        all);
    for (String line : err) {
      assertTrue(line.matches(ISO + " [A-Z]+ +\\[.*"), "not a log line: " + line + "\n" + all);
    }
  }

  /** A forked {@code twopc coordinator} whose stderr and stdout are kept, line by line. */
  private static final class Forked {
    final Process process;
    final List<String> out = new CopyOnWriteArrayList<>();
    final List<String> err = new CopyOnWriteArrayList<>();
    final List<Thread> readers = new ArrayList<>();

    private Forked(Process process) {
      this.process = process;
      readers.add(read(process.getInputStream(), out, "forked-coordinator-stdout"));
      readers.add(read(process.getErrorStream(), err, "forked-coordinator-stderr"));
    }

    static Forked start(Path data, Map<String, String> env, List<String> jvmArgs)
        throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(jvmArgs);
      cmd.addAll(
          List.of("-cp", System.getProperty("java.class.path"), TwopcCommand.class.getName()));
      cmd.addAll(CoordinatorArgs.local(data));
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.environment().remove("TWOPC_LOG_FORMAT");
      pb.environment().remove("TWOPC_LOG_LEVEL");
      pb.environment().putAll(env);
      return new Forked(pb.start());
    }

    String awaitListening() {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> !process.isAlive() || out.stream().anyMatch(l -> LISTENING.matcher(l).find()));
      Matcher m = LISTENING.matcher(String.join("\n", out));
      assertTrue(m.find(), String.join("\n", out) + "\n" + String.join("\n", err));
      return "localhost:" + m.group(1);
    }

    /** SIGTERM, as an operator stops it: the shutdown hook logs event=stopped. */
    void stop() throws InterruptedException {
      process.toHandle().destroy();
      boolean exited = process.waitFor(30, TimeUnit.SECONDS);
      process.destroyForcibly();
      for (Thread t : readers) {
        t.join(10_000);
      }
      assertTrue(exited, String.join("\n", err));
    }

    private static Thread read(InputStream in, List<String> into, String name) {
      Thread t =
          new Thread(
              () -> {
                try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                  for (String line; (line = r.readLine()) != null; ) {
                    into.add(line);
                  }
                } catch (IOException ignored) {
                  // the process ended
                }
              },
              name);
      t.setDaemon(true);
      t.start();
      return t;
    }
  }

  /** One strict JSON object of string fields (what TwopcLayout writes), or an exception. */
  private static Map<String, String> jsonLine(String line) {
    com.google.gson.JsonObject o =
        new com.google.gson.GsonBuilder()
            .setStrictness(com.google.gson.Strictness.STRICT)
            .create()
            .fromJson(line, com.google.gson.JsonObject.class);
    if (o == null) {
      throw new AssertionError("not a JSON object: " + line);
    }
    Map<String, String> m = new java.util.LinkedHashMap<>();
    o.entrySet().forEach(e -> m.put(e.getKey(), e.getValue().getAsString()));
    return m;
  }
}
