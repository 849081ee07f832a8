package dev.twopc.samples.demo;

import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.samples.Catalog;
import dev.twopc.samples.Fields;
import dev.twopc.samples.ReadClient;
import dev.twopc.samples.shop.ShopClient;
import dev.twopc.samples.shop.Tally;
import dev.twopc.telemetry.Durations;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code twopc-sample chaos}: the demo's processes under load while the coordinator and the
 * services are killed with {@code kill -9} again and again at random moments and started again
 * after a short random downtime. Then the faults stop, the load drains, the run waits (bounded)
 * until nothing is pending or in doubt, proves every lock free with probe orders, and audits: stock
 * and money conserved, what the client was told honoured, UNKNOWN orders all or nothing, the
 * coordinator's decisions equal to the services' data. Prints the history (kills, restarts,
 * recovery times) and exits 0 if every check passed, 1 with the first failed check otherwise.
 */
@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Chaos run: coordinator, inventory, payments and orders as processes under"
          + " load, repeated kill -9 of random processes and restarts, then convergence and an"
          + " audit.",
      "Every flag has an environment twin, shown in brackets."
    })
public final class ChaosCommand implements Callable<Integer> {
  @Option(
      names = "--duration",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_CHAOS_DURATION:-60s}",
      converter = Durations.Converter.class,
      description = "How long to inject faults [TWOPC_CHAOS_DURATION] (default ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--kill-every",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_CHAOS_KILL_EVERY:-4s}",
      converter = Durations.Converter.class,
      description =
          "Mean time between kills; each gap is uniform in 0.5-1.5 times this"
              + " [TWOPC_CHAOS_KILL_EVERY] (default ${DEFAULT-VALUE}).")
  Duration killEvery;

  @Option(
      names = "--min-down",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_CHAOS_MIN_DOWN:-200ms}",
      converter = Durations.Converter.class,
      description =
          "Shortest downtime before a killed process is started again"
              + " [TWOPC_CHAOS_MIN_DOWN] (default ${DEFAULT-VALUE}).")
  Duration minDown;

  @Option(
      names = "--max-down",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_CHAOS_MAX_DOWN:-2s}",
      converter = Durations.Converter.class,
      description = "Longest downtime [TWOPC_CHAOS_MAX_DOWN] (default ${DEFAULT-VALUE}).")
  Duration maxDown;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "${TWOPC_CHAOS_SEED}",
      description =
          "Seed of the victims, gaps, downtimes and orders; printed, so a run can be"
              + " repeated [TWOPC_CHAOS_SEED] (default: random).")
  Long seed;

  @Option(
      names = "--concurrency",
      paramLabel = "N",
      defaultValue = "${TWOPC_CHAOS_CONCURRENCY:-8}",
      description =
          "Orders in flight at once [TWOPC_CHAOS_CONCURRENCY] (default" + " ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--doomed",
      paramLabel = "SHARE",
      defaultValue = "${TWOPC_CHAOS_DOOMED:-0.15}",
      description =
          "Share of orders built to abort: unknown SKU, out of stock, insufficient"
              + " funds [TWOPC_CHAOS_DOOMED] (default ${DEFAULT-VALUE}).")
  double doomed;

  @Option(
      names = "--converge-timeout",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_CHAOS_CONVERGE_TIMEOUT:-60s}",
      converter = Durations.Converter.class,
      description =
          "After the load, how long everything may take to be resolved"
              + " [TWOPC_CHAOS_CONVERGE_TIMEOUT] (default ${DEFAULT-VALUE}).")
  Duration convergeTimeout;

  @Option(
      names = "--coordinator-jar",
      paramLabel = "JAR",
      defaultValue = "${TWOPC_DEMO_COORDINATOR_JAR}",
      description =
          "The twopc shaded jar that runs the coordinator and the CLI"
              + " [TWOPC_DEMO_COORDINATOR_JAR] (default: "
              + Cluster.COORDINATOR_MAIN
              + " on this classpath).")
  Path coordinatorJar;

  @Option(
      names = "--work",
      paramLabel = "DIR",
      defaultValue = "${TWOPC_CHAOS_WORK}",
      description =
          "Where data and logs go, best a new directory [TWOPC_CHAOS_WORK] (default a"
              + " fresh temporary directory).")
  Path work;

  @Option(
      names = "--jdbc-url",
      paramLabel = "URL",
      defaultValue = "${TWOPC_CHAOS_JDBC_URL}",
      description =
          "Run the coordinator's log and the services' tables on this PostgreSQL or"
              + " MariaDB server (user in the URL), each process in a schema or database of its own,"
              + " dropped after a passing run [TWOPC_CHAOS_JDBC_URL]; default: RocksDB and SQLite files.")
  String jdbcUrl;

  @Option(
      names = "--plaintext",
      defaultValue = "${TWOPC_CHAOS_PLAINTEXT:-false}",
      description =
          "Run every hop in plaintext on loopback instead of mutual TLS with"
              + " development certificates made in the work directory [TWOPC_CHAOS_PLAINTEXT].")
  boolean plaintext;

  @Option(
      names = "--coordinators",
      paramLabel = "N",
      defaultValue = "${TWOPC_CHAOS_COORDINATORS:-1}",
      description =
          "Coordinator processes (1 to 5); more than one share one PostgreSQL log (give"
              + " --jdbc-url jdbc:postgresql:...), each killed in its turn while the others take"
              + " its work over; clients and services are given every node"
              + " [TWOPC_CHAOS_COORDINATORS] (default ${DEFAULT-VALUE}).")
  int coordinators;

  @Option(names = "--keep", description = "Keep the data and logs also when the run passes.")
  boolean keep;

  private final PrintStream out;

  public ChaosCommand() {
    this(System.out);
  }

  private ChaosCommand(PrintStream out) {
    this.out = out;
  }

  /** A chaos run that prints its summary to {@code out} (tests). */
  public static ChaosCommand printingTo(PrintStream out) {
    return new ChaosCommand(out);
  }

  @Override
  public Integer call() throws Exception {
    if (duration.isNegative()
        || duration.isZero()
        || killEvery.isNegative()
        || killEvery.isZero()
        || minDown.isNegative()
        || maxDown.compareTo(minDown) < 0
        || concurrency < 1
        || doomed < 0
        || doomed > 1) {
      System.err.println(
          "twopc-sample chaos: --duration and --kill-every must be positive,"
              + " 0 <= --min-down <= --max-down, --concurrency >= 1, --doomed between 0 and 1");
      return 2;
    }
    if (coordinators < 1 || coordinators > 5) {
      System.err.println("twopc chaos: --coordinators must be 1 to 5, was " + coordinators);
      return 2;
    }
    if (coordinators > 1
        && (jdbcUrl == null || !jdbcUrl.toLowerCase(Locale.ROOT).startsWith("jdbc:postgresql:"))) {
      System.err.println(
          "twopc chaos: --coordinators "
              + coordinators
              + " shares one log, which needs --jdbc-url jdbc:postgresql://...");
      return 2;
    }
    if (seed == null) {
      seed = ThreadLocalRandom.current().nextLong();
    }
    return Cluster.run(
        "chaos", work, coordinatorJar, jdbcUrl, !plaintext, keep, coordinators, out, this::run);
  }

  private boolean run(Cluster cluster) throws Exception {
    long t0 = System.nanoTime();
    out.printf(
        Locale.ROOT,
        "== twopc chaos: %s s of kill -9 (coordinator and services, one every"
            + " ~%s s, down %s-%s s), seed %d, %d orders in flight (%.0f%% doomed); data in %s%n",
        History.secs(duration),
        History.secs(killEvery),
        History.secs(minDown),
        History.secs(maxDown),
        seed,
        concurrency,
        doomed * 100,
        cluster.work());
    out.println("transport: " + cluster.transport());
    // Enough stock and money that even a fast run (one on PostgreSQL sold all of the demo's
    // 10,000 units in 10 minutes) does not sell out: the lock probes at the end need both.
    int scale = 1 + 4 * (int) Math.ceil(duration.toMillis() / 60_000.0);
    Catalog catalog = Catalog.demo(scale);
    cluster.catalogScale(scale);
    cluster.startAll();
    out.printf(
        Locale.ROOT,
        "started in %.1f s (catalog x%d: %d units, %d cents): coordinator"
            + " pid %s on %s; inventory pid %d,"
            + " payments pid %d, orders pid %d%n",
        (System.nanoTime() - t0) / 1e9,
        scale,
        catalog.totalStock(),
        catalog.totalBalance(),
        String.join(
            ",",
            cluster.coordinators().stream()
                .map(c -> Long.toString(cluster.current(c).pid()))
                .toList()),
        cluster.coordinator(),
        cluster.current("inventory").pid(),
        cluster.current("payments").pid(),
        cluster.current("orders").pid());
    List<Audit.Service> services = cluster.services();
    Audit audit = cluster.audit(catalog);

    List<String> processes = new ArrayList<>();
    processes.addAll(cluster.coordinators());
    processes.addAll(Cluster.SERVICES);
    History history = new History(processes);
    List<Audit.Check> checks = new ArrayList<>();
    List<ShopClient.Placed> placed;
    List<ShopClient.Placed> probes;
    long loadSecs;
    ExecutorService load = Executors.newSingleThreadExecutor(r -> new Thread(r, "chaos-load"));
    try (TransactionClient tx = cluster.client().commitTimeout(Duration.ofSeconds(15)).build();
        Faults faults =
            new Faults(cluster, new Random(seed), killEvery, minDown, maxDown, history, out, t0)) {
      ShopClient shop = new ShopClient(tx, catalog, "chaos", seed);
      AtomicBoolean stopLoad = new AtomicBoolean();
      AtomicLong lastAnswer = new AtomicLong();
      long l0 = System.nanoTime();
      Future<List<ShopClient.Placed>> loadDone =
          load.submit(
              () ->
                  shop.placeUntil(
                      stopLoad::get,
                      doomed,
                      concurrency,
                      (p, n) -> lastAnswer.set(System.nanoTime())));
      out.printf(
          Locale.ROOT,
          "  %6.1f s  load started; faults for %s s%n",
          (System.nanoTime() - t0) / 1e9,
          History.secs(duration));
      faults.start(duration);
      faults.awaitEnd();
      long f1 = System.nanoTime();
      boolean allUp = faults.stopAndAwaitAllUp(Cluster.START_TIMEOUT);
      out.printf(
          Locale.ROOT,
          "  %6.1f s  faults stopped: %d kills, %d restarts; %s%n",
          (System.nanoTime() - t0) / 1e9,
          history.kills(),
          history.restarts(),
          allUp
              ? String.format(
                  Locale.ROOT,
                  "every process serving again %.1f s later",
                  (System.nanoTime() - f1) / 1e9)
              : "NOT every process came back: " + faults.failures() + " down " + faults.down());
      checks.add(
          new Audit.Check(
              "every process came back",
              allUp,
              allUp
                  ? history.restarts() + "/" + history.kills() + " restarts served again"
                  : faults.failures() + " down " + faults.down()));
      stopLoad.set(true);
      placed = join(loadDone);
      loadSecs = System.nanoTime() - l0;
      out.printf(
          Locale.ROOT,
          "orders: %d placed in %.1f s (%.0f/s): %s%n",
          placed.size(),
          loadSecs / 1e9,
          placed.size() / (loadSecs / 1e9),
          Tally.of(placed).describe());
      out.println(
          "  (unknown = the call failed or timed out, e.g. while the coordinator was"
              + " down: the client cannot know; the audit below finds out)");

      boolean quiet = audit.awaitQuiet(convergeTimeout);
      double convergedSecs = (System.nanoTime() - lastAnswer.get()) / 1e9;
      String converged =
          quiet
              ? String.format(
                  Locale.ROOT,
                  "nothing pending or in doubt %.1f s after the last" + " answer (bound %s s)",
                  convergedSecs,
                  History.secs(convergeTimeout))
              : "still pending or in doubt after "
                  + History.secs(convergeTimeout)
                  + " s: "
                  + describeNotQuiet(audit);
      out.println((quiet ? "converged: " : "NOT converged: ") + converged);
      checks.add(new Audit.Check("converged", quiet, converged));

      // Locks: a lock left behind by a lost branch would make some probe wait and vote NO.
      long p0 = System.nanoTime();
      probes = shop.place(shop.probes(), 4, (p, n) -> {});
      long probesCommitted =
          probes.stream().filter(p -> p.outcome() == TransactionOutcome.COMMITTED).count();
      String probeDetail =
          probesCommitted
              + "/"
              + probes.size()
              + " probe orders (every SKU and"
              + " account) committed in "
              + String.format(Locale.ROOT, "%.1f s", (System.nanoTime() - p0) / 1e9)
              + probes.stream()
                  .filter(p -> p.outcome() != TransactionOutcome.COMMITTED)
                  .findFirst()
                  .map(
                      p ->
                          "; e.g. "
                              + p.order().id()
                              + " "
                              + p.outcome()
                              + " "
                              + p.result().reason())
                  .orElse("");
      out.println("locks: " + probeDetail);
      checks.add(
          new Audit.Check(
              "locks free, all serving", probesCommitted == probes.size(), probeDetail));
      checks.add(
          new Audit.Check(
              "converged after probes",
              audit.awaitQuiet(convergeTimeout),
              "nothing pending or in doubt"));

      out.println(
          "history (serving = the ready line of a service, the recovery line of the"
              + " coordinator):");
      out.print(history.table());
      if (cluster.coordinators().size() > 1) {
        out.println("takeovers: " + cluster.takeovers());
      }

      List<ShopClient.Placed> all = new ArrayList<>(placed);
      all.addAll(probes);
      checks.addAll(audit.run(all));
      checks.add(audit.decisionsAgree(tx));
    } finally {
      load.shutdownNow();
    }
    // Kills and restarts on the same clock as the process logs, to line them up afterwards.
    Files.write(cluster.work().resolve("events.log"), history.events());
    Cluster.Cli inDoubt =
        cluster.cli("tx", "list", "--in-doubt", "--coordinator", cluster.coordinator());
    checks.add(Audit.cliInDoubtEmpty(inDoubt));
    checks.add(Audit.livenessHeld(cluster.livenessViolations()));
    Map<String, String> orderTotals = new ReadClient(services.get(2).apiUrl()).one("/totals");
    out.println(
        "audit (read APIs: inventory /stock /reservations, payments /accounts /holds,"
            + " orders /orders; "
            + Fields.format(orderTotals)
            + "):");
    checks.forEach(c -> out.println(c));
    Audit.Check failed = checks.stream().filter(c -> !c.ok()).findFirst().orElse(null);
    if (failed == null) {
      out.printf(
          "CHAOS PASSED (seed %d): %d orders, %d kills (%s), no invariant broken%n",
          seed, placed.size() + probes.size(), history.kills(), perProcess(history, processes));
      return true;
    }
    String reason = "CHAOS FAILED (seed " + seed + "): " + failed.name() + ": " + failed.detail();
    out.println(reason);
    System.err.println(reason); // the one line for whoever only sees stderr
    return false;
  }

  private static String perProcess(History history, List<String> processes) {
    List<String> parts = new ArrayList<>();
    for (String p : processes) {
      parts.add(p + " " + history.kills(p));
    }
    return String.join(", ", parts);
  }

  private static String describeNotQuiet(Audit audit) {
    try {
      return "prepared " + audit.inDoubtBranches() + ", in doubt " + audit.inDoubtTransactions();
    } catch (RuntimeException e) {
      return "cannot ask: " + e.getMessage();
    }
  }

  private static <T> T join(Future<T> f) throws Exception {
    try {
      return f.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }
}
