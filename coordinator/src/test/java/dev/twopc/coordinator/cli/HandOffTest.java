package dev.twopc.coordinator.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.telemetry.Durations;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * One root for every command: {@code twopc --help} lists them all, and bench, demo and chaos hand
 * off to the jar that implements them (here a tiny stand-in jar), arguments untouched.
 */
class HandOffTest {
  private static final List<String> ALL =
      List.of(
          "coordinator",
          "tx",
          "participants",
          "nodes",
          "participant",
          "top",
          "log",
          "certs",
          "bench",
          "demo",
          "chaos");

  @TempDir Path dir;

  @Test
  void helpListsEveryCommandEachWithItsLine() {
    Cli.Result r = Cli.runAsMain("--help");
    assertEquals(0, r.exitCode(), r.toString());
    for (String name : ALL) {
      assertTrue(
          r.outLines().stream().anyMatch(l -> l.matches("  " + name + "  +\\S.*")),
          name + " missing from\n" + r.out());
    }
    CommandLine root = TwopcCommand.commandLine(new TwopcCommand());
    assertEquals(ALL, List.copyOf(root.getSubcommands().keySet()));
  }

  @Test
  void everyDurationFlagOfEveryCommandUsesTheSharedSyntax() {
    int n = durationFlags(TwopcCommand.commandLine(new TwopcCommand()));
    assertTrue(n >= 10, n + " duration flags");
  }

  @Test
  void demoRunsTheSamplesJarWithItsNameAndEveryArgumentAndReturnsItsExitCode() throws IOException {
    Path jar = standIn("samples.jar");
    Path out = dir.resolve("out");
    String old = System.setProperty(HandOffCommand.Jar.SAMPLES.property(), jar.toString());
    Cli.Result r;
    try {
      r =
          Cli.runAsMain(
              "demo", "--help", "-- x", "--", "--orders=5", "--out", out.toString(), "--exit", "7");
    } finally {
      restore(HandOffCommand.Jar.SAMPLES.property(), old);
    }
    assertEquals(7, r.exitCode(), r.toString());
    List<String> seen = Files.readAllLines(out, UTF_8);
    assertEquals("demo --help -- x -- --orders=5 --out " + out + " --exit 7", seen.get(0));
    assertEquals("twopc", seen.get(1), "its usage and errors say 'twopc demo'");
  }

  @Test
  void benchRunsTheBenchJarAsIs() throws IOException {
    Path jar = standIn("bench.jar");
    Path out = dir.resolve("out");
    String old = System.setProperty(HandOffCommand.Jar.BENCH.property(), jar.toString());
    Cli.Result r;
    try {
      r = Cli.run("bench", "--duration", "5s", "--out", out.toString(), "--exit", "0");
    } finally {
      restore(HandOffCommand.Jar.BENCH.property(), old);
    }
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals("--duration 5s --out " + out + " --exit 0", Files.readAllLines(out, UTF_8).get(0));
  }

  @Test
  void theCommandIsJavaWithJavaOptsThenTheJarThenTheArguments() {
    HandOffCommand chaos = new HandOffCommand.Chaos();
    new CommandLine(chaos).parseArgs("--duration", "10m");
    List<String> cmd = chaos.command(Path.of("s.jar"), " -Xmx1g  -Dx=y ");
    assertEquals(
        List.of("-Xmx1g", "-Dx=y", "-Dtwopc.command.name=twopc", "-jar", "s.jar", "chaos"),
        cmd.subList(1, 7));
    assertEquals(List.of("--duration", "10m"), cmd.subList(7, cmd.size()));
    assertTrue(cmd.get(0).endsWith("java"), cmd.get(0));
    assertEquals(
        Map.of("TWOPC_DEMO_COORDINATOR_JAR", "/x/twopc.jar"),
        chaos.environment(Path.of("/x/twopc.jar")));
    assertEquals(
        Map.of("TWOPC_BENCH_COORDINATOR_JAR", "/x/twopc.jar"),
        new HandOffCommand.Bench().environment(Path.of("/x/twopc.jar")));
  }

  @Test
  void aMissingJarIsOneLineAndExitOne() {
    String old =
        System.setProperty(HandOffCommand.Jar.BENCH.property(), dir.resolve("no.jar").toString());
    Cli.Result r;
    try {
      r = Cli.runAsMain("bench", "--help");
    } finally {
      restore(HandOffCommand.Jar.BENCH.property(), old);
    }
    assertEquals(1, r.exitCode(), r.toString());
    assertEquals("", r.out());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(
        r.err().startsWith("twopc bench: no twopc-bench-0.1.0-SNAPSHOT-all.jar at "), r.err());
  }

  @Test
  void withoutANameTheJarIsLookedForNextToThisOneThenInTheCheckout() throws IOException {
    HandOffCommand.Jar jar = HandOffCommand.Jar.BENCH;
    Path self = Files.createDirectories(dir.resolve("coordinator/target")).resolve("twopc.jar");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> HandOffCommand.locate(jar, null, self));
    assertTrue(e.getMessage().startsWith("cannot find " + jar.fileName()), e.getMessage());
    assertTrue(e.getMessage().contains("-pl bench -am package"), e.getMessage());
    assertTrue(e.getMessage().contains("TWOPC_BENCH_JAR"), e.getMessage());

    Path checkout = Files.createDirectories(dir.resolve("bench/target")).resolve(jar.fileName());
    Files.createFile(checkout);
    assertEquals(checkout, HandOffCommand.locate(jar, "", self));
    Path beside = Files.createFile(self.resolveSibling(jar.fileName()));
    assertEquals(beside, HandOffCommand.locate(jar, null, self));
  }

  /** A jar whose main is {@link HandOffTarget}, from this test's classes. */
  private Path standIn(String name) throws IOException {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, HandOffTarget.class.getName());
    Path classes;
    try {
      classes =
          Path.of(HandOffTarget.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    m.getMainAttributes().put(Attributes.Name.CLASS_PATH, classes.toUri().toString());
    Path jar = dir.resolve(name);
    try (OutputStream o = Files.newOutputStream(jar);
        JarOutputStream j = new JarOutputStream(o, m)) {
      j.flush();
    }
    return jar;
  }

  private static int durationFlags(CommandLine cl) {
    int n = 0;
    for (OptionSpec o : cl.getCommandSpec().options()) {
      if (o.type() == Duration.class) {
        assertInstanceOf(Durations.Converter.class, o.converters()[0], o.longestName());
        n++;
      }
    }
    for (CommandLine sub : cl.getSubcommands().values()) {
      n += durationFlags(sub);
    }
    return n;
  }

  private static void restore(String property, String old) {
    if (old == null) {
      System.clearProperty(property);
    } else {
      System.setProperty(property, old);
    }
  }
}
