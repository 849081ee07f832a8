package dev.twopc.samples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.samples.demo.DemoCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The demo as users run it, with real processes and a real {@code kill -9} of the coordinator; the
 * children run from this test's classpath instead of the shaded jars.
 */
class DemoCommandTest {
  @TempDir Path dir;

  @Test
  void demoSurvivesKill9OfTheCoordinatorAndPassesItsAudit() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int exit;
    try (PrintStream out = new PrintStream(buf, true, UTF_8)) {
      exit =
          new CommandLine(DemoCommand.printingTo(out))
              .execute(
                  "--orders",
                  "120",
                  "--concurrency",
                  "6",
                  "--work",
                  dir.resolve("demo").toString());
    }
    String output = buf.toString(UTF_8);
    System.out.print(output); // the demo's summary, in the test's report
    assertEquals(0, exit, output);
    assertTrue(output.contains("kill -9 coordinator"), output);
    assertTrue(output.contains("recovery: resumed"), output);
    assertTrue(output.contains("AUDIT PASSED"), output);
    // mutual TLS on every hop by default, and the roles hold: a client is no operator
    assertTrue(output.contains("transport: mutual TLS on every hop"), output);
    assertTrue(output.contains("  ok   a client may not act as operator"), output);
    assertTrue(output.lines().noneMatch(l -> l.contains("FAIL ")), output);
  }
}
