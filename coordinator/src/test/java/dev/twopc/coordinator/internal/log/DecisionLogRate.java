package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.testing.Records;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;

/**
 * Measures forced COMMIT decisions per second through the real {@link DecisionLog} (each with its
 * begin record and two branches, as an unkeyed Execute writes them), per store, durability mode and
 * number of concurrent writers, and the same records appended to a raw CRC-framed file with the
 * same group commit as the physical reference. Rounds are interleaved (every store once, then
 * again), and the median of three is printed with its ratio to the raw file.
 *
 * <p>Run: {@code mvn -q -pl proto,coordinator test-compile} and then {@code java -cp ...
 * dev.twopc.coordinator.internal.log.DecisionLogRate rocksdb,sqlite,postgresql,raw 1,8,64 3}; see
 * docs/benchmarks.md.
 */
// "try": the appenders' close() may throw InterruptedException (javac warns of it in try blocks)
@SuppressWarnings("try")
public final class DecisionLogRate {
  private DecisionLogRate() {}

  public static void main(String[] args) throws Exception {
    List<String> stores = List.of((args.length > 0 ? args[0] : "rocksdb,raw").split(","));
    int[] writers =
        Arrays.stream((args.length > 1 ? args[1] : "1,8,64").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    long millis = (args.length > 2 ? Long.parseLong(args[2]) : 3) * 1000;
    Map<String, double[]> runs = new LinkedHashMap<>();
    for (int round = 0; round < 3; round++) {
      for (Durability mode : Durability.values()) {
        for (int w : writers) {
          for (String store : stores) {
            double r = run(store, mode, w, millis);
            runs.computeIfAbsent(store + " " + mode + " " + w, k -> new double[3])[round] = r;
            System.err.printf("round %d %s %s %d: %.0f/s%n", round + 1, store, mode, w, r);
          }
        }
      }
    }
    System.out.printf(
        "%-11s %-8s %8s %10s %10s %10s %10s %8s%n",
        "store", "mode", "writers", "run1/s", "run2/s", "run3/s", "median/s", "vs raw");
    for (Durability mode : Durability.values()) {
      for (int w : writers) {
        double[] raw = runs.get("raw " + mode + " " + w);
        for (String store : stores) {
          double[] r = runs.get(store + " " + mode + " " + w);
          double med = median(r);
          System.out.printf(
              "%-11s %-8s %8d %10.0f %10.0f %10.0f %10.0f %8s%n",
              store,
              mode,
              w,
              r[0],
              r[1],
              r[2],
              med,
              raw == null ? "" : String.format("%.2f", med / median(raw)));
        }
      }
    }
  }

  private static double median(double[] r) {
    double[] s = r.clone();
    Arrays.sort(s);
    return s[1];
  }

  private interface Appender extends AutoCloseable {
    CompletableFuture<?> append(Decided d);
  }

  private static double run(String kind, Durability mode, int writers, long millis)
      throws Exception {
    Path dir = Files.createTempDirectory("twopc-rate");
    String schema = "rate_" + Long.toHexString(System.nanoTime());
    try (Appender log = open(kind, mode, dir, schema)) {
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<Long>> counts = new ArrayList<>();
      long start = System.nanoTime();
      for (int t = 0; t < writers; t++) {
        counts.add(
            pool.submit(
                () -> {
                  long n = 0;
                  while (!stop.get()) {
                    String id = UUID.randomUUID().toString();
                    long now = System.currentTimeMillis();
                    log.append(Records.executeCommitted(id, now, "bench", "a", "b")).get();
                    n++;
                  }
                  return n;
                }));
      }
      var timer = Executors.newSingleThreadScheduledExecutor();
      Future<?> stopped = timer.schedule(() -> stop.set(true), millis, TimeUnit.MILLISECONDS);
      stopped.get();
      long total = 0;
      for (Future<Long> f : counts) {
        total += f.get();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      pool.shutdown();
      timer.shutdown();
      return total / seconds;
    } finally {
      if (kind.equals("postgresql")) {
        try (Connection c =
                DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:5432/test", "postgres", "");
            Statement s = c.createStatement()) {
          s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
      } else if (kind.equals("mariadb")) {
        try (Connection c =
                DriverManager.getConnection("jdbc:mariadb://127.0.0.1:3306/", "root", "");
            Statement s = c.createStatement()) {
          s.execute("DROP DATABASE IF EXISTS " + schema);
        }
      }
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static Appender open(String kind, Durability mode, Path dir, String schema)
      throws Exception {
    if (kind.equals("raw")) {
      return new RawFile(dir.resolve("raw.log"), mode);
    }
    CoordinatorConfig.Builder b = CoordinatorConfig.builder().dataDir(dir).durability(mode);
    switch (kind) {
      case "rocksdb" -> {}
      case "sqlite" -> b.jdbcUrl("jdbc:sqlite:" + dir.resolve("log.db"));
      case "h2" -> b.jdbcUrl("jdbc:h2:file:" + dir.resolve("log") + ";WRITE_DELAY=0");
      case "postgresql" -> {
        try (Connection c =
                DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:5432/test", "postgres", "");
            Statement s = c.createStatement()) {
          s.execute("CREATE SCHEMA " + schema);
        }
        b.jdbcUrl("jdbc:postgresql://127.0.0.1:5432/test?user=postgres&currentSchema=" + schema);
      }
      case "mariadb" -> {
        try (Connection c =
                DriverManager.getConnection("jdbc:mariadb://127.0.0.1:3306/", "root", "");
            Statement s = c.createStatement()) {
          s.execute("CREATE DATABASE " + schema + " CHARACTER SET utf8mb4");
        }
        b.jdbcUrl("jdbc:mariadb://127.0.0.1:3306/" + schema + "?user=root");
      }
      default -> throw new IllegalArgumentException("unknown store " + kind);
    }
    CoordinatorConfig config = b.build();
    LogStore store = LogStore.open(config);
    DecisionLog log = new DecisionLog(store, mode, config.maxBatchSize(), ok -> {});
    return new Appender() {
      @Override
      public CompletableFuture<?> append(Decided d) {
        return log.decide(d);
      }

      @Override
      public void close() {
        log.close();
        store.close();
      }
    };
  }

  /**
   * The physical reference: the same group commit (one writer thread drains the queue), each record
   * a length, a CRC32C and its bytes, one write and (FSYNC) one {@code force} per batch.
   */
  private static final class RawFile implements Appender {
    @SuppressWarnings("ArrayRecordComponent") // queued bytes, never compared
    private record Item(byte[] bytes, CompletableFuture<Void> done) {}

    private final FileChannel ch;
    private final Durability mode;
    private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private volatile boolean closed;

    RawFile(Path file, Durability mode) throws IOException {
      this.ch =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
      this.mode = mode;
      this.writer = new Thread(this::run, "raw-writer");
      writer.setDaemon(true);
      writer.start();
    }

    @Override
    public CompletableFuture<?> append(Decided d) {
      String text =
          d.txId()
              + "|"
              + d.decision()
              + "|"
              + d.state()
              + "|"
              + d.decidedAt()
              + "|"
              + d.branches();
      Item it = new Item(text.getBytes(StandardCharsets.UTF_8), new CompletableFuture<>());
      queue.add(it);
      return it.done();
    }

    private void run() {
      List<Item> batch = new ArrayList<>();
      CRC32C crc = new CRC32C();
      while (!closed) {
        try {
          Item first = queue.poll(100, TimeUnit.MILLISECONDS);
          if (first == null) {
            continue;
          }
          batch.add(first);
          queue.drainTo(batch, 1023);
          int size = 0;
          for (Item i : batch) {
            size += 8 + i.bytes().length;
          }
          ByteBuffer buf = ByteBuffer.allocate(size);
          for (Item i : batch) {
            crc.reset();
            crc.update(i.bytes());
            buf.putInt(i.bytes().length).putInt((int) crc.getValue()).put(i.bytes());
          }
          buf.flip();
          while (buf.hasRemaining()) {
            ch.write(buf);
          }
          if (mode == Durability.FSYNC) {
            ch.force(false);
          }
          batch.forEach(i -> i.done().complete(null));
        } catch (InterruptedException e) {
          return;
        } catch (IOException e) {
          batch.forEach(i -> i.done().completeExceptionally(e));
        }
        batch.clear();
      }
    }

    @Override
    public void close() throws IOException, InterruptedException {
      closed = true;
      writer.join(5_000);
      ch.close();
    }
  }
}
