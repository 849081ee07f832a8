package dev.twopc.samples.demo;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.twopc.participant.TransactionClient;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.samples.Catalog;
import dev.twopc.samples.Fields;
import dev.twopc.samples.ReadClient;
import dev.twopc.samples.SampleMain;
import dev.twopc.samples.shop.ShopClient;
import dev.twopc.samples.shop.Tally;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code twopc-sample demo}: the whole story with real processes. Starts a coordinator and the
 * three services (each its own JVM and H2 database, in a fresh directory), seeds them, places a
 * stream of orders, kills the coordinator with {@code kill -9} in the middle, restarts it on the
 * same data and port, waits until everything is resolved, and audits the result through the
 * services' read APIs. Exits 1 if the audit fails. Every process it started is stopped at the
 * end, on failure and on Ctrl-C.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Run the end-to-end demo: coordinator, inventory, payments and orders as"
        + " processes, a stream of orders, kill -9 of the coordinator, restart, audit."})
public final class DemoCommand implements java.util.concurrent.Callable<Integer> {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final String COORDINATOR_MAIN = "dev.twopc.coordinator.cli.TwopcCommand";

  @Option(names = "--orders", paramLabel = "N", defaultValue = "${TWOPC_DEMO_ORDERS:-300}",
      description = "Orders to place [TWOPC_DEMO_ORDERS] (default ${DEFAULT-VALUE}).")
  int orders;

  @Option(names = "--concurrency", paramLabel = "N",
      defaultValue = "${TWOPC_DEMO_CONCURRENCY:-8}",
      description = "Orders in flight at once [TWOPC_DEMO_CONCURRENCY] (default ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--kill-at", paramLabel = "N", defaultValue = "${TWOPC_DEMO_KILL_AT:-0}",
      description = "kill -9 the coordinator once N orders have been answered; 0 = a third of"
          + " --orders [TWOPC_DEMO_KILL_AT].")
  int killAt;

  @Option(names = "--coordinator-jar", paramLabel = "JAR",
      defaultValue = "${TWOPC_DEMO_COORDINATOR_JAR}",
      description = "The twopc shaded jar that runs the coordinator and the CLI"
          + " [TWOPC_DEMO_COORDINATOR_JAR] (default: " + COORDINATOR_MAIN
          + " on this classpath).")
  Path coordinatorJar;

  @Option(names = "--work", paramLabel = "DIR", defaultValue = "${TWOPC_DEMO_WORK}",
      description = "Where data and logs go, best a new directory [TWOPC_DEMO_WORK] (default a"
          + " fresh temporary directory).")
  Path work;

  @Option(names = "--keep", description = "Keep the data and logs also when the audit passes.")
  boolean keep;

  private final PrintStream out;
  private final List<Proc> started = new CopyOnWriteArrayList<>();

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
    long t0 = System.nanoTime();
    work = work == null ? Files.createTempDirectory("twopc-demo-") : Files.createDirectories(work);
    if (killAt <= 0) {
      killAt = Math.max(1, orders / 3);
    }
    Thread cleanup = new Thread(() -> {
      stopAll();
      out.println("demo interrupted: stopped every process it started; data and logs in " + work);
    }, "demo-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C or SIGTERM: stop what we started
    boolean passed = false;
    try {
      passed = run(t0);
      return passed ? 0 : 1;
    } finally {
      stopAll();
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // already shutting down: the hook runs anyway
      }
      if (passed && !keep) {
        deleteTree(work);
      } else {
        out.println("data and logs kept in " + work);
      }
      out.printf("demo took %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
  }

  private boolean run(long t0) throws Exception {
    int coordPort = freePort();
    String coordinator = "localhost:" + coordPort;
    List<Audit.Service> services = new ArrayList<>();
    out.println("== twopc demo: " + orders + " orders, " + concurrency + " at a time, kill -9 of"
        + " the coordinator after " + killAt + " answers; data in " + work);

    Proc coord = startCoordinator(coordPort, "coordinator");
    List<Proc> starting = new ArrayList<>();
    for (String name : List.of("inventory", "payments", "orders")) {
      int port = freePort();
      int apiPort = freePort();
      List<String> cmd = new ArrayList<>(java());
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
          SampleMain.class.getName(), name, "--port", Integer.toString(port),
          "--api-port", Integer.toString(apiPort), "--coordinator", coordinator,
          "--data", work.resolve(name).toString(), "--in-doubt-after", "2s"));
      if (!name.equals("orders")) {
        cmd.add("--seed");
      }
      starting.add(start(name, cmd));
      services.add(new Audit.Service(name, "http://localhost:" + apiPort, "localhost:" + port));
    }
    for (Proc p : starting) {
      p.await(p.name() + " ready: ", START_TIMEOUT);
    }
    awaitRegistered(coordinator, Set.of("inventory", "payments", "orders"));
    out.printf("started in %.1f s: coordinator pid %d on %s; inventory pid %d, payments pid %d,"
        + " orders pid %d%n", (System.nanoTime() - t0) / 1e9, coord.pid(), coordinator,
        starting.get(0).pid(), starting.get(1).pid(), starting.get(2).pid());
    Catalog catalog = Catalog.demo();
    Map<String, String> stock0 = new ReadClient(services.get(0).apiUrl()).one("/totals");
    Map<String, String> money0 = new ReadClient(services.get(1).apiUrl()).one("/totals");
    out.println("seeded: stock " + stock0.get("available") + " units over " + stock0.get("skus")
        + " SKUs, balances " + money0.get("balance") + " cents over " + money0.get("accounts")
        + " accounts");

    // The stream, with the coordinator killed in the middle and restarted by another thread.
    CountDownLatch killNow = new CountDownLatch(1);
    long[] streamStart = {System.nanoTime()};
    String[] recovery = {null};
    Exception[] chaosFailed = {null};
    Thread chaos = new Thread(() -> {
      try {
        killNow.await();
        long k = System.nanoTime();
        coord.kill9();
        out.printf("kill -9 coordinator (pid %d) after %d answers, %.1f s into the stream;"
            + " restarting it on the same port and data%n", coord.pid(), killAt,
            (k - streamStart[0]) / 1e9);
        Proc again = startCoordinator(coordPort, "coordinator-restarted");
        recovery[0] = again.await("recovery:", START_TIMEOUT);
        out.printf("coordinator back after %.1f s (pid %d): %s%n",
            (System.nanoTime() - k) / 1e9, again.pid(), recovery[0]);
      } catch (Exception e) {
        chaosFailed[0] = e;
      }
    }, "demo-chaos");
    chaos.start();
    List<ShopClient.Placed> placed;
    try (TransactionClient tx = TransactionClient.builder().target(coordinator)
        .commitTimeout(Duration.ofSeconds(15)).build()) {
      ShopClient shop = new ShopClient(tx, catalog, "demo", 42);
      placed = shop.place(shop.orders(orders, 0.15), concurrency, (p, n) -> {
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
    out.printf("orders: %d placed in %.1f s: %s%n", placed.size(), streamSecs,
        Tally.of(placed).describe());
    out.println("  (unknown = the call failed or timed out, e.g. while the coordinator was down:"
        + " the client cannot know; the audit below finds out)");

    Audit audit = new Audit(catalog, coordinator, services);
    long q0 = System.nanoTime();
    boolean quiet = audit.awaitQuiet(Duration.ofSeconds(30));
    out.printf("%s after %.1f s%n", quiet ? "converged: nothing pending or in doubt"
        : "NOT converged", (System.nanoTime() - q0) / 1e9);

    out.println("$ twopc tx list --limit 8");
    Cli list = cli("tx", "list", "--coordinator", coordinator, "--limit", "8");
    out.print(indent(list.output()));
    out.println("$ twopc tx list --in-doubt");
    Cli inDoubt = cli("tx", "list", "--in-doubt", "--coordinator", coordinator);
    out.print(indent(inDoubt.output()));

    List<Audit.Check> checks = new ArrayList<>(audit.run(placed));
    checks.add(new Audit.Check("twopc tx list --in-doubt empty",
        inDoubt.exit() == 0 && inDoubt.output().contains("no transactions in doubt"),
        "exit " + inDoubt.exit() + ", " + inDoubt.output().trim().lines().findFirst().orElse("")));
    Map<String, String> orderTotals = new ReadClient(services.get(2).apiUrl()).one("/totals");
    out.println("audit (read APIs: inventory /stock /reservations, payments /accounts /holds,"
        + " orders /orders; " + Fields.format(orderTotals) + "):");
    checks.forEach(c -> out.println(c));
    boolean passed = quiet && recovery[0] != null && checks.stream().allMatch(Audit.Check::ok);
    out.println(passed ? "AUDIT PASSED" : "AUDIT FAILED");
    return passed;
  }

  private Proc startCoordinator(int port, String name) throws IOException, InterruptedException {
    List<String> cmd = coordinatorCommand();
    cmd.addAll(List.of("coordinator", "--port", Integer.toString(port),
        "--data", work.resolve("coordinator").toString(),
        "--backoff-base", "50ms", "--backoff-cap", "1s"));
    Proc p = start(name, cmd);
    p.await("twopc coordinator listening on", START_TIMEOUT);
    return p;
  }

  private Proc start(String name, List<String> cmd) throws IOException {
    Proc p = Proc.start(name, cmd, work.resolve(name + ".log"));
    started.add(p);
    return p;
  }

  /** How to run the twopc CLI: the shaded jar, or its main class on this classpath (tests). */
  private List<String> coordinatorCommand() {
    List<String> cmd = new ArrayList<>(java());
    if (coordinatorJar != null) {
      cmd.addAll(List.of("-jar", coordinatorJar.toString()));
    } else {
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), COORDINATOR_MAIN));
    }
    return cmd;
  }

  /** Small JVMs that start fast: five of them share the machine. */
  private static List<String> java() {
    return new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
        .toString(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
  }

  private record Cli(int exit, String output) {}

  private Cli cli(String... args) throws IOException, InterruptedException {
    List<String> cmd = coordinatorCommand();
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output;
    try (InputStream in = p.getInputStream()) {
      output = new String(in.readAllBytes(), UTF_8);
    }
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Cli(-1, output + "(timed out)\n");
    }
    return new Cli(p.exitValue(), output);
  }

  private void awaitRegistered(String coordinator, Set<String> names) throws InterruptedException {
    ManagedChannel ch = Grpc.newChannelBuilder(coordinator, InsecureChannelCredentials.create())
        .build();
    try {
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (true) {
        Set<String> registered = CoordinatorGrpc.newBlockingStub(ch)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .listParticipants(ListParticipantsRequest.getDefaultInstance())
            .getParticipantsList().stream().map(ParticipantInfo::getName)
            .collect(Collectors.toSet());
        if (registered.containsAll(names)) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("participants not registered: only " + registered);
        }
        Thread.sleep(100);
      }
    } finally {
      ch.shutdownNow();
    }
  }

  private void stopAll() {
    started.forEach(Proc::terminate); // all at once: each takes a moment to close cleanly
    for (Proc p : started) {
      p.stop(Duration.ofSeconds(10));
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static String indent(String text) {
    return text.lines().map(l -> "    " + l + "\n").collect(Collectors.joining());
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temp directory is not worth failing the demo for
    }
  }
}
