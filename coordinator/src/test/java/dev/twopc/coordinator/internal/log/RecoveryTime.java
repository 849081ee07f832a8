package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.log.rocks.RocksLogStore;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures how long a coordinator takes to serve after a start on a log holding many finished and
 * some in-doubt transactions (issue 16, item 5): writes {@code finished} finished and {@code
 * inDoubt} decided-COMMIT transactions whose branches still wait for phase 2 (their participants
 * are not running, so they stay in doubt) into a fresh RocksDB log, then starts {@code twopc
 * coordinator} from the given jar on it, three times, and prints the time from the process start to
 * its ready line ({@code twopc coordinator listening on ...}, printed once recovery resumed every
 * in-doubt transaction and the port is open) and the recovery summary.
 *
 * <p>Run: {@code mvn -q -pl proto,coordinator test-compile}, then {@code java -cp
 * coordinator/target/test-classes:coordinator/target/classes:$(cat cp.txt)
 * dev.twopc.coordinator.internal.log.RecoveryTime JAR FINISHED IN_DOUBT}; see docs/benchmarks.md.
 */
public final class RecoveryTime {
  private RecoveryTime() {}

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]);
    int finished = Integer.parseInt(args[1]);
    int inDoubt = Integer.parseInt(args[2]);
    Path data = Files.createTempDirectory("twopc-recovery-time");
    long t0 = System.nanoTime();
    populate(data, finished, inDoubt);
    System.out.printf(
        Locale.ROOT,
        "wrote %d finished and %d in-doubt transactions in %.1f s" + " (%s)%n",
        finished,
        inDoubt,
        (System.nanoTime() - t0) / 1e9,
        data);
    for (int run = 1; run <= 3; run++) {
      start(jar, data, run);
    }
  }

  private static BranchRow branch(String participant, int index, BranchState state, long at) {
    return new BranchRow(
        participant, index, "digest", Vote.YES, null, state, 0, null, null, null, at);
  }

  private static void populate(Path data, int finished, int inDoubt) throws Exception {
    long now = System.currentTimeMillis();
    try (LogStore store = RocksLogStore.open(data, Durability.PROCESS)) {
      List<LogRecord> batch = new ArrayList<>();
      for (int i = 0; i < finished + inDoubt; i++) {
        boolean done = i < finished;
        String tx = (done ? "done-" : "doubt-") + i;
        long at = now - 60_000 + (i % 60_000);
        List<BranchRow> branches =
            List.of(
                branch("p1", 0, BranchState.COMMITTING, at),
                branch("p2", 1, BranchState.COMMITTING, at));
        Begun begun = new Begun(tx, at, at + 30_000, null, Map.of(), branches, TxState.PREPARING);
        batch.add(
            new Decided(
                tx,
                Decision.COMMIT,
                TxState.COMMITTING,
                at,
                "coordinator",
                null,
                branches,
                begun,
                false));
        if (done) {
          batch.add(
              new Finished(
                  tx,
                  TxState.COMMITTED,
                  at + 1,
                  List.of(
                      new BranchUpdated(tx, "p1", BranchState.COMMITTED, 1, null, at + 1, at + 1),
                      new BranchUpdated(
                          tx, "p2", BranchState.COMMITTED, 1, null, at + 1, at + 1))));
        }
        if (batch.size() >= 2_000) {
          store.write(batch, Durability.PROCESS);
          batch.clear();
        }
      }
      if (!batch.isEmpty()) {
        store.write(batch, Durability.PROCESS);
      }
      if (store.countFinished() != finished || store.unfinished().size() != inDoubt) {
        throw new IllegalStateException(
            "log holds "
                + store.countFinished()
                + " finished and "
                + store.unfinished().size()
                + " unfinished");
      }
    }
  }

  /** Starts the coordinator on the log, waits for its ready line, prints the time, stops it. */
  private static void start(Path jar, Path data, int run) throws Exception {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    ProcessBuilder pb =
        new ProcessBuilder(
                java.toString(),
                "-Xmx512m",
                "-jar",
                jar.toString(),
                "coordinator",
                "--data",
                data.toString(),
                "--port",
                "0",
                "--durability",
                "fsync",
                "--retention",
                "7d")
            .redirectErrorStream(true);
    pb.environment().put("TWOPC_LOG_LEVEL", "info");
    long started = System.nanoTime();
    Process p = pb.start();
    String summary = "";
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.contains("event=started")) {
          summary = line.substring(line.indexOf("event=started"));
        }
        if (line.startsWith("twopc coordinator listening on")) {
          double s = (System.nanoTime() - started) / 1e9;
          System.out.printf(
              Locale.ROOT,
              "run %d: serving %.2f s after the process started;" + " %s%n",
              run,
              s,
              summary);
          break;
        }
      }
    } finally {
      p.destroy();
      p.waitFor();
    }
  }
}
