package dev.twopc.coordinator.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.FakeParticipant.Behaviour;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code twopc top} against a real coordinator's /metrics over HTTP: the plain lines it prints off
 * a terminal count the transactions run, show an in-doubt transaction and the failing participant,
 * and go back to zero when it is resolved.
 */
class TopCommandTest {
  private static final Pattern IN_DOUBT = Pattern.compile(" in_doubt=(\\d+) ");

  @Test
  void followsCommitsAnInDoubtTransactionAndItsResolution(@TempDir Path dir) throws Exception {
    try (TestCoordinator c = TestCoordinator.startWithMetrics(dir);
        FakeParticipant a = c.participant("alpha");
        FakeParticipant b = c.participant("beta")) {
      for (int i = 0; i < 5; i++) {
        assertEquals(Outcome.OUTCOME_COMMITTED, c.executeAndWait(a, b).getOutcome());
      }
      Cli.Result r =
          Cli.run("top", "--metrics", c.metricsUrl(), "--interval", "200ms", "--count", "2");
      assertEquals(0, r.exitCode(), r.toString());
      List<String> lines = r.outLines();
      assertEquals(2, lines.size(), r.toString());
      for (String line : lines) {
        assertTrue(line.matches("time=\\S+ begun_per_s=\\S+ committed_per_s=\\S+ .*"), line);
        assertTrue(line.contains(" in_doubt=0 "), line);
        assertTrue(line.contains(" store=up"), line);
        assertTrue(line.contains(" participant.alpha.errors=0 "), line);
      }

      // Committed, but beta cannot hear it: in doubt, parked, and beta's errors show.
      b.phase2Down(true);
      String stuck = c.execute(a, b).getTxId();
      await()
          .until(
              () ->
                  inDoubt(
                          Cli.run(
                              "top",
                              "--metrics",
                              c.metricsUrl(),
                              "--interval",
                              "200ms",
                              "--count",
                              "1",
                              "--plain"))
                      == 1);
      String line =
          Cli.run("top", "--metrics", c.metricsUrl(), "--interval", "200ms", "--count", "1").out();
      assertTrue(line.contains(" parked=1 "), line);
      assertTrue(Pattern.compile(" participant\\.beta\\.errors=[1-9]").matcher(line).find(), line);
      assertTrue(line.contains(" participant.alpha.errors=0 "), line);

      b.phase2Down(false);
      b.behave(Behaviour.YES);
      try {
        c.admin()
            .retryTransaction(
                RetryTransactionRequest.newBuilder()
                    .setTxId(stuck)
                    .setOperator("top-test")
                    .build());
      } catch (StatusRuntimeException e) {
        // A parked branch is still retried now and then: it may have finished already.
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.toString());
      }
      await()
          .until(
              () ->
                  inDoubt(
                          Cli.run(
                              "top",
                              "--metrics",
                              c.metricsUrl(),
                              "--interval",
                              "200ms",
                              "--count",
                              "1"))
                      == 0);
    }
  }

  @Test
  void anUnreachableEndpointIsOneLineAndExitThree() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Cli.Result r =
        Cli.run("top", "--metrics", "http://127.0.0.1:" + port + "/metrics", "--count", "1");
    assertEquals(ExitCodes.UNREACHABLE, r.exitCode(), r.toString());
    assertEquals("", r.out());
    assertEquals(1, r.err().lines().count(), r.toString());
    assertTrue(
        r.err().startsWith("twopc: cannot read http://127.0.0.1:" + port + "/metrics: "),
        r.toString());
  }

  @Test
  void aPageThatIsNotMetricsIsOneLineAndExitThree() throws IOException {
    com.sun.net.httpserver.HttpServer web =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    web.createContext(
        "/",
        ex -> {
          byte[] body =
              "<html><body>hello</body></html>\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    web.start();
    try {
      String url = "http://127.0.0.1:" + web.getAddress().getPort() + "/metrics";
      Cli.Result r = Cli.run("top", "--metrics", url, "--count", "1");
      assertEquals(ExitCodes.UNREACHABLE, r.exitCode(), r.toString());
      assertEquals(
          "twopc: cannot read "
              + url
              + ": not a Prometheus text page (is the"
              + " coordinator running with --metrics-port?)",
          r.err().strip(),
          r.toString());
    } finally {
      web.stop(0);
    }
  }

  @Test
  void badArgumentsAreUsageErrors() {
    Cli.Result notUrl = Cli.runAsMain("top", "--metrics", "127.0.0.1:9464");
    assertEquals(2, notUrl.exitCode(), notUrl.toString());
    assertTrue(
        notUrl.err().contains("--metrics must be an http:// or https:// URL"), notUrl.toString());
    Cli.Result fast = Cli.runAsMain("top", "--interval", "10ms");
    assertEquals(2, fast.exitCode(), fast.toString());
    assertTrue(fast.err().contains("--interval must be at least 100ms"), fast.toString());
  }

  private static int inDoubt(Cli.Result r) {
    Matcher m = IN_DOUBT.matcher(r.out());
    assertTrue(m.find(), r.toString());
    return Integer.parseInt(m.group(1));
  }
}
