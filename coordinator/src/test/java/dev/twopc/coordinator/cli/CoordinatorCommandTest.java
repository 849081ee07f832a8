package dev.twopc.coordinator.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.testing.CoordinatorArgs;
import dev.twopc.testing.ForkedJvm;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code twopc coordinator}: start-up lines, serving, graceful stop on SIGTERM, start failures. */
class CoordinatorCommandTest {
  private static final Pattern LISTENING =
      Pattern.compile(
          "twopc coordinator listening on 127\\.0\\.0\\.1:(\\d+) \\(data (.+), "
              + "durability process, plaintext, loopback only\\)");

  @TempDir Path data;

  /** Collects the hooks instead of giving them to the JVM; running them is the SIGTERM. */
  static final class RecordingHooks implements ShutdownHooks {
    final List<Thread> hooks = new CopyOnWriteArrayList<>();

    @Override
    public void add(Thread hook) {
      hooks.add(hook);
    }

    @Override
    public void remove(Thread hook) {
      hooks.remove(hook);
    }
  }

  @Test
  void servesUntilTheShutdownHookRuns() throws Exception {
    RecordingHooks hooks = new RecordingHooks();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl =
        new CommandLine(new TwopcCommand(hooks))
            .setOut(new PrintWriter(out, true))
            .setErr(new PrintWriter(err, true));
    CompletableFuture<Integer> exit =
        CompletableFuture.supplyAsync(
            () ->
                cl.execute(
                    CoordinatorArgs.local(data, "--backoff-base", "20ms").toArray(String[]::new)));

    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> LISTENING.matcher(out.toString()).find() || exit.isDone());
    Matcher m = LISTENING.matcher(out.toString());
    assertTrue(m.find(), out + "\n" + err);
    String[] lines = out.toString().split("\\R", -1);
    assertTrue(
        lines[0].startsWith("twopc coordinator starting: host=127.0.0.1 port=0 data="), lines[0]);
    assertTrue(
        lines[0].contains("durability=process")
            && lines[0].contains("backoff-base=20ms")
            && lines[0].contains("retention=7d"),
        lines[0]);
    assertEquals(data.toAbsolutePath().toString(), m.group(2));
    assertEquals(
        "recovery: resumed 0 commit(s), resumed 0 abort(s), aborted 0 undecided,"
            + " 0 finished kept",
        lines[2]);

    Cli.Result list = Cli.against("localhost:" + m.group(1), "tx", "list");
    assertEquals(0, list.exitCode(), list.toString());
    assertEquals("no transactions\n", list.out());

    assertEquals(1, hooks.hooks.size());
    runHook(hooks.hooks.get(0));
    assertEquals(0, exit.get(20, TimeUnit.SECONDS));
    assertTrue(out.toString().endsWith("twopc coordinator stopped\n"), out.toString());
    assertTrue(hooks.hooks.isEmpty(), "hook removed once stopped");
  }

  @Test
  void aPortInUseIsOneLineAndExitOne() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      Cli.Result r =
          Cli.run(
              "coordinator",
              "--port",
              Integer.toString(taken.getLocalPort()),
              "--data",
              data.toString(),
              "--durability",
              "process");
      assertEquals(1, r.exitCode(), r.toString());
      assertTrue(r.err().startsWith("twopc: cannot start coordinator: "), r.err());
      assertEquals(1, r.err().split("\\R").length, r.err());
    }
  }

  @Test
  void sigtermStopsAForkedCoordinatorGracefully() throws Exception {
    try (ForkedJvm p =
        ForkedJvm.start(
            "coordinator",
            ForkedJvm.javaCommand(
                List.of(), TwopcCommand.class.getName(), CoordinatorArgs.local(data)),
            data.resolveSibling(data.getFileName() + ".log"))) {
      Matcher m =
          LISTENING.matcher(p.await("twopc coordinator listening on", Duration.ofSeconds(30)));
      assertTrue(m.matches());
      assertEquals(0, Cli.against("localhost:" + m.group(1), "tx", "list").exitCode());

      p.terminate(); // SIGTERM
      p.awaitExit(Duration.ofSeconds(30));
      p.awaitOutputEnd(Duration.ofSeconds(5));
      List<String> output = p.lines();
      assertTrue(output.contains("twopc coordinator stopped"), String.join("\n", output));
      assertFalse(output.stream().anyMatch(l -> l.startsWith("\tat ")), String.join("\n", output));
    }
  }

  /** Runs a shutdown hook here, as the JVM would run it at exit (on a thread of its own). */
  @SuppressWarnings("DoNotCall") // on purpose: the test is the JVM running its hook
  static void runHook(Thread hook) {
    hook.run();
  }
}
