package dev.twopc.bench;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.twopc.telemetry.Durations;
import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The bench's duration flags take the one twopc syntax (Durations), with its message. */
class DurationFlagsTest {
  @Test
  void everyDurationFlagUsesTheSharedConverter() {
    List<String> seen = new ArrayList<>();
    check(BenchCommand.commandLine(new BenchCommand()), seen);
    assertEquals(Set.of("--duration", "--warmup", "--rpc-timeout"), Set.copyOf(seen));
  }

  @Test
  void durationFlagsAcceptEveryFormOfTheSyntax() {
    BenchCommand bench = new BenchCommand();
    new CommandLine(bench)
        .parseArgs("--duration", "PT1M30S", "--warmup", "2h", "--rpc-timeout", "1500ms");
    assertEquals(Duration.ofSeconds(90), bench.duration);
    assertEquals(Duration.ofHours(2), bench.warmup);
    assertEquals(Duration.ofMillis(1500), bench.rpcTimeout);
  }

  @Test
  void aBadDurationIsAUsageErrorWithTheSharedMessage() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit;
    try (PrintStream e = new PrintStream(err, true, UTF_8)) {
      exit =
          BenchCommand.commandLine(BenchCommand.printingTo(System.out, e))
              .setErr(new PrintWriter(new OutputStreamWriter(e, UTF_8), true))
              .execute("--duration", "1.5s");
    }
    assertEquals(2, exit, err.toString(UTF_8));
    assertEquals(
        "twopc bench: Invalid value for option '--duration': bad duration '1.5s': use e.g. 500ms,"
            + " 5s, 3m, 2h, 7d or PT5S (see 'twopc bench --help')",
        err.toString(UTF_8).strip());
  }

  private static void check(CommandLine cl, List<String> seen) {
    for (OptionSpec o : cl.getCommandSpec().options()) {
      if (o.type() == Duration.class) {
        seen.add(o.longestName());
        assertInstanceOf(Durations.Converter.class, o.converters()[0], o.longestName());
      }
    }
    cl.getSubcommands().values().forEach(sub -> check(sub, seen));
  }
}
