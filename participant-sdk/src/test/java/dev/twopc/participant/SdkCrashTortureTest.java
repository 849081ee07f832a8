package dev.twopc.participant;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.twopc.testing.ChildProtocol;
import dev.twopc.testing.ForkedJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Crash torture of the participant's store, as the SDK opens it for {@link
 * Participant.Builder#dataDirectory}: each cycle starts {@link SdkTortureChild} on the same
 * directory, SIGKILLs it at a random moment (about one cycle in three while it is still opening and
 * recovering the store), then starts a participant on the directory and checks that every branch
 * whose YES vote returned is still prepared or committed, and every branch whose commit returned is
 * committed. Flags as the coordinator's CrashTortureTest: {@code -Dtwopc.torture.seed=N}, {@code
 * -Dtwopc.torture.cycles=N} (20).
 */
class SdkCrashTortureTest {
  /** Kills each child at its random moment; the test thread waits for that kill, not a sleep. */
  private static final ScheduledExecutorService KILLER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "torture-killer");
            t.setDaemon(true);
            return t;
          });

  static final long SEED = Long.getLong("twopc.torture.seed", new SecureRandom().nextLong());
  static final int CYCLES = Integer.getInteger("twopc.torture.cycles", 20);
  static final int WRITERS = Integer.getInteger("twopc.torture.writers", 16);
  static final String NAME = "torture";

  private static final class Child {
    final ForkedJvm jvm;
    final List<String> prepared = Collections.synchronizedList(new ArrayList<>());
    final List<String> committed = Collections.synchronizedList(new ArrayList<>());
    final ChildProtocol protocol = new ChildProtocol();
    final CompletableFuture<Void> opening = protocol.opening;
    final CompletableFuture<Long> ready = protocol.ready;

    Child(Path data, Path log) throws IOException {
      jvm =
          ForkedJvm.builder(
                  "sdk-torture-child",
                  ForkedJvm.javaCommand(
                      List.of(
                          "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-XX:+UseSerialGC", "-Xmx96m"),
                      SdkTortureChild.class.getName(),
                      List.of(data.toString(), NAME, String.valueOf(WRITERS))),
                  log)
              .protocolOutput()
              .onLine(this::line)
              .onEnd(() -> protocol.gone("the child exited"))
              .start();
    }

    private void line(String line) {
      if (protocol.accept(line)) {
        return;
      }
      if (line.length() == 38 && line.startsWith("P ")) {
        prepared.add(line.substring(2));
      } else if (line.length() == 38 && line.startsWith("C ")) {
        committed.add(line.substring(2));
      }
    }

    boolean kill() throws InterruptedException {
      boolean alive = jvm.isAlive();
      jvm.kill9();
      jvm.awaitOutputEnd(Duration.ofSeconds(30)); // every acknowledgement it printed is read
      return alive;
    }
  }

  @Test
  void everyVotedOrCommittedBranchSurvivesKill9() throws Exception {
    Random rnd = new Random(SEED * 31 + NAME.hashCode());
    boolean[] inOpen = new boolean[CYCLES + 1];
    for (int k = 1; k < CYCLES; k++) {
      inOpen[k] = rnd.nextInt(3) == 0;
    }
    Path dir = Files.createTempDirectory("twopc-sdk-torture");
    Path data = dir.resolve("data");
    Path log = dir.resolve("child-stderr.log");
    long started = System.nanoTime();
    List<String> pendingPrepared = new ArrayList<>();
    List<String> pendingCommitted = new ArrayList<>();
    long ackedPrepared = 0;
    long ackedCommitted = 0;
    long lost = 0;
    int killedInOpen = 0;
    long lastOpen = 300;
    String first = null;
    try {
      for (int k = 0; k < CYCLES; k++) {
        String where =
            "seed=" + SEED + " cycle=" + k + " (re-run: -Dtwopc.torture.seed=" + SEED + ")";
        long runMillis = 200L + rnd.nextInt(1301);
        double openFraction = rnd.nextDouble();
        Child child = new Child(data, log);
        boolean alive;
        try {
          long killAfter;
          if (inOpen[k]) {
            child.opening.get(60, TimeUnit.SECONDS);
            killAfter = (long) (openFraction * lastOpen * 1.2); // the random kill moment
          } else {
            lastOpen = Math.max(20, child.ready.get(60, TimeUnit.SECONDS));
            killAfter = runMillis;
          }
          alive =
              KILLER
                  .schedule(child::kill, killAfter, TimeUnit.MILLISECONDS)
                  .get(killAfter + 60_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
          child.kill();
          fail("the child did not open the store: " + e + "; " + where + "\n" + tail(log));
          return;
        } finally {
          child.kill(); // a no-op when the scheduled kill ran
        }
        if (!alive) {
          fail("the child died before it was killed; " + where + "\n" + tail(log));
        }
        String survived = child.protocol.survivedErrors("branch operations");
        if (survived != null) {
          fail(survived + "; " + where + "\n" + tail(log));
        }
        if (!child.ready.isDone() || child.ready.isCompletedExceptionally()) {
          killedInOpen++;
        }
        pendingPrepared.addAll(child.prepared);
        pendingCommitted.addAll(child.committed);
        ackedPrepared += child.prepared.size();
        ackedCommitted += child.committed.size();
        if (inOpen[k + 1]) {
          continue; // the next child recovers the store as this one left it
        }
        List<String> missing = verify(dir, data, pendingPrepared, pendingCommitted, where, log);
        if (!missing.isEmpty() && first == null) {
          first =
              "cycle "
                  + k
                  + ": "
                  + missing.size()
                  + " missing of "
                  + pendingPrepared.size()
                  + " YES / "
                  + pendingCommitted.size()
                  + " commits, e.g. "
                  + missing.get(0)
                  + "; "
                  + where;
        }
        lost += missing.size();
        pendingPrepared.clear();
        pendingCommitted.clear();
      }
      System.out.printf(
          Locale.ROOT,
          "sdk torture seed=%d cycles=%d ackedYes=%d ackedCommits=%d"
              + " lost=%d killedDuringReopen=%d elapsed=%.1fs%n",
          SEED,
          CYCLES,
          ackedPrepared,
          ackedCommitted,
          lost,
          killedInOpen,
          (System.nanoTime() - started) / 1e9);
      if (lost > 0) {
        fail(
            "lost "
                + lost
                + " of "
                + ackedPrepared
                + " acknowledged YES votes and "
                + ackedCommitted
                + " acknowledged commits; first: "
                + first
                + " (re-run: -Dtwopc.torture.seed="
                + SEED
                + ")");
      }
      assertTrue(
          ackedPrepared > 0,
          "no YES vote returned in any cycle; seed="
              + SEED
              + " (re-run: -Dtwopc.torture.seed="
              + SEED
              + ")\n"
              + tail(log));
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  /** Checks in a fresh JVM (see {@link SdkTortureChild}); returns the missing acknowledgements. */
  private static List<String> verify(
      Path dir, Path data, List<String> prepared, List<String> committed, String where, Path log)
      throws Exception {
    Path acked = dir.resolve("acked.txt");
    List<String> lines = new ArrayList<>();
    prepared.forEach(id -> lines.add("P " + id));
    committed.forEach(id -> lines.add("C " + id));
    Files.write(acked, lines);
    List<String> cmd =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:TieredStopAtLevel=1",
            "-Xshare:auto",
            "-XX:+UseSerialGC",
            "-Xmx96m",
            "-cp",
            System.getProperty("java.class.path"),
            SdkTortureChild.class.getName(),
            "verify",
            data.toString(),
            NAME,
            acked.toString());
    Process v =
        new ProcessBuilder(cmd)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    List<String> missing = new ArrayList<>();
    String verified = null;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(v.getInputStream(), StandardCharsets.US_ASCII))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("MISSING ")) {
          missing.add(line.substring(8));
        } else if (line.startsWith("VERIFIED ")) {
          verified = line;
        } else if (line.startsWith("OPENFAIL ")) {
          throw new AssertionError(
              "the participant does not start on its store after the "
                  + "kill: "
                  + line.substring(9)
                  + "; "
                  + where
                  + "\n"
                  + tail(log));
        }
      }
    } finally {
      v.destroyForcibly();
      v.waitFor(30, TimeUnit.SECONDS);
    }
    if (verified == null) {
      throw new AssertionError("the verifier ended without a verdict; " + where + "\n" + tail(log));
    }
    return missing;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return "child stderr (last lines):\n"
          + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no child stderr: " + e + ")";
    }
  }
}
