package dev.twopc.samples.demo;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.twopc.client.TransactionClient;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.samples.Catalog;
import dev.twopc.samples.SampleMain;
import dev.twopc.testing.ForkedJvm;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The demo's processes: a coordinator and the inventory, payments and orders services, each its own
 * JVM with its own SQLite files under one work directory, on ports picked once so that any of them
 * can be killed and started again at the same address on the same data. Used by the demo (one kill
 * of the coordinator) and the chaos run (many kills of every process).
 */
final class Cluster {
  static final String COORDINATOR = "coordinator";
  static final List<String> SERVICES = List.of("inventory", "payments", "orders");
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  static final String COORDINATOR_MAIN = "dev.twopc.coordinator.cli.TwopcCommand";
  private static final Random PORTS = new Random();

  /** Ports handed out by this JVM: two clusters (or two processes of one) never share one. */
  private static final Set<Integer> PICKED = ConcurrentHashMap.newKeySet();

  /** What a run does once the cluster is up; true if its checks passed. */
  interface Body {
    boolean run(Cluster cluster) throws Exception;
  }

  private record Ports(int port, int apiPort) {}

  private final Path work;
  private final Path coordinatorJar;
  private final ServerStores stores; // null: RocksDB and SQLite files under work
  private final DemoTls tls; // null: plaintext on loopback
  private volatile int catalogScale = 1;

  /** The coordinator nodes' names: "coordinator", or "coordinator-1".. on one shared log. */
  private final List<String> coordinators;

  private final Map<String, Integer> coordinatorPorts = new LinkedHashMap<>();
  private final Map<String, Integer> metricsPorts = new LinkedHashMap<>();
  private final Map<String, Ports> servicePorts = new LinkedHashMap<>();
  private final Map<String, ForkedJvm> current = new ConcurrentHashMap<>();
  private final Map<String, Integer> starts = new ConcurrentHashMap<>();
  private final List<ForkedJvm> started = new CopyOnWriteArrayList<>();

  private Cluster(Path work, Path coordinatorJar, ServerStores stores, boolean tls, int nodes)
      throws IOException {
    this.work = work;
    this.coordinatorJar = coordinatorJar;
    this.stores = stores;
    this.tls = tls ? DemoTls.create(work.resolve("certs"), SERVICES) : null;
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= nodes; i++) {
      names.add(nodes == 1 ? COORDINATOR : COORDINATOR + "-" + i);
    }
    this.coordinators = List.copyOf(names);
    for (String c : coordinators) {
      coordinatorPorts.put(c, freePort());
      metricsPorts.put(c, freePort());
    }
    for (String s : SERVICES) {
      servicePorts.put(s, new Ports(freePort(), freePort()));
      metricsPorts.put(s, freePort());
    }
  }

  /**
   * Runs {@code body} over a cluster in {@code work} (a fresh temporary directory if null) and
   * returns the exit code: 0 if it passed. Every process started is stopped at the end, on failure
   * and on Ctrl-C; the data and logs are deleted only when the run passed and {@code keep} is off.
   * With {@code jdbcUrl} (a PostgreSQL or MariaDB server), the coordinator's log and each service's
   * tables live there, each process in a schema or database of its own. With {@code tls}, every hop
   * is mutual TLS with certificates made in {@code work/certs}.
   */
  static int run(
      String what,
      Path work,
      Path coordinatorJar,
      String jdbcUrl,
      boolean tls,
      boolean keep,
      PrintStream out,
      Body body)
      throws Exception {
    return run(what, work, coordinatorJar, jdbcUrl, tls, keep, 1, out, body);
  }

  /** As above, with {@code nodes} coordinator processes on one shared log (PostgreSQL). */
  static int run(
      String what,
      Path work,
      Path coordinatorJar,
      String jdbcUrl,
      boolean tls,
      boolean keep,
      int nodes,
      PrintStream out,
      Body body)
      throws Exception {
    long t0 = System.nanoTime();
    ServerStores stores = null;
    if (jdbcUrl != null) {
      List<String> processes = new ArrayList<>(List.of(COORDINATOR));
      processes.addAll(SERVICES);
      try {
        stores = ServerStores.create(jdbcUrl, what, processes);
      } catch (SQLException e) {
        out.println(what + ": cannot use " + jdbcUrl + ": " + firstLine(e.getMessage()));
        return 2;
      }
      out.println(what + ": stores on " + stores.describe());
    }
    Path dir =
        work == null
            ? Files.createTempDirectory("twopc-" + what + "-")
            : Files.createDirectories(work);
    Cluster cluster = new Cluster(dir, coordinatorJar, stores, tls, nodes);
    Thread cleanup =
        new Thread(
            () -> {
              cluster.stopAll();
              out.println(
                  what + " interrupted: stopped every process it started; data and logs in " + dir);
            },
            what + "-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C or SIGTERM: stop what we started
    boolean passed = false;
    try {
      passed = body.run(cluster);
      return passed ? 0 : 1;
    } catch (Exception | Error e) {
      // On out too: a test reading out (or a user reading the summary) sees why it stopped.
      out.println(what.toUpperCase(Locale.ROOT) + " FAILED: " + e);
      throw e;
    } finally {
      cluster.stopAll();
      if (cluster.tls != null) {
        cluster.tls.close();
      }
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // already shutting down: the hook runs anyway
      }
      if (passed && !keep) {
        deleteTree(dir);
        if (stores != null) {
          try {
            stores.drop();
          } catch (SQLException e) {
            out.println(what + ": could not drop its schemas: " + firstLine(e.getMessage()));
          }
        }
      } else {
        out.println("data and logs kept in " + dir);
      }
      out.printf("%s took %.1f s%n", what, (System.nanoTime() - t0) / 1e9);
    }
  }

  Path work() {
    return work;
  }

  /** The services seed {@link dev.twopc.samples.Catalog#demo(int)} at this scale; before start. */
  void catalogScale(int scale) {
    this.catalogScale = scale;
  }

  /** host:port of the coordinator, or of every node, comma-separated: loopback only. */
  String coordinator() {
    return String.join(",", coordinators.stream().map(this::address).toList());
  }

  /** host:port of the first coordinator node (any node answers from the shared log). */
  String firstCoordinator() {
    return address(coordinators.get(0));
  }

  private String address(String node) {
    return "127.0.0.1:" + coordinatorPorts.get(node);
  }

  /** The coordinator processes' names. */
  List<String> coordinators() {
    return coordinators;
  }

  /** Whether {@code name} is a coordinator process. */
  static boolean isCoordinator(String name) {
    return name.equals(COORDINATOR) || name.startsWith(COORDINATOR + "-");
  }

  /** True when every hop is mutual TLS. */
  boolean tls() {
    return tls != null;
  }

  /** How every hop is secured, for the run's first line. */
  String transport() {
    return tls != null
        ? "mutual TLS on every hop (certificates and roles.conf in " + work.resolve("certs") + ")"
        : "plaintext on loopback";
  }

  /** A client of the coordinator, with the demo client's certificate when TLS is on. */
  TransactionClient.Builder client() {
    TransactionClient.Builder b = TransactionClient.builder().target(coordinator());
    return tls == null ? b : tls.client(b);
  }

  /** The credentials of the audit's operator calls. */
  ChannelCredentials operatorCredentials() {
    return tls == null ? InsecureChannelCredentials.create() : tls.operator();
  }

  /** The audit over this cluster's services, calling as the demo's operator. */
  Audit audit(Catalog catalog) {
    return new Audit(catalog, firstCoordinator(), services(), operatorCredentials());
  }

  /** Where the audit finds each service. */
  List<Audit.Service> services() {
    List<Audit.Service> out = new ArrayList<>();
    servicePorts.forEach(
        (name, p) ->
            out.add(
                new Audit.Service(
                    name, "http://localhost:" + p.apiPort(), "localhost:" + p.port())));
    return out;
  }

  /** The coordinator and the three services, ready and registered. */
  void startAll() throws IOException, InterruptedException {
    for (String c : coordinators) {
      start(c);
    }
    List<ForkedJvm> starting = new ArrayList<>();
    for (String s : SERVICES) {
      starting.add(launch(s));
    }
    for (ForkedJvm p : starting) {
      p.awaitPrefix(readyLine(p.name()), START_TIMEOUT);
    }
    awaitRegistered(Set.copyOf(SERVICES));
  }

  /**
   * Starts {@code name} (the coordinator or a service) on its port and data and waits until it
   * serves: for the coordinator its recovery line, for a service its ready line (after the SDK
   * restored its prepared branches and locks).
   */
  ForkedJvm start(String name) throws IOException, InterruptedException {
    ForkedJvm p = launch(name);
    p.awaitPrefix(readyLine(name), START_TIMEOUT);
    return p;
  }

  /** The line {@link #start} waits for. */
  static String readyLine(String name) {
    return isCoordinator(name) ? "recovery:" : name + " ready: ";
  }

  /** Where process {@code name} (the coordinator or a service) serves its /metrics. */
  java.net.URI metricsUrl(String name) {
    return java.net.URI.create("http://127.0.0.1:" + metricsPorts.get(name) + "/metrics");
  }

  /** Every process's /metrics, coordinator first. */
  Map<String, java.net.URI> metricsUrls() {
    Map<String, java.net.URI> out = new LinkedHashMap<>();
    metricsPorts.keySet().forEach(n -> out.put(n, metricsUrl(n)));
    return out;
  }

  /** The running (or last) process of {@code name}. */
  ForkedJvm current(String name) {
    return current.get(name);
  }

  private ForkedJvm launch(String name) throws IOException {
    List<String> cmd;
    if (isCoordinator(name)) {
      cmd = coordinatorCommand();
      cmd.addAll(
          List.of(
              "coordinator",
              "--host",
              "127.0.0.1",
              "--port",
              Integer.toString(coordinatorPorts.get(name)),
              "--backoff-base",
              "50ms",
              "--backoff-cap",
              "1s",
              "--liveness-check-interval",
              "2s",
              "--metrics-port",
              Integer.toString(metricsPorts.get(name))));
      if (tls != null) {
        cmd.addAll(tls.serverFlags(COORDINATOR)); // every node is the coordinator
      }
      if (coordinators.size() > 1) {
        // short, so that a killed node's work is often taken over by another before it is back
        cmd.addAll(List.of("--node-id", name, "--lease", "2s"));
      }
      if (stores != null) {
        cmd.addAll(List.of("--jdbc-url", stores.url(COORDINATOR)));
      } else {
        cmd.addAll(List.of("--data", work.resolve(COORDINATOR).toString()));
      }
    } else {
      Ports p = servicePorts.get(name);
      if (p == null) {
        throw new IllegalArgumentException("no such process: " + name);
      }
      cmd = java();
      cmd.addAll(
          List.of(
              "-cp",
              System.getProperty("java.class.path"),
              SampleMain.class.getName(),
              name,
              "--port",
              Integer.toString(p.port()),
              "--api-port",
              Integer.toString(p.apiPort()),
              "--coordinator",
              coordinator(),
              "--data",
              work.resolve(name).toString(),
              "--in-doubt-after",
              "2s",
              "--metrics-port",
              Integer.toString(metricsPorts.get(name))));
      if (stores != null) {
        cmd.addAll(List.of("--jdbc-url", stores.url(name)));
      }
      if (tls != null) {
        cmd.addAll(tls.serverFlags(name));
      }
      if (!name.equals("orders")) {
        cmd.add("--seed"); // rows already there are kept: also right on a restart
        cmd.addAll(List.of("--catalog-scale", Integer.toString(catalogScale)));
      }
    }
    int n = starts.merge(name, 1, Integer::sum);
    ForkedJvm proc =
        ForkedJvm.start(name, cmd, work.resolve(n == 1 ? name + ".log" : name + "-" + n + ".log"));
    started.add(proc);
    current.put(name, proc);
    return proc;
  }

  /**
   * Every {@code event=liveness_violation} line in the coordinator's logs (all its runs): an
   * unfinished transaction that nothing was moving on; the coordinator repaired it, but there must
   * be none.
   */
  List<String> livenessViolations() throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> logs = Files.list(work)) {
      for (Path log :
          logs.filter(
                  p ->
                      p.getFileName().toString().startsWith(COORDINATOR)
                          && p.getFileName().toString().endsWith(".log"))
              .sorted()
              .toList()) {
        for (String line : Files.readAllLines(log)) {
          if (line.contains("event=liveness_violation")) {
            out.add(log.getFileName() + ": " + line);
          }
        }
      }
    }
    return out;
  }

  /**
   * On a shared log: how many transactions running coordinator nodes claimed from a lapsed or
   * restarted node (a restarted node's own start-up claims are in its recovery line), how many
   * fencings and lost leases there were, from the nodes' logs.
   */
  String takeovers() throws IOException {
    int claimed = 0;
    int fenced = 0;
    int lost = 0;
    try (Stream<Path> logs = Files.list(work)) {
      for (Path log :
          logs.filter(
                  p ->
                      p.getFileName().toString().startsWith(COORDINATOR)
                          && p.getFileName().toString().endsWith(".log"))
              .toList()) {
        for (String line : Files.readAllLines(log)) {
          claimed += line.contains("event=claimed ") ? 1 : 0;
          fenced += line.contains("event=nodes_fenced ") ? 1 : 0;
          lost += line.contains("event=lease_lost ") ? 1 : 0;
        }
      }
    }
    return claimed
        + " transaction(s) claimed and resumed by a node, "
        + fenced
        + " fencing(s) of a lapsed node, "
        + lost
        + " lease(s) found lost by their node";
  }

  /** How to run the twopc CLI: the shaded jar, or its main class on this classpath (tests). */
  private List<String> coordinatorCommand() {
    List<String> cmd = java();
    if (coordinatorJar != null) {
      cmd.addAll(List.of("-jar", coordinatorJar.toString()));
    } else {
      cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), COORDINATOR_MAIN));
    }
    return cmd;
  }

  /** Small JVMs that start fast: five of them share the machine. */
  private static List<String> java() {
    return new ArrayList<>(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1"));
  }

  record Cli(int exit, String output) {}

  /** Runs the twopc CLI with {@code args}, as the demo's operator. */
  Cli cli(String... args) throws IOException, InterruptedException {
    return cliAs(DemoTls.OPERATOR, args);
  }

  /** Runs the twopc CLI with {@code args} and {@code identity}'s certificate when TLS is on. */
  Cli cliAs(String identity, String... args) throws IOException, InterruptedException {
    List<String> cmd = coordinatorCommand();
    cmd.addAll(List.of(args));
    if (tls != null) {
      cmd.addAll(tls.flags(identity));
    }
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

  private void awaitRegistered(Set<String> names) throws InterruptedException {
    ManagedChannel ch = Grpc.newChannelBuilder(firstCoordinator(), operatorCredentials()).build();
    try {
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      while (true) {
        Set<String> registered =
            CoordinatorGrpc.newBlockingStub(ch)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .listParticipants(ListParticipantsRequest.getDefaultInstance())
                .getParticipantsList()
                .stream()
                .map(ParticipantInfo::getName)
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

  void stopAll() {
    started.forEach(ForkedJvm::terminate); // all at once: each takes a moment to close cleanly
    for (ForkedJvm p : started) {
      p.stop(Duration.ofSeconds(10));
    }
  }

  /**
   * A port free now and below the kernel's ephemeral range. A port from {@code new ServerSocket(0)}
   * comes from that range, which outgoing connections draw their local ports from too: while a
   * killed process is down (or before it first starts), any connection on the machine may take its
   * port, and the restart on the same port fails with "address in use". Below the range only a
   * listener can hold it, and every candidate is tried first.
   */
  private static int freePort() throws IOException {
    int low = ephemeralLow();
    int from = Math.max(1024, low - 12_000);
    for (int i = 0; i < 200; i++) {
      int port = from + PORTS.nextInt(low - from);
      if (!PICKED.add(port)) {
        continue;
      }
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(port)); // the wildcard: free there is free on loopback too
        return port;
      } catch (IOException taken) {
        // someone listens there: try another
      }
    }
    throw new IOException("no free port between " + from + " and " + low);
  }

  /** The first port of the ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range). */
  private static int ephemeralLow() {
    try {
      // readAllLines, not readString: the JDK reads /proc's zero-sized files short with it
      String range =
          Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      int low = Integer.parseInt(range.split("\\s+")[0]);
      if (low > 2048) {
        return low;
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or unreadable: the IANA dynamic range starts at 49152
    }
    return 49152;
  }

  private static String firstLine(String m) {
    String s = String.valueOf(m);
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  static String indent(String text) {
    return text.lines().map(l -> "    " + l + "\n").collect(Collectors.joining());
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temp directory is not worth failing the run for
    }
  }
}
