package dev.twopc.coordinator.cli;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * A {@code twopc} command that another jar implements ({@code bench}, {@code demo}, {@code chaos}):
 * it runs {@code java JAVA_OPTS -jar JAR [SUBCOMMAND] ARGS...} with this process's terminal and
 * returns its exit code. Every argument goes through untouched, {@code --help} included, so the
 * help and the errors are that command's own.
 *
 * <p>The jar is the one named by a system property or its environment twin ({@code
 * -Dtwopc.bench.jar} / {@code TWOPC_BENCH_JAR}, {@code -Dtwopc.samples.jar} / {@code
 * TWOPC_SAMPLES_JAR}; {@code bin/twopc} sets the properties), else the one next to this jar, else
 * this checkout's ({@code bench/target/}, {@code sample-participants/target/}). Not found: one line
 * on stderr and exit 1. The child is told which jar runs the coordinator (this one), and is stopped
 * and waited for when this JVM is (Ctrl-C reaches both; SIGTERM only this one).
 */
abstract class HandOffCommand implements Callable<Integer> {
  /**
   * A jar behind {@code twopc}: where it may be named, its file name and the module building it.
   */
  record Jar(String property, String env, String fileName, String module) {
    static final Jar BENCH =
        new Jar(
            "twopc.bench.jar", "TWOPC_BENCH_JAR", "twopc-bench-0.1.0-SNAPSHOT-all.jar", "bench");
    static final Jar SAMPLES =
        new Jar(
            "twopc.samples.jar",
            "TWOPC_SAMPLES_JAR",
            "twopc-sample-participants-0.1.0-SNAPSHOT-all.jar",
            "sample-participants");
  }

  @Spec CommandSpec spec;

  @ParentCommand TwopcCommand parent;

  /** Everything after the command's name, as given (see {@link Verbatim}). */
  @Unmatched List<String> args = new ArrayList<>();

  /** The jar that implements this command. */
  abstract Jar jar();

  /** The arguments before the user's: the subcommand of that jar, if it needs one. */
  abstract List<String> prefix();

  /** What the child needs to know of this process: the jar that runs the coordinator. */
  abstract Map<String, String> environment(Path coordinatorJar);

  /** System properties for the child's JVM. */
  List<String> properties() {
    return List.of();
  }

  @Override
  public Integer call() {
    String name = spec.qualifiedName();
    Jar jar = jar();
    String given = System.getProperty(jar.property(), System.getenv(jar.env()));
    Path self = self();
    Path found;
    try {
      found = locate(jar, given, self);
    } catch (IllegalStateException e) {
      spec.commandLine().getErr().println(name + ": " + e.getMessage());
      spec.commandLine().getErr().flush();
      return ExitCodes.FAILURE;
    }
    ProcessBuilder pb = new ProcessBuilder(command(found, System.getenv("JAVA_OPTS"))).inheritIO();
    Path coordinatorJar = self != null && Files.isRegularFile(self) ? self : null;
    environment(coordinatorJar).forEach((k, v) -> pb.environment().putIfAbsent(k, v));
    return run(pb, name);
  }

  /**
   * {@code java JAVA_OPTS PROPERTIES -jar JAR PREFIX ARGS}; JAVA_OPTS split at white space, as
   * {@code bin/twopc} does.
   */
  List<String> command(Path jarFile, String javaOpts) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (javaOpts != null && !javaOpts.isBlank()) {
      cmd.addAll(Arrays.asList(javaOpts.trim().split("\\s+")));
    }
    cmd.addAll(properties());
    cmd.add("-jar");
    cmd.add(jarFile.toString());
    cmd.addAll(prefix());
    cmd.addAll(args);
    return cmd;
  }

  /**
   * The jar: {@code given} (a property or variable's value) if set, which must then exist; else
   * next to {@code self} (the jar or classes directory this code runs from), else in the checkout
   * {@code self} sits in ({@code coordinator/target/} beside {@code MODULE/target/}).
   *
   * @throws IllegalStateException one line: where it looked, how to build it or name it
   */
  static Path locate(Jar jar, String given, Path self) {
    if (given != null && !given.isBlank()) {
      Path p = Path.of(given);
      if (Files.isRegularFile(p)) {
        return p;
      }
      throw new IllegalStateException(
          "no " + jar.fileName() + " at " + p + " (from " + jar.property() + "/" + jar.env() + ")");
    }
    List<Path> candidates = new ArrayList<>();
    if (self != null && self.getParent() != null) {
      Path dir = self.getParent();
      candidates.add(dir.resolve(jar.fileName()));
      // <checkout>/coordinator/target/<this jar or classes>
      if (dir.getParent() != null && dir.getParent().getParent() != null) {
        candidates.add(
            dir.getParent()
                .getParent()
                .resolve(jar.module())
                .resolve("target")
                .resolve(jar.fileName()));
      }
    }
    for (Path c : candidates) {
      if (Files.isRegularFile(c)) {
        return c;
      }
    }
    throw new IllegalStateException(
        "cannot find "
            + jar.fileName()
            + (candidates.isEmpty() ? "" : " (looked at " + candidates + ")")
            + ": run bin/twopc, which builds it, build it with 'mvn -B -DskipTests -pl "
            + jar.module()
            + " -am package', or name it with -D"
            + jar.property()
            + " or "
            + jar.env());
  }

  /** Runs the child to its end; stops it if this JVM stops first. */
  private int run(ProcessBuilder pb, String name) {
    Process child;
    try {
      child = pb.start();
    } catch (IOException e) {
      spec.commandLine().getErr().println(name + ": cannot start java: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return ExitCodes.FAILURE;
    }
    Thread stop =
        new Thread(
            () -> {
              child.destroy();
              try {
                child.waitFor();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "twopc-" + spec.name() + "-stop");
    ShutdownHooks hooks = parent == null ? ShutdownHooks.jvm() : parent.shutdownHooks();
    hooks.add(stop);
    try {
      return child.waitFor();
    } catch (InterruptedException e) {
      child.destroy();
      Thread.currentThread().interrupt();
      return ExitCodes.FAILURE;
    } finally {
      hooks.remove(stop);
    }
  }

  /** The jar (or classes directory) this code runs from; null if unknown. */
  private static Path self() {
    try {
      return Path.of(
          HandOffCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException | RuntimeException e) {
      return null;
    }
  }

  /**
   * The hand-off commands parse nothing: picocli stops at the first argument (every one is
   * unmatched) and keeps it and all after it as given, a later {@code --} included (a {@code --}
   * right after the command's name is picocli's, and dropped).
   */
  static final class Verbatim implements CommandLine.IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      spec.parser().stopAtUnmatched(true).stopAtPositional(true);
      return spec;
    }
  }

  @Command(
      name = "bench",
      modelTransformer = Verbatim.class,
      description = "Measure 2PC against the same calls without coordinator or log.")
  static final class Bench extends HandOffCommand {
    @Override
    Jar jar() {
      return Jar.BENCH;
    }

    @Override
    List<String> prefix() {
      return List.of();
    }

    @Override
    Map<String, String> environment(Path coordinatorJar) {
      return coordinatorJar == null
          ? Map.of()
          : Map.of("TWOPC_BENCH_COORDINATOR_JAR", coordinatorJar.toString());
    }
  }

  /** demo and chaos: subcommands of the samples' jar, shown as {@code twopc demo|chaos}. */
  abstract static class Sample extends HandOffCommand {
    @Override
    Jar jar() {
      return Jar.SAMPLES;
    }

    @Override
    List<String> prefix() {
      return List.of(spec.name());
    }

    @Override
    List<String> properties() {
      return List.of("-Dtwopc.command.name=twopc");
    }

    @Override
    Map<String, String> environment(Path coordinatorJar) {
      return coordinatorJar == null
          ? Map.of()
          : Map.of("TWOPC_DEMO_COORDINATOR_JAR", coordinatorJar.toString());
    }
  }

  @Command(
      name = "demo",
      modelTransformer = Verbatim.class,
      description = "End-to-end demo: orders, kill -9 of the coordinator, audit.")
  static final class Demo extends Sample {}

  @Command(
      name = "chaos",
      modelTransformer = Verbatim.class,
      description = "Chaos run: random kill -9 and restarts under load, audit.")
  static final class Chaos extends Sample {}
}
