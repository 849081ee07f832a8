package dev.twopc.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.telemetry.Durations;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The samples' duration flags (services, chaos) take the one twopc syntax, with its message. */
class DurationFlagsTest {
  @Test
  void everyDurationFlagOfEveryCommandUsesTheSharedConverter() {
    List<String> seen = new ArrayList<>();
    check(SampleMain.commandLine(), seen);
    for (String flag :
        new String[] {
          "twopc-sample inventory --in-doubt-after",
          "twopc-sample orders --in-doubt-after",
          "twopc-sample chaos --duration",
          "twopc-sample chaos --kill-every",
          "twopc-sample chaos --converge-timeout"
        }) {
      assertTrue(seen.contains(flag), flag + " not among " + seen);
    }
  }

  @Test
  void aBadDurationIsOneLineWithTheSharedMessage() {
    for (String[] args :
        new String[][] {
          {"chaos", "--kill-every", "1.5s"},
          {"payments", "--in-doubt-after", "1.5s"}
        }) {
      StringWriter err = new StringWriter();
      CommandLine cl = SampleMain.commandLine().setErr(new PrintWriter(err, true));
      assertEquals(2, cl.execute(args), err.toString());
      assertEquals(
          "twopc-sample "
              + args[0]
              + ": Invalid value for option '"
              + args[1]
              + "': bad duration '1.5s': use e.g. 500ms, 5s, 3m, 2h, 7d or PT5S (see"
              + " 'twopc-sample "
              + args[0]
              + " --help')",
          err.toString().strip());
    }
  }

  @Test
  void theCommandNameCanBeTheOneThatHandedOff() {
    StringWriter err = new StringWriter();
    CommandLine cl = SampleMain.commandLine("twopc").setErr(new PrintWriter(err, true));
    assertEquals(2, cl.execute("chaos", "--duration", "PT-1S"));
    assertTrue(
        err.toString().startsWith("twopc chaos: Invalid value for option '--duration': negative"),
        err.toString());
    assertTrue(err.toString().strip().endsWith("(see 'twopc chaos --help')"), err.toString());
  }

  private static void check(CommandLine cl, List<String> seen) {
    for (OptionSpec o : cl.getCommandSpec().options()) {
      if (o.type() == Duration.class) {
        seen.add(cl.getCommandSpec().qualifiedName() + " " + o.longestName());
        assertInstanceOf(Durations.Converter.class, o.converters()[0], o.longestName());
      }
    }
    cl.getSubcommands().values().forEach(sub -> check(sub, seen));
  }
}
