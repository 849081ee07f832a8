package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Measures forced COMMIT decision writes per second (each with its begin record and two
 * branches, as the protocol writes them), per durability mode and number of concurrent writers.
 * Prints the median of three 3-second runs. Run: see docs/benchmarks.md.
 */
public final class DecisionLogRate {
  private DecisionLogRate() {}

  public static void main(String[] args) throws Exception {
    int[] writers = args.length > 0 ? Arrays.stream(args[0].split(",")).mapToInt(
        Integer::parseInt).toArray() : new int[] {1, 64};
    System.out.printf("%-8s %8s %12s %12s %12s %14s%n", "mode", "writers", "run1/s", "run2/s",
        "run3/s", "median/s");
    for (Durability mode : Durability.values()) {
      for (int w : writers) {
        double[] runs = new double[3];
        for (int i = 0; i < 3; i++) {
          runs[i] = run(mode, w, 3_000);
        }
        double[] sorted = runs.clone();
        Arrays.sort(sorted);
        System.out.printf("%-8s %8d %12.0f %12.0f %12.0f %14.0f%n", mode, w, runs[0], runs[1],
            runs[2], sorted[1]);
      }
    }
  }

  private static double run(Durability mode, int writers, long millis) throws Exception {
    Path dir = Files.createTempDirectory("twopc-rate");
    CoordinatorConfig config = CoordinatorConfig.builder().dataDir(dir).durability(mode).build();
    try (LogStore store = LogStore.open(config);
        DecisionLog log = new DecisionLog(store, mode, config.maxBatchSize(), ok -> { })) {
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<Long>> counts = new ArrayList<>();
      long start = System.nanoTime();
      for (int t = 0; t < writers; t++) {
        counts.add(pool.submit(() -> {
          long n = 0;
          while (!stop.get()) {
            String id = UUID.randomUUID().toString();
            long now = System.currentTimeMillis();
            List<BranchRow> rows = List.of(
                new BranchRow("a", 0, null, "YES", null, "COMMITTING", 0, null, null, null, now),
                new BranchRow("b", 1, null, "YES", null, "COMMITTING", 0, null, null, null, now));
            log.append(new Decided(id, "COMMIT", "COMMITTING", now, "bench", null, rows,
                new Begun(id, now, now + 30_000, null, Map.of(), rows, "ACTIVE"), false)).get();
            n++;
          }
          return n;
        }));
      }
      // the writers stop themselves when the timer fires; get() below waits for them
      Executors.newSingleThreadScheduledExecutor().schedule(() -> stop.set(true), millis,
          java.util.concurrent.TimeUnit.MILLISECONDS);
      long total = 0;
      for (Future<Long> f : counts) {
        total += f.get();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      pool.shutdown();
      return total / seconds;
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
