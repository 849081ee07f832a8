package dev.twopc.bench;

import com.google.protobuf.ByteString;
import dev.twopc.bench.internal.BaselineWorkload;
import dev.twopc.bench.internal.Channels;
import dev.twopc.bench.internal.Cluster;
import dev.twopc.bench.internal.Driver;
import dev.twopc.bench.internal.Load;
import dev.twopc.bench.internal.PhaseResult;
import dev.twopc.bench.internal.Report;
import dev.twopc.bench.internal.TwoPcWorkload;
import dev.twopc.bench.internal.Workload;
import dev.twopc.security.DevIdentities;
import dev.twopc.security.Role;
import dev.twopc.security.TlsCredentials;
import dev.twopc.security.TlsFiles;
import dev.twopc.security.TlsFlags;
import dev.twopc.telemetry.Durations;
import dev.twopc.testing.ForkedJvm;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code twopc bench}: how much two-phase commit costs. Runs, one after the other against the same
 * participant processes, the <b>baseline</b> (the bench itself calls Prepare on every branch in
 * parallel, then Commit on every branch in parallel: no coordinator, no log) and <b>2PC</b> (one
 * {@code Coordinator.Execute} per transaction, the coordinator doing both phases and forcing its
 * decision log), with the same load, and prints throughput, outcomes and latency percentiles of
 * both, and the ratios 2PC/baseline.
 *
 * <pre>
 * twopc bench --branches 2 --concurrency 64 --duration 20s             closed loop, own processes
 * twopc bench --mode open --rate 500 --durability process --json       open loop, JSON
 * twopc bench --coordinator host:7000 --participants p1=h1:7101,p2=h2:7101   running ones
 * </pre>
 *
 * By default it starts the coordinator and one bench participant per branch as separate JVMs (fresh
 * data directories) and stops them on exit, also on Ctrl-C.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    version = "twopc bench 0.1.0-SNAPSHOT",
    subcommands = {BenchParticipantMain.class},
    description = {
      "Measure 2PC against a baseline: the same participant calls made directly,"
          + " without coordinator or log. Both run in one invocation, one after the other, against"
          + " the same participant processes, with the same load.",
      "Every flag has an environment twin, shown in brackets."
    },
    footer = {
      "",
      "Output: a table with, for baseline and 2pc, tx/s (commits finished in the"
          + " measured window / window), committed, aborted, unknown, errors, latency p50 p90 p99"
          + " p99.9 max in ms (transactions started in the window; open loop: from the intended"
          + " start); then 2pc/baseline ratios of throughput, p50 and p99.",
      "--json prints one object: {config:{...}, baseline:PHASE|null, twopc:PHASE,"
          + " ratios:{throughput,p50,p99}|null} where PHASE = {throughput_tps,"
          + " measured_seconds, transactions, committed, aborted, unknown, errors,"
          + " errors_by_code:{CODE:n}, not_sent, latency_ms:{p50,p90,p99,p99_9,max,mean},"
          + " cpu_cores:{process:cores}, idle_after_seconds}. See docs/benchmarks.md.",
      "Exit codes: 0 ok, 1 failure (a process died, nothing committed), 2 bad arguments."
    })
public final class BenchCommand implements Callable<Integer> {
  private static final String COORDINATOR_MAIN = "dev.twopc.coordinator.cli.TwopcCommand";
  private static final String COORDINATOR_JAR = "twopc-coordinator-0.1.0-SNAPSHOT-all.jar";

  /** The bench's own identity with --tls. */
  private static final String BENCH_IDENTITY = "bench";

  @Spec CommandSpec spec;

  @Option(
      names = "--mode",
      paramLabel = "closed|open",
      defaultValue = "${TWOPC_BENCH_MODE:-closed}",
      description =
          "closed: --concurrency transactions always in flight; open: --rate"
              + " transactions per second at fixed intervals, latency from the intended start"
              + " [TWOPC_BENCH_MODE] (default ${DEFAULT-VALUE}).")
  String mode;

  @Option(
      names = "--concurrency",
      paramLabel = "C",
      defaultValue = "${TWOPC_BENCH_CONCURRENCY:-64}",
      description =
          "Closed loop: transactions in flight [TWOPC_BENCH_CONCURRENCY] (default"
              + " ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(
      names = "--rate",
      paramLabel = "R",
      defaultValue = "${TWOPC_BENCH_RATE:-500}",
      description =
          "Open loop: transactions started per second [TWOPC_BENCH_RATE] (default"
              + " ${DEFAULT-VALUE}).")
  double rate;

  @Option(
      names = "--duration",
      paramLabel = "DURATION",
      converter = Durations.Converter.class,
      defaultValue = "${TWOPC_BENCH_DURATION:-10s}",
      description =
          "Measured window of each phase [TWOPC_BENCH_DURATION] (default" + " ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(
      names = "--warmup",
      paramLabel = "DURATION",
      converter = Durations.Converter.class,
      defaultValue = "${TWOPC_BENCH_WARMUP:-60s}",
      description =
          "Load before each measured window, not counted; the report says STILL"
              + " RISING when the window's second half committed over 10 %% more than its first"
              + " [TWOPC_BENCH_WARMUP] (default ${DEFAULT-VALUE}: here the rate still rose after"
              + " 30 s).")
  Duration warmup;

  @Option(
      names = "--branches",
      paramLabel = "1|2|4|8",
      defaultValue = "${TWOPC_BENCH_BRANCHES:-2}",
      description =
          "Participants started, each enlisted once in every transaction"
              + " [TWOPC_BENCH_BRANCHES] (default ${DEFAULT-VALUE}). 1 branch: the coordinator uses"
              + " one-phase commit.")
  int branches;

  @Option(
      names = "--payload",
      paramLabel = "BYTES",
      defaultValue = "${TWOPC_BENCH_PAYLOAD:-128}",
      description = "Payload of each branch [TWOPC_BENCH_PAYLOAD] (default ${DEFAULT-VALUE}).")
  int payloadBytes;

  @Option(
      names = "--durability",
      paramLabel = "fsync|process",
      defaultValue = "${TWOPC_BENCH_DURABILITY:-fsync}",
      description =
          "The coordinator's decision-log durability [TWOPC_BENCH_DURABILITY] (default"
              + " ${DEFAULT-VALUE}).")
  String durability;

  @Option(
      names = "--baseline",
      negatable = true,
      defaultValue = "${TWOPC_BENCH_BASELINE:-true}",
      fallbackValue = "true",
      description =
          "Run the baseline too (--no-baseline: 2PC only) [TWOPC_BENCH_BASELINE]"
              + " (default ${DEFAULT-VALUE}).")
  boolean baseline;

  @Option(
      names = "--rounds",
      paramLabel = "N",
      defaultValue = "${TWOPC_BENCH_ROUNDS:-1}",
      description =
          "Alternate baseline and 2PC N times (baseline first), merging the rounds;"
              + " evens out drift on a noisy machine [TWOPC_BENCH_ROUNDS] (default ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--json", description = "Print one JSON object instead of the table.")
  boolean json;

  @Option(
      names = "--wait-for-completion",
      defaultValue = "${TWOPC_BENCH_WAIT:-false}",
      description =
          "Execute answers only after phase 2 is acknowledged, like the baseline"
              + " (default: once the decision is durable, the coordinator's default)"
              + " [TWOPC_BENCH_WAIT].")
  boolean waitForCompletion;

  @Option(
      names = "--coordinator",
      paramLabel = "HOST:PORT",
      defaultValue = "${TWOPC_BENCH_COORDINATOR}",
      description =
          "Use this running coordinator instead of starting one, or several nodes of one"
              + " (comma-separated: the load is spread over them); needs --participants"
              + " [TWOPC_BENCH_COORDINATOR].")
  String coordinator;

  @Option(
      names = "--participants",
      paramLabel = "NAME=HOST:PORT,...",
      split = ",",
      defaultValue = "${TWOPC_BENCH_PARTICIPANTS}",
      description =
          "Running participants, registered with --coordinator under these names"
              + " (e.g. started with 'twopc bench participant') [TWOPC_BENCH_PARTICIPANTS].")
  List<String> participants;

  @Option(
      names = "--child-jvm-opts",
      paramLabel = "OPTS",
      defaultValue = "${TWOPC_BENCH_CHILD_JVM_OPTS:--Xmx512m -XX:+UseParallelGC}",
      description =
          "JVM options of the coordinator and participant processes"
              + " [TWOPC_BENCH_CHILD_JVM_OPTS] (default '${DEFAULT-VALUE}').")
  String childJvmOpts;

  @Option(
      names = "--child-log-level",
      paramLabel = "LEVEL",
      defaultValue = "${TWOPC_BENCH_CHILD_LOG_LEVEL:-warn}",
      description =
          "Log level of the child processes (-Dtwopc.log.level); debug logs lines"
              + " per branch [TWOPC_BENCH_CHILD_LOG_LEVEL] (default ${DEFAULT-VALUE}).")
  String childLogLevel;

  @Option(
      names = "--jfr",
      paramLabel = "DIR",
      defaultValue = "${TWOPC_BENCH_JFR}",
      description =
          "Record a JFR profile of every process (coordinator.jfr, p1.jfr, ...,"
              + " bench.jfr) into DIR [TWOPC_BENCH_JFR].")
  Path jfr;

  @Option(
      names = "--coordinator-jar",
      paramLabel = "JAR",
      defaultValue = "${TWOPC_BENCH_COORDINATOR_JAR}",
      description =
          "The twopc shaded jar that runs the coordinator [TWOPC_BENCH_COORDINATOR_JAR]"
              + " (default: the coordinator on this classpath, else coordinator/target/"
              + COORDINATOR_JAR
              + " of this checkout).")
  Path coordinatorJar;

  @Option(
      names = "--lock-keys",
      paramLabel = "N",
      defaultValue = "${TWOPC_BENCH_LOCK_KEYS:-0}",
      description =
          "Participants lock one of N keys per branch; 0 = a key of its own per"
              + " transaction, no contention [TWOPC_BENCH_LOCK_KEYS] (default ${DEFAULT-VALUE}).")
  int lockKeys;

  @Option(
      names = "--max-in-flight",
      paramLabel = "N",
      defaultValue = "${TWOPC_BENCH_MAX_IN_FLIGHT:-10000}",
      description =
          "Open loop: transactions due while this many are in flight are not sent and"
              + " reported as not sent [TWOPC_BENCH_MAX_IN_FLIGHT] (default ${DEFAULT-VALUE}).")
  int maxInFlight;

  @Option(
      names = "--rpc-timeout",
      paramLabel = "DURATION",
      converter = Durations.Converter.class,
      defaultValue = "${TWOPC_BENCH_RPC_TIMEOUT:-30s}",
      description =
          "Deadline of every call the bench makes [TWOPC_BENCH_RPC_TIMEOUT] (default"
              + " ${DEFAULT-VALUE}).")
  Duration rpcTimeout;

  @Option(
      names = "--work",
      paramLabel = "DIR",
      defaultValue = "${TWOPC_BENCH_WORK}",
      description =
          "Data and logs of the processes started [TWOPC_BENCH_WORK] (default a fresh"
              + " temporary directory, deleted after a successful run).")
  Path work;

  @Option(names = "--keep", description = "Keep the data and logs also after a successful run.")
  boolean keep;

  @Option(
      names = "--participant",
      paramLabel = "sdk|memory",
      defaultValue = "${TWOPC_BENCH_PARTICIPANT_KIND:-sdk}",
      description =
          "The participants it starts. sdk: the participant SDK, durable on its"
              + " embedded SQLite store (what a service embedding twopc runs); memory: vote YES from"
              + " memory with no durable work, like the peers' empty transactions, so the coordinator"
              + " alone is measured (plaintext only) [TWOPC_BENCH_PARTICIPANT_KIND] (default"
              + " ${DEFAULT-VALUE}).")
  String participantKind;

  @Option(
      names = "--participant-calls",
      paramLabel = "stream|unary",
      defaultValue = "${TWOPC_BENCH_PARTICIPANT_CALLS:-unary}",
      description =
          "How Prepare, Commit and Rollback reach the participants, from the coordinator it starts"
              + " (its --participant-calls) and from the baseline alike. stream: one long-lived"
              + " stream per participant carrying batches; unary: one call per message"
              + " [TWOPC_BENCH_PARTICIPANT_CALLS] (default ${DEFAULT-VALUE}).")
  String participantCalls;

  @Option(
      names = "--metrics",
      defaultValue = "${TWOPC_BENCH_METRICS:-false}",
      description =
          "The processes it starts keep and serve their Prometheus metrics"
              + " (--metrics-port 0), to measure what metrics cost [TWOPC_BENCH_METRICS].")
  boolean metrics;

  @Option(
      names = "--tls",
      defaultValue = "${TWOPC_BENCH_TLS:-false}",
      description =
          "Mutual TLS on every hop of the processes it starts, with development"
              + " certificates made in the work directory (the bench calls as 'bench', with the"
              + " client, operator and coordinator roles) [TWOPC_BENCH_TLS].")
  boolean tls;

  /**
   * With --coordinator: the bench's certificate; the cluster must grant it the client and operator
   * roles, and the participants the coordinator role for the baseline.
   */
  @Mixin TlsFlags tlsFlags = new TlsFlags();

  private final PrintStream out;
  private final PrintStream err;
  private final List<ForkedJvm> started = new CopyOnWriteArrayList<>();

  public BenchCommand() {
    this(System.out, System.err);
  }

  private BenchCommand(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /** A bench that prints its report to {@code out} and its progress to {@code err} (tests). */
  public static BenchCommand printingTo(PrintStream out, PrintStream err) {
    return new BenchCommand(out, err);
  }

  public static void main(String[] args) {
    System.exit(commandLine(new BenchCommand()).execute(args));
  }

  /** The command line as {@link #main} runs it: a failure is one message, not a stack trace. */
  public static CommandLine commandLine(BenchCommand command) {
    CommandLine cl = new CommandLine(command).setCommandName("twopc bench");
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine failed = ex.getCommandLine();
          failed
              .getErr()
              .println(
                  "twopc bench: "
                      + ex.getMessage()
                      + " (see '"
                      + failed.getCommandSpec().qualifiedName()
                      + " --help')");
          failed.getErr().flush();
          return CommandLine.ExitCode.USAGE;
        });
    cl.setExecutionExceptionHandler(
        (ex, failed, parseResult) -> {
          failed.getErr().println("twopc bench: " + ex.getMessage());
          failed.getErr().flush();
          return 1;
        });
    return cl;
  }

  @Override
  public Integer call() throws Exception {
    validate();
    boolean external = coordinator != null && !coordinator.isBlank();
    boolean ok = false;
    if (!external) {
      work =
          work == null ? Files.createTempDirectory("twopc-bench-") : Files.createDirectories(work);
    }
    Thread cleanup =
        new Thread(
            () -> {
              Cluster.stopAll(started);
              err.println(
                  "twopc bench: interrupted; stopped every process it started"
                      + (work == null ? "" : "; data and logs in " + work));
            },
            "bench-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup); // Ctrl-C or SIGTERM: stop what we started
    try (Recording recording = jfr == null ? null : startRecording()) {
      int exit = run(external);
      if (recording != null) {
        recording.stop(); // writes bench.jfr
      }
      ok = exit == 0;
      return exit;
    } finally {
      Cluster.stopAll(started);
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // already shutting down: the hook runs anyway
      }
      if (work != null) {
        if (ok && !keep) {
          deleteTree(work);
        } else {
          err.println("twopc bench: data and logs kept in " + work);
        }
      }
    }
  }

  private int run(boolean external) throws Exception {
    long t0 = System.nanoTime();
    DevIdentities identities = null;
    TlsFiles files = tlsFlags.files(spec, true);
    if (tls) {
      Map<String, Set<Role>> grants = new LinkedHashMap<>();
      grants.put("coordinator", Set.of(Role.COORDINATOR));
      for (int i = 1; i <= branches; i++) {
        grants.put("p" + i, Set.of(Role.PARTICIPANT));
      }
      grants.put(BENCH_IDENTITY, Set.of(Role.CLIENT, Role.OPERATOR, Role.COORDINATOR));
      identities = DevIdentities.create(work.resolve("certs"), grants, Duration.ofDays(1));
      files = identities.of(BENCH_IDENTITY);
    }
    Cluster cluster;
    try (TlsCredentials credentials =
        files == null ? null : TlsCredentials.load(files, Duration.ofMinutes(10))) {
      ChannelCredentials channels =
          credentials == null ? InsecureChannelCredentials.create() : credentials.channel();
      if (external) {
        cluster = Cluster.external(coordinator, parseParticipants(), channels);
      } else {
        err.printf(
            "twopc bench: starting the coordinator (%s) and %d participant(s) in %s%s%n",
            durability, branches, work, tls ? ", mutual TLS on every hop" : "");
        cluster =
            Cluster.spawn(
                new Cluster.Spawn(
                    List.of(javaBinary()),
                    splitOpts(childJvmOpts),
                    jfr,
                    work,
                    coordinatorLauncher(),
                    participantLauncher(),
                    durability,
                    lockKeys,
                    childLogLevel,
                    identities,
                    metrics,
                    participantKind,
                    participantCalls),
                branches,
                started,
                channels);
      }
      return measure(cluster, t0);
    }
  }

  private int measure(Cluster cluster, long t0) throws Exception {
    boolean external = cluster.isExternal();
    try (cluster) {
      if (external) {
        cluster.awaitRegistered();
      }
      err.printf(
          "twopc bench: ready after %.1f s: %s%n",
          (System.nanoTime() - t0) / 1e9, processes(cluster));
      List<String> names = new ArrayList<>(cluster.participants().keySet());
      List<ManagedChannel> coords = Channels.openEach(cluster.coordinator(), cluster.credentials());
      List<ManagedChannel> parts = new ArrayList<>();
      try {
        for (String target : cluster.participants().values()) {
          parts.add(Channels.open(target, cluster.credentials()));
        }
        ByteString payload = payload(payloadBytes);
        Load load =
            new Load(
                mode.equals("open"), concurrency, rate, warmup, duration, maxInFlight, rpcTimeout);
        Workload twoPc = new TwoPcWorkload(coords, names, payload, waitForCompletion, rpcTimeout);
        Workload base =
            new BaselineWorkload(
                names,
                parts,
                payload,
                Channels.first(cluster.coordinator()),
                rpcTimeout,
                participantCalls.equals("stream"));
        List<String> order = new ArrayList<>();
        PhaseResult baseResult = null;
        PhaseResult twoPcResult = null;
        for (int round = 1; round <= rounds; round++) {
          if (baseline) {
            baseResult = merge(baseResult, phase(base, load, cluster, round));
            order.add("baseline");
          }
          twoPcResult = merge(twoPcResult, phase(twoPc, load, cluster, round));
          order.add("2pc");
        }
        Report report = new Report(config(cluster, order), baseResult, twoPcResult);
        out.print(json ? report.json() + "\n" : report.human());
        out.flush();
        if (twoPcResult.count(dev.twopc.bench.internal.Outcome.COMMITTED) == 0
            || (baseResult != null
                && baseResult.count(dev.twopc.bench.internal.Outcome.COMMITTED) == 0)) {
          err.println(
              "twopc bench: nothing committed in a measured window; see the errors"
                  + (work == null ? "" : " and the logs in " + work));
          return 1;
        }
        return 0;
      } finally {
        coords.forEach(ManagedChannel::shutdownNow);
        parts.forEach(ManagedChannel::shutdownNow);
      }
    } catch (ForkedJvm.Failed e) {
      throw e;
    } catch (RuntimeException | InterruptedException e) {
      // Whatever went wrong, the children's last words are usually the explanation.
      for (ForkedJvm c : started) {
        err.println(
            "--- last output of " + c.name() + " (pid " + c.pid() + ", log " + c.log() + ")");
        err.print(c.tail());
      }
      throw e;
    }
  }

  private PhaseResult phase(Workload w, Load load, Cluster cluster, int round)
      throws InterruptedException {
    err.printf(
        "twopc bench: %s%s: warm-up %s, then measuring %s...%n",
        w.name(),
        rounds > 1 ? " (round " + round + ")" : "",
        Durations.format(warmup),
        Durations.format(duration));
    PhaseResult r = Driver.run(w, load, cluster);
    // The next phase starts on idle participants: 2PC's phase 2 runs after Execute answered.
    Duration idle = cluster.awaitIdle(Duration.ofSeconds(60));
    r.settled(idle);
    err.printf(
        Locale.ROOT,
        "twopc bench: %s: %.1f tx/s, p50 %.2f ms, p99 %.2f ms%n",
        w.name(),
        r.throughput(),
        r.percentileMs(50),
        r.percentileMs(99));
    if (r.stillRising()) {
      err.printf(
          Locale.ROOT,
          "twopc bench: %s: still rising (second half %.2fx the first):" + " raise --warmup%n",
          w.name(),
          r.secondHalfRatio());
    }
    return r;
  }

  private static PhaseResult merge(PhaseResult into, PhaseResult r) {
    if (into == null) {
      return r;
    }
    into.add(r);
    return into;
  }

  private void validate() {
    if (!mode.equals("closed") && !mode.equals("open")) {
      throw usage("--mode must be closed or open, was " + mode);
    }
    if (!List.of(1, 2, 4, 8).contains(branches)) {
      throw usage("--branches must be 1, 2, 4 or 8, was " + branches);
    }
    if (!durability.equals("fsync") && !durability.equals("process")) {
      throw usage("--durability must be fsync or process, was " + durability);
    }
    if (concurrency < 1) {
      throw usage("--concurrency must be at least 1, was " + concurrency);
    }
    if (!(rate > 0)) {
      throw usage("--rate must be positive, was " + rate);
    }
    if (duration.isZero() || duration.isNegative() || warmup.isNegative()) {
      throw usage("--duration must be positive and --warmup not negative");
    }
    if (payloadBytes < 0) {
      throw usage("--payload must not be negative, was " + payloadBytes);
    }
    if (rounds < 1 || maxInFlight < 1) {
      throw usage("--rounds and --max-in-flight must be at least 1");
    }
    boolean hasCoordinator = coordinator != null && !coordinator.isBlank();
    boolean hasParticipants = participants != null && !participants.isEmpty();
    if (hasCoordinator != hasParticipants) {
      throw usage("give --coordinator and --participants together (or neither, to start them)");
    }
    if (hasParticipants) {
      parseParticipants();
    }
    if (!participantCalls.equals("stream") && !participantCalls.equals("unary")) {
      throw usage("--participant-calls must be stream or unary, was " + participantCalls);
    }
    if (!participantKind.equals("sdk") && !participantKind.equals("memory")) {
      throw usage("--participant must be sdk or memory, was " + participantKind);
    }
    if (participantKind.equals("memory") && (tls || hasCoordinator)) {
      throw usage(
          "--participant memory is for the plaintext processes the bench starts: drop"
              + (tls ? " --tls" : " --coordinator and --participants"));
    }
    if (tls && hasCoordinator) {
      throw usage(
          "--tls is for the processes the bench starts; against --coordinator give"
              + " --tls-cert, --tls-key and --tls-trust");
    }
    if (!hasCoordinator && tlsFlags.given()) {
      throw usage(
          "--tls-cert, --tls-key and --tls-trust go with --coordinator; for the"
              + " processes the bench starts use --tls");
    }
    tlsFlags.files(spec, true);
  }

  private Map<String, String> parseParticipants() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String p : participants) {
      int eq = p.indexOf('=');
      if (eq <= 0
          || eq == p.length() - 1
          || m.put(p.substring(0, eq).trim(), p.substring(eq + 1).trim()) != null) {
        throw usage("--participants takes distinct NAME=HOST:PORT entries, got '" + p + "'");
      }
    }
    return m;
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  /** How to run the coordinator: a given jar, its main class here (tests), or this checkout's. */
  private List<String> coordinatorLauncher() {
    if (coordinatorJar != null) {
      return List.of("-jar", coordinatorJar.toString());
    }
    try {
      Class.forName(COORDINATOR_MAIN, false, getClass().getClassLoader());
      return List.of("-cp", System.getProperty("java.class.path"), COORDINATOR_MAIN);
    } catch (ClassNotFoundException e) {
      // not bundled: look next to this jar
    }
    try {
      // bench/target/<jar or classes> -> the checkout's coordinator/target/
      Path self =
          Path.of(BenchCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path jar =
          self.getParent()
              .getParent()
              .getParent()
              .resolve("coordinator/target")
              .resolve(COORDINATOR_JAR);
      if (Files.isRegularFile(jar)) {
        return List.of("-jar", jar.toString());
      }
    } catch (URISyntaxException | RuntimeException e) {
      // falls through to the message below
    }
    throw new IllegalStateException(
        "cannot find the coordinator: give --coordinator-jar, or"
            + " build it with 'mvn -B -DskipTests -pl coordinator -am package'");
  }

  private static List<String> participantLauncher() {
    return List.of(
        "-cp", System.getProperty("java.class.path"), BenchParticipantMain.class.getName());
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static List<String> splitOpts(String opts) {
    return opts == null || opts.isBlank()
        ? List.of()
        : Arrays.stream(opts.trim().split("\\s+")).toList();
  }

  /** Deterministic, incompressible-looking bytes, built once and shared by every request. */
  private static ByteString payload(int size) {
    byte[] b = new byte[size];
    long x = 0x9E3779B97F4A7C15L;
    for (int i = 0; i < size; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      b[i] = (byte) x;
    }
    return ByteString.copyFrom(b);
  }

  private Recording startRecording() throws IOException, java.text.ParseException {
    Files.createDirectories(jfr);
    Recording r = new Recording(Configuration.getConfiguration("profile"));
    r.setName("twopc-bench");
    r.setDestination(jfr.resolve("bench.jfr"));
    r.start();
    return r;
  }

  private static String processes(Cluster cluster) {
    if (cluster.isExternal()) {
      return "external: coordinator "
          + cluster.coordinator()
          + ", participants "
          + cluster.participants().entrySet().stream()
              .map(e -> e.getKey() + " " + e.getValue())
              .collect(Collectors.joining(", "))
          + "; bench pid "
          + ProcessHandle.current().pid();
    }
    List<String> p = new ArrayList<>();
    p.add("bench pid " + ProcessHandle.current().pid());
    for (ForkedJvm c : cluster.children()) {
      String addr =
          c.name().equals("coordinator")
              ? cluster.coordinator()
              : cluster.participants().get(c.name());
      p.add(c.name() + " pid " + c.pid() + " (" + addr + ")");
    }
    return String.join(", ", p);
  }

  private Map<String, Object> config(Cluster cluster, List<String> order) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put(
        "transport",
        tls
            ? "mutual TLS on every hop"
            : tlsFlags.given() ? "mutual TLS from the bench" : "plaintext");
    c.put("participant", cluster.isExternal() ? "external" : participantKind);
    c.put("participant_calls", participantCalls);
    c.put(
        "metrics",
        metrics
            ? participantKind.equals("memory")
                ? "kept and served by the coordinator"
                : "kept and served by every process"
            : "off");
    c.put("branches", cluster.participants().size());
    c.put("payload_bytes", payloadBytes);
    c.put("mode", mode);
    c.put("open_loop", mode.equals("open"));
    c.put("concurrency", mode.equals("open") ? null : concurrency);
    c.put("rate", mode.equals("open") ? rate : null);
    c.put("warmup", Durations.format(warmup));
    c.put("duration", Durations.format(duration));
    c.put("rounds", rounds);
    c.put("order", order);
    c.put(
        "durability",
        cluster.isExternal() ? "external (" + durability + " not applied)" : durability);
    c.put("wait_for_completion", waitForCompletion);
    c.put("lock_keys", lockKeys);
    c.put("external", cluster.isExternal());
    c.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    c.put("cores", Runtime.getRuntime().availableProcessors());
    c.put(
        "os",
        System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch"));
    c.put("child_jvm_opts", cluster.isExternal() ? null : childJvmOpts);
    c.put("child_log_level", cluster.isExternal() ? null : childLogLevel);
    c.put("processes", processes(cluster));
    return c;
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temporary directory is not worth failing the bench for
    }
  }
}
