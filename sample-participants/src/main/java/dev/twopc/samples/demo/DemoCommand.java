package dev.twopc.samples.demo;

import dev.twopc.client.TransactionClient;
import dev.twopc.samples.Catalog;
import dev.twopc.samples.Fields;
import dev.twopc.samples.ReadClient;
import dev.twopc.samples.shop.ShopClient;
import dev.twopc.samples.shop.Tally;
import dev.twopc.testing.ForkedJvm;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code twopc-sample demo}: the whole story with real processes. Starts a coordinator and the
 * three services (each its own JVM and SQLite database, in a fresh directory), seeds them, places a
 * stream of orders, kills the coordinator with {@code kill -9} in the middle, restarts it on the
 * same data and port, waits until everything is resolved, and audits the result through the
 * services' read APIs; a few orders go through the interactive flow (Begin, Enlist, Commit) as
 * well. Exits 1 if the audit fails. Every process it started is stopped at the end, on failure and
 * on Ctrl-C.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run the end-to-end demo: coordinator, inventory, payments and orders as"
          + " processes, a stream of orders, kill -9 of the coordinator, restart, audit."
    })
public final class DemoCommand implements java.util.concurrent.Callable<Integer> {
  /** Orders placed through the interactive flow after the stream. */
  private static final int INTERACTIVE_ORDERS = 20;

  @Option(
      names = "--orders",
      paramLabel = "N",
      defaultValue = "${TWOPC_DEMO_ORDERS:-300}",
      description = "Orders to place [TWOPC_DEMO_ORDERS] (default ${DEFAULT-VALUE}).")
  int orders;

  @Option(
      names = "--concurrency",
      paramLabel = "N",
      defaultValue = "${TWOPC_DEMO_CONCURRENCY:-8}",
      description = "Orders in flight at once [TWOPC_DEMO_CONCURRENCY] (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--kill-at",
      paramLabel = "N",
      defaultValue = "${TWOPC_DEMO_KILL_AT:-0}",
      description =
          "kill -9 the coordinator once N orders have been answered; 0 = a third of"
              + " --orders [TWOPC_DEMO_KILL_AT].")
  int killAt;

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
      defaultValue = "${TWOPC_DEMO_WORK}",
      description =
          "Where data and logs go, best a new directory [TWOPC_DEMO_WORK] (default a"
              + " fresh temporary directory).")
  Path work;

  @Option(
      names = "--jdbc-url",
      paramLabel = "URL",
      defaultValue = "${TWOPC_DEMO_JDBC_URL}",
      description =
          "Run the coordinator's log and the services' tables on this PostgreSQL or"
              + " MariaDB server (user in the URL), each process in a schema or database of its own,"
              + " dropped after a passing run [TWOPC_DEMO_JDBC_URL]; default: RocksDB and SQLite files.")
  String jdbcUrl;

  @Option(
      names = "--plaintext",
      defaultValue = "${TWOPC_DEMO_PLAINTEXT:-false}",
      description =
          "Run every hop in plaintext on loopback instead of mutual TLS with"
              + " development certificates made in the work directory [TWOPC_DEMO_PLAINTEXT].")
  boolean plaintext;

  @Option(names = "--keep", description = "Keep the data and logs also when the audit passes.")
  boolean keep;

  private final PrintStream out;

  public DemoCommand() {
    this(System.out);
  }

  private DemoCommand(PrintStream out) {
    this.out = out;
  }

  /** A demo that prints its summary to {@code out} (tests). */
  public static DemoCommand printingTo(PrintStream out) {
    return new DemoCommand(out);
  }

  @Override
  public Integer call() throws Exception {
    if (killAt <= 0) {
      killAt = Math.max(1, orders / 3);
    }
    return Cluster.run("demo", work, coordinatorJar, jdbcUrl, !plaintext, keep, out, this::run);
  }

  private boolean run(Cluster cluster) throws Exception {
    long t0 = System.nanoTime();
    String coordinator = cluster.coordinator();
    List<Audit.Service> services = cluster.services();
    out.println(
        "== twopc demo: "
            + orders
            + " orders, "
            + concurrency
            + " at a time, kill -9 of"
            + " the coordinator after "
            + killAt
            + " answers; data in "
            + cluster.work());
    out.println("transport: " + cluster.transport());

    cluster.startAll();
    ForkedJvm coord = cluster.current(Cluster.COORDINATOR);
    out.printf(
        "started in %.1f s: coordinator pid %d on %s; inventory pid %d, payments pid %d,"
            + " orders pid %d%n",
        (System.nanoTime() - t0) / 1e9,
        coord.pid(),
        coordinator,
        cluster.current("inventory").pid(),
        cluster.current("payments").pid(),
        cluster.current("orders").pid());
    out.println(
        "metrics: "
            + cluster.metricsUrls().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue())
                .collect(java.util.stream.Collectors.joining(", "))
            + "   (twopc top --metrics "
            + cluster.metricsUrl(Cluster.COORDINATOR)
            + ")");
    Catalog catalog = Catalog.demo();
    Map<String, String> stock0 = new ReadClient(services.get(0).apiUrl()).one("/totals");
    Map<String, String> money0 = new ReadClient(services.get(1).apiUrl()).one("/totals");
    out.println(
        "seeded: stock "
            + stock0.get("available")
            + " units over "
            + stock0.get("skus")
            + " SKUs, balances "
            + money0.get("balance")
            + " cents over "
            + money0.get("accounts")
            + " accounts");

    // The stream, with the coordinator killed in the middle and restarted by another thread.
    CountDownLatch killNow = new CountDownLatch(1);
    long[] streamStart = {System.nanoTime()};
    String[] recovery = {null};
    Exception[] chaosFailed = {null};
    Thread chaos =
        new Thread(
            () -> {
              try {
                killNow.await();
                long k = System.nanoTime();
                coord.kill9();
                out.printf(
                    "kill -9 coordinator (pid %d) after %d answers, %.1f s into the stream;"
                        + " restarting it on the same port and data%n",
                    coord.pid(), killAt, (k - streamStart[0]) / 1e9);
                ForkedJvm again = cluster.start(Cluster.COORDINATOR);
                recovery[0] = again.awaitPrefix("recovery:", Cluster.START_TIMEOUT);
                out.printf(
                    "coordinator back after %.1f s (pid %d): %s%n",
                    (System.nanoTime() - k) / 1e9, again.pid(), recovery[0]);
              } catch (Exception e) {
                chaosFailed[0] = e;
              }
            },
            "demo-chaos");
    chaos.start();
    List<ShopClient.Placed> placed;
    try (TransactionClient tx = cluster.client().commitTimeout(Duration.ofSeconds(15)).build()) {
      ShopClient shop = new ShopClient(tx, catalog, "demo", 42);
      placed =
          shop.place(
              shop.orders(orders, 0.15),
              concurrency,
              (p, n) -> {
                if (n == killAt) {
                  killNow.countDown();
                }
              });
    }
    double streamSecs = (System.nanoTime() - streamStart[0]) / 1e9;
    killNow.countDown();
    chaos.join();
    if (chaosFailed[0] != null) {
      throw chaosFailed[0];
    }
    out.printf(
        "orders: %d placed in %.1f s: %s%n",
        placed.size(), streamSecs, Tally.of(placed).describe());
    out.println(
        "  (unknown = the call failed or timed out, e.g. while the coordinator was down:"
            + " the client cannot know; the audit below finds out)");

    // The interactive flow, as any client can use it: Begin, Enlist each service with its work,
    // Commit. Audited with the stream.
    List<ShopClient.Placed> interactive;
    long i0 = System.nanoTime();
    try (TransactionClient tx = cluster.client().commitTimeout(Duration.ofSeconds(15)).build()) {
      ShopClient shop = new ShopClient(tx, catalog, "demo-i", 43, ShopClient.Flow.INTERACTIVE);
      interactive = shop.place(shop.orders(INTERACTIVE_ORDERS, 0.15), 4, (p, n) -> {});
    }
    out.printf(
        "interactive orders (Begin, Enlist x3 with the order as payload, Commit): %d in"
            + " %.1f s: %s%n",
        interactive.size(), (System.nanoTime() - i0) / 1e9, Tally.of(interactive).describe());
    placed = new ArrayList<>(placed);
    placed.addAll(interactive);

    Audit audit = cluster.audit(catalog);
    long q0 = System.nanoTime();
    boolean quiet = audit.awaitQuiet(Duration.ofSeconds(30));
    out.printf(
        "%s after %.1f s%n",
        quiet ? "converged: nothing pending or in doubt" : "NOT converged",
        (System.nanoTime() - q0) / 1e9);

    out.println("$ twopc tx list --limit 8");
    Cluster.Cli list = cluster.cli("tx", "list", "--coordinator", coordinator, "--limit", "8");
    out.print(Cluster.indent(list.output()));
    out.println("$ twopc tx list --in-doubt");
    Cluster.Cli inDoubt = cluster.cli("tx", "list", "--in-doubt", "--coordinator", coordinator);
    out.print(Cluster.indent(inDoubt.output()));

    List<Audit.Check> checks = new ArrayList<>(audit.run(placed));
    checks.add(Audit.cliInDoubtEmpty(inDoubt));
    if (cluster.tls()) {
      out.println("$ twopc tx list   # with the client's certificate, not an operator's");
      Cluster.Cli refused =
          cluster.cliAs(DemoTls.CLIENT, "tx", "list", "--coordinator", coordinator);
      out.print(Cluster.indent(refused.output()));
      checks.add(Audit.clientRefusedAdmin(refused));
    }
    checks.add(Audit.livenessHeld(cluster.livenessViolations()));
    checks.add(Audit.metricsInDoubtZero(cluster.metricsUrls(), Duration.ofSeconds(30)));
    Map<String, String> orderTotals = new ReadClient(services.get(2).apiUrl()).one("/totals");
    out.println(
        "audit (read APIs: inventory /stock /reservations, payments /accounts /holds,"
            + " orders /orders; "
            + Fields.format(orderTotals)
            + "):");
    checks.forEach(c -> out.println(c));
    boolean passed = quiet && recovery[0] != null && checks.stream().allMatch(Audit.Check::ok);
    out.println(passed ? "AUDIT PASSED" : "AUDIT FAILED");
    return passed;
  }
}
