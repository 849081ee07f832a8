package dev.twopc.coordinator.internal.log;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.testing.ChildProtocol;
import dev.twopc.testing.ForkedJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Crash torture of the decision log, per store: each cycle starts {@link CrashTortureChild} on the
 * same files, SIGKILLs it at a random moment (in about one cycle in three while it is still
 * reopening the store, before READY), then opens the store and checks that every transaction the
 * child acknowledged as durable is there with decision COMMIT.
 *
 * <p>A cycle that kills during the reopen is preceded by a cycle whose acknowledgements are checked
 * only after it, so that reopen is the recovery of a store that was just killed while writing (the
 * parent's own open would otherwise have recovered and cleanly closed it first).
 *
 * <p>Flags: {@code -Dtwopc.torture.seed=N}, {@code -Dtwopc.torture.cycles=N} (20), {@code
 * -Dtwopc.torture.stores=a,b} (default {@value #DEFAULT_STORES}; also {@code h2-process}, the
 * configuration the log ran H2 in before, which loses acknowledged decisions, and {@code h2-fsync},
 * H2 with CHECKPOINT SYNC per batch, which lost 6 of 6,609 at 60 cycles: H2 is for tests only, see
 * docs/storage.md; {@code postgres-process}, {@code mariadb-process}), {@code
 * -Dtwopc.torture.parallel=N} (2 stores at a time), {@code -Dtwopc.torture.writers=N} (16).
 * PostgreSQL and MariaDB are skipped when not reachable, unless env CI is set.
 */
// "try": the stores' close() may throw InterruptedException (javac warns of it in try blocks)
@SuppressWarnings("try")
class CrashTortureTest {
  /** Kills each child at its random moment; the test thread waits for that kill, not a sleep. */
  private static final ScheduledExecutorService KILLER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "torture-killer");
            t.setDaemon(true);
            return t;
          });

  static final String DEFAULT_STORES =
      "rocks-fsync,rocks-process,sqlite-fsync,sqlite-process,postgres,mariadb";
  static final long SEED = Long.getLong("twopc.torture.seed", new SecureRandom().nextLong());
  static final int CYCLES = Integer.getInteger("twopc.torture.cycles", 20);
  static final int WRITERS = Integer.getInteger("twopc.torture.writers", 16);

  /** Stores tortured at once. */
  static final int PARALLEL = Integer.getInteger("twopc.torture.parallel", 2);

  static final String PG_ADMIN = "jdbc:postgresql://127.0.0.1:5432/test";
  static final String MARIADB_ADMIN = "jdbc:mariadb://127.0.0.1:3306/";

  /** JVM options that make a child start faster: found once per run, see {@link #jvmOptions}. */
  private static List<String> jvmOptions;

  private static String childClasspath;

  @TestFactory
  Stream<DynamicTest> everyStoreKeepsWhatItAcknowledged() throws Exception {
    jvmOptions = fastStart();
    System.out.println("CrashTortureTest child JVM options: " + jvmOptions);
    System.out.println(
        "CrashTortureTest seed="
            + SEED
            + " cycles="
            + CYCLES
            + " (re-run: -Dtwopc.torture.seed="
            + SEED
            + ")");
    String stores = System.getProperty("twopc.torture.stores", DEFAULT_STORES);
    List<String> names =
        Arrays.stream(stores.split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .collect(Collectors.toList());
    // Stores are independent (own files, schemas): two at a time overlap one's child start with
    // the other's fsync waits and kill delays. Each dynamic test reports its store's result.
    ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
    Map<String, Future<?>> runs = new LinkedHashMap<>();
    for (String name : names) {
      runs.put(
          name,
          pool.submit(
              () -> {
                torture(name);
                return null;
              }));
    }
    pool.shutdown();
    return runs.entrySet().stream()
        .map(
            e ->
                DynamicTest.dynamicTest(
                    e.getKey(),
                    () -> {
                      try {
                        e.getValue().get();
                      } catch (ExecutionException failed) {
                        throw failed.getCause();
                      }
                    }));
  }

  /** Where a store lives and how to open it, in the child and here. */
  private abstract static class Target implements AutoCloseable {
    final String name;
    final Durability mode;
    final Path dir;

    Target(String name, Durability mode) throws IOException {
      this.name = name;
      this.mode = mode;
      this.dir = Files.createTempDirectory("twopc-torture-" + name);
    }

    abstract List<String> childArgs();

    @Override
    public String toString() {
      return name;
    }

    abstract CoordinatorConfig.Builder config();

    LogStore open() throws IOException {
      return LogStore.open(config().durability(mode).build());
    }

    @Override
    public void close() throws Exception {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static final class Rocks extends Target {
    Rocks(String name, Durability mode) throws IOException {
      super(name, mode);
    }

    @Override
    List<String> childArgs() {
      return List.of("rocks", dir.resolve("data").toString(), mode.name(), String.valueOf(WRITERS));
    }

    @Override
    CoordinatorConfig.Builder config() {
      return CoordinatorConfig.builder().dataDir(dir.resolve("data"));
    }
  }

  private static class Jdbc extends Target {
    String url;
    String user;
    String password;

    Jdbc(String name, Durability mode, String url, String user, String password)
        throws IOException {
      super(name, mode);
      this.url = url;
      this.user = user;
      this.password = password;
    }

    @Override
    List<String> childArgs() {
      return List.of("jdbc", url, user, password, mode.name(), String.valueOf(WRITERS));
    }

    @Override
    CoordinatorConfig.Builder config() {
      return CoordinatorConfig.builder().jdbcUrl(url).jdbcUser(user).jdbcPassword(password);
    }
  }

  /** A server database in a schema (PostgreSQL) or database (MariaDB) of its own. */
  private static final class Server extends Jdbc {
    final String adminUrl;
    final String drop;

    Server(
        String name,
        Durability mode,
        String adminUrl,
        String user,
        String create,
        String drop,
        String url)
        throws Exception {
      super(name, mode, url, user, "");
      this.adminUrl = adminUrl;
      this.drop = drop;
      admin(create);
    }

    void admin(String sql) throws SQLException {
      try (Connection c = DriverManager.getConnection(adminUrl, user, "");
          Statement s = c.createStatement()) {
        s.execute(sql);
      }
    }

    @Override
    public void close() throws Exception {
      try {
        admin(drop);
      } finally {
        super.close();
      }
    }
  }

  private static Target target(String name) throws Exception {
    String kind = name.contains("-") ? name.substring(0, name.indexOf('-')) : name;
    Durability mode = name.endsWith("-process") ? Durability.PROCESS : Durability.FSYNC;
    String schema = "t_" + HexFormat.of().formatHex(new SecureRandom().generateSeed(6));
    switch (kind) {
      case "rocks":
        return new Rocks(name, mode);
      case "sqlite":
        {
          Jdbc t = new Jdbc(name, mode, null, "", "");
          t.url = "jdbc:sqlite:" + t.dir.resolve("log.db");
          return t;
        }
      case "h2":
        {
          Jdbc t = new Jdbc(name, mode, null, "sa", "");
          t.url = "jdbc:h2:file:" + t.dir.resolve("log") + ";WRITE_DELAY=0";
          return t;
        }
      case "postgres":
        reachable("PostgreSQL", PG_ADMIN, "postgres");
        return new Server(
            name,
            mode,
            PG_ADMIN,
            "postgres",
            "CREATE SCHEMA " + schema,
            "DROP SCHEMA IF EXISTS " + schema + " CASCADE",
            PG_ADMIN + "?currentSchema=" + schema);
      case "mariadb":
        reachable("MariaDB", MARIADB_ADMIN, "root");
        return new Server(
            name,
            mode,
            MARIADB_ADMIN,
            "root",
            "CREATE DATABASE " + schema + " CHARACTER SET utf8mb4",
            "DROP DATABASE IF EXISTS " + schema,
            MARIADB_ADMIN + schema);
      default:
        throw new IllegalArgumentException(
            "unknown store "
                + name
                + "; known: "
                + DEFAULT_STORES
                + ",h2-process,postgres-process,mariadb-process");
    }
  }

  /** Skips (fails under CI) when the server is not there. */
  private static void reachable(String what, String url, String user) {
    DriverManager.setLoginTimeout(3);
    try (Connection c = DriverManager.getConnection(url, user, "")) {
      c.isValid(3);
    } catch (SQLException e) {
      String reason =
          what
              + " not reachable at "
              + url
              + " as "
              + user
              + ": "
              + e.getMessage().lines().findFirst().orElse("");
      if (System.getenv("CI") != null) {
        fail(reason + " (CI is set, so this fails instead of skipping)");
      }
      Assumptions.abort(reason);
    }
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static final List<String> BASE_OPTIONS =
      List.of("-XX:TieredStopAtLevel=1", "-Xshare:auto", "-XX:+UseSerialGC", "-Xss512k", "-Xmx96m");

  /**
   * Child JVM start dominates the run time: RocksDB's native library is extracted once (not by
   * every child), and one warm-up child writes a class-data archive of what the children load (the
   * JDK archives classes from jars only, so class directories are jarred first). Either may be
   * unavailable; the children then just start slower.
   */
  private static List<String> fastStart() throws Exception {
    Path dir = Files.createTempDirectory("twopc-torture-jvm");
    dir.toFile().deleteOnExit();
    List<String> cp = new ArrayList<>();
    for (String entry :
        System.getProperty("java.class.path").split(java.io.File.pathSeparator, -1)) {
      Path e = Path.of(entry);
      if (Files.isDirectory(e)) {
        Path jar = dir.resolve("cp" + cp.size() + ".jar");
        jar(e, jar);
        jar.toFile().deleteOnExit();
        cp.add(jar.toString());
      } else {
        cp.add(entry);
      }
    }
    childClasspath = String.join(java.io.File.pathSeparator, cp);
    List<String> options = new ArrayList<>(BASE_OPTIONS);
    String lib = org.rocksdb.util.Environment.getJniLibraryFileName("rocksdb");
    try (var in = org.rocksdb.RocksDB.class.getClassLoader().getResourceAsStream(lib)) {
      if (in != null) {
        Files.copy(in, dir.resolve(lib));
        dir.resolve(lib).toFile().deleteOnExit();
        options.add("-Djava.library.path=" + dir);
      }
    }
    Path archive = dir.resolve("children.jsa");
    Path warm = Files.createTempDirectory(dir, "warm");
    List<String> cmd = new ArrayList<>(List.of(java()));
    cmd.addAll(options);
    cmd.addAll(
        List.of(
            "-XX:ArchiveClassesAtExit=" + archive,
            "-cp",
            childClasspath,
            CrashTortureChild.class.getName(),
            "warm",
            warm.toString()));
    Path warmLog = dir.resolve("warm.log");
    warmLog.toFile().deleteOnExit();
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(warmLog.toFile()).start();
    boolean done = p.waitFor(120, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly();
    }
    try (Stream<Path> files = Files.walk(warm)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
    if (done && p.exitValue() == 0 && Files.exists(archive)) {
      archive.toFile().deleteOnExit();
      options.add("-XX:SharedArchiveFile=" + archive);
    } else {
      System.out.println(
          "CrashTortureTest: no class-data archive for the children ("
              + (done ? "exit " + p.exitValue() : "timed out")
              + "): "
              + Files.readString(warmLog).lines().limit(5).collect(Collectors.joining(" | ")));
    }
    return options;
  }

  private static void jar(Path classes, Path jar) throws IOException {
    try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
        Stream<Path> files = Files.walk(classes)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        out.putNextEntry(
            new java.util.jar.JarEntry(
                classes.relativize(f).toString().replace(java.io.File.separatorChar, '/')));
        Files.copy(f, out);
        out.closeEntry();
      }
    }
  }

  /** One child run: what it printed, whether it got to READY before the kill. */
  private static final class Child {
    final ForkedJvm jvm;
    final List<String> acked = Collections.synchronizedList(new ArrayList<>());
    final ChildProtocol protocol = new ChildProtocol();
    final CompletableFuture<Void> opening = protocol.opening;
    final CompletableFuture<Long> ready = protocol.ready;

    Child(Target t, Path log) throws IOException {
      List<String> cmd = new ArrayList<>(List.of(java()));
      cmd.addAll(jvmOptions);
      cmd.addAll(List.of("-cp", childClasspath, CrashTortureChild.class.getName()));
      cmd.addAll(t.childArgs());
      ForkedJvm[] self = new ForkedJvm[1];
      jvm =
          ForkedJvm.builder("torture-child", cmd, log)
              .protocolOutput()
              .onLine(this::line)
              .onEnd(
                  () ->
                      protocol.gone(
                          "the child exited with "
                              + (self[0] == null ? "?" : self[0].exitDescription())
                              + " before this point"))
              .start();
      self[0] = jvm;
    }

    private void line(String line) {
      if (protocol.accept(line)) {
        return;
      }
      if (line.startsWith("A ") && line.length() == 38) {
        acked.add(line.substring(2));
      }
    }

    /** SIGKILL; returns whether the child was still alive (not dead of its own accord). */
    boolean kill() throws InterruptedException {
      boolean alive = jvm.isAlive();
      jvm.kill9();
      jvm.awaitOutputEnd(Duration.ofSeconds(30)); // every acknowledgement it printed is read
      return alive;
    }
  }

  private record Totals(long acked, long lost, int killedInOpen, long maxOpenMillis) {}

  private void torture(String name) throws Exception {
    Random rnd = new Random(SEED * 31 + name.hashCode());
    long started = System.nanoTime();
    // The plan up front, so each cycle knows whether the next one kills during its reopen.
    boolean[] inOpen = new boolean[CYCLES + 1];
    for (int k = 0; k < CYCLES; k++) {
      inOpen[k] = k > 0 && rnd.nextInt(3) == 0;
    }
    try (Target t = target(name)) {
      Path log = t.dir.resolve("child-stderr.log");
      List<String> pending = new ArrayList<>(); // acknowledged, not yet checked
      List<String> all = new ArrayList<>();
      List<String> firstLosses = new ArrayList<>();
      long lost = 0;
      int killedInOpen = 0;
      long lastOpen = 300;
      long maxOpen = 0;
      long readySum = 0;
      long verifyNanos = 0;
      int readyCount = 0;
      for (int k = 0; k < CYCLES; k++) {
        String where =
            "store="
                + name
                + " seed="
                + SEED
                + " cycle="
                + k
                + " (re-run: -Dtwopc.torture.seed="
                + SEED
                + " -Dtwopc.torture.stores="
                + name
                + ")";
        long runMillis = 200L + rnd.nextInt(1301);
        double openFraction = rnd.nextDouble();
        long spawned = System.nanoTime();
        Child child = new Child(t, log);
        boolean diedByItself;
        boolean wasReady;
        try {
          long killAfter;
          if (inOpen[k]) {
            child.opening.get(60, TimeUnit.SECONDS);
            // a random kill moment within the last reopen's length
            killAfter = (long) (openFraction * lastOpen * 1.2);
          } else {
            long openMillis = child.ready.get(60, TimeUnit.SECONDS);
            lastOpen = Math.max(20, openMillis);
            maxOpen = Math.max(maxOpen, openMillis);
            readySum += (System.nanoTime() - spawned) / 1_000_000;
            readyCount++;
            killAfter = runMillis;
          }
          diedByItself =
              !KILLER
                  .schedule(child::kill, killAfter, TimeUnit.MILLISECONDS)
                  .get(killAfter + 60_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
          child.kill();
          fail("the child did not open the store: " + e + "; " + where + "\n" + tail(log));
          return;
        } finally {
          child.kill(); // a no-op when the scheduled kill ran
          wasReady = child.ready.isDone() && !child.ready.isCompletedExceptionally();
        }
        if (diedByItself) {
          fail("the child died before it was killed; " + where + "\n" + tail(log));
        }
        String survived = child.protocol.survivedErrors("appends");
        if (survived != null) {
          fail(survived + "; " + where + "\n" + tail(log));
        }
        if (!wasReady) {
          killedInOpen++;
        }
        pending.addAll(child.acked);
        all.addAll(child.acked);
        if (inOpen[k + 1]) {
          continue; // the next child reopens the store as this one left it
        }
        List<String> missing;
        long v0 = System.nanoTime();
        try (LogStore store = t.open()) {
          missing = missing(store, pending);
          verifyNanos += System.nanoTime() - v0;
        } catch (Exception e) {
          throw new AssertionError(
              "the store does not open after the kill: " + e + "; " + where + "\n" + tail(log), e);
        }
        if (!missing.isEmpty()) {
          lost += missing.size();
          if (firstLosses.isEmpty()) {
            firstLosses.add(
                "cycle "
                    + k
                    + ": "
                    + missing.size()
                    + " of "
                    + pending.size()
                    + " acknowledged decisions missing, e.g. "
                    + missing.get(0)
                    + "; "
                    + where);
          }
        }
        pending.clear();
      }
      // A later reopen must not lose what an earlier one still had.
      long lostLater;
      try (LogStore store = t.open()) {
        lostLater = missing(store, all).size() - lost;
      }
      Totals totals = new Totals(all.size(), lost + Math.max(0, lostLater), killedInOpen, maxOpen);
      System.out.printf(
          Locale.ROOT,
          "torture store=%s seed=%d cycles=%d acked=%d lost=%d"
              + " killedDuringReopen=%d maxReopenMs=%d meanStartToReadyMs=%d verify=%.1fs elapsed=%.1fs%n",
          name,
          SEED,
          CYCLES,
          totals.acked(),
          totals.lost(),
          totals.killedInOpen(),
          totals.maxOpenMillis(),
          readyCount == 0 ? 0 : readySum / readyCount,
          verifyNanos / 1e9,
          (System.nanoTime() - started) / 1e9);
      String summary =
          "store="
              + name
              + " seed="
              + SEED
              + " cycles="
              + CYCLES
              + " (re-run: "
              + "-Dtwopc.torture.seed="
              + SEED
              + " -Dtwopc.torture.stores="
              + name
              + ")";
      if (totals.lost() > 0) {
        fail(
            "lost "
                + totals.lost()
                + " of "
                + totals.acked()
                + " acknowledged COMMIT decisions"
                + (lostLater > 0 ? " (" + lostLater + " found missing only at the end)" : "")
                + "; first: "
                + String.join("; ", firstLosses)
                + "; "
                + summary);
      }
      assertTrue(
          totals.acked() > 0,
          "no write was acknowledged in any cycle; " + summary + "\n" + tail(log));
    }
  }

  /** The ids whose decision is not COMMIT in the store. */
  private static List<String> missing(LogStore store, List<String> ids) {
    return ids.parallelStream()
        .filter(id -> store.decisionOf(id).orElse(null) != Decision.COMMIT)
        .collect(Collectors.toList());
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
