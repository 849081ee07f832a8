package dev.twopc.coordinator;

import dev.twopc.coordinator.internal.api.AccessRules;
import dev.twopc.coordinator.internal.api.AdminService;
import dev.twopc.coordinator.internal.api.CoordinatorService;
import dev.twopc.coordinator.internal.api.TransactionQueries;
import dev.twopc.coordinator.internal.api.Views;
import dev.twopc.coordinator.internal.cluster.Membership;
import dev.twopc.coordinator.internal.cluster.NodeIdFile;
import dev.twopc.coordinator.internal.concurrent.Completions;
import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogRecord.Prune;
import dev.twopc.coordinator.internal.log.LogStore;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.protocol.Ticker;
import dev.twopc.coordinator.internal.protocol.TransactionEngine;
import dev.twopc.coordinator.internal.recovery.LivenessCheck;
import dev.twopc.coordinator.internal.recovery.Recovery;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import dev.twopc.coordinator.internal.transport.grpc.GrpcParticipantTransport;
import dev.twopc.coordinator.internal.transport.grpc.ParticipantDirectory;
import dev.twopc.proto.StrictMarshalling;
import dev.twopc.security.AccessControl;
import dev.twopc.security.Addresses;
import dev.twopc.security.PeerIdentity;
import dev.twopc.security.TlsCredentials;
import dev.twopc.telemetry.MetricsEndpoint;
import io.grpc.BindableService;
import io.grpc.ClientInterceptor;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running coordinator: the decision log open, recovery done, and the Coordinator and Admin
 * services served over gRPC with health checking and reflection.
 *
 * <pre>{@code
 * try (CoordinatorServer server = CoordinatorServer.start(CoordinatorConfig.builder()
 *     .port(7000).dataDir(Path.of("data")).build())) {
 *   System.out.println(server.recoverySummary().describe());
 *   server.awaitTermination();
 * }
 * }</pre>
 */
public final class CoordinatorServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorServer.class);
  private static final String[] SERVICES = {"", "twopc.v1.Coordinator", "twopc.v1.Admin"};

  private final LogStore store;
  private final DecisionLog decisionLog;
  private final ParticipantDirectory directory;
  private final GrpcParticipantTransport transport;
  private final TransactionEngine engine;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService rpc;
  private final HealthStatusManager health;
  private final List<Server> servers;
  private final RecoverySummary recovery;
  private final int port;
  private final LivenessCheck liveness;
  private final ScheduledExecutorService livenessThread;
  private final Membership membership; // null: the log's only writer
  private final ScheduledExecutorService leaseThread;
  private final TlsCredentials tls; // null: plaintext
  private final MetricsEndpoint metrics; // null: no metrics
  private boolean closed;

  private CoordinatorServer(
      LogStore store,
      DecisionLog decisionLog,
      ParticipantDirectory directory,
      GrpcParticipantTransport transport,
      TransactionEngine engine,
      ScheduledExecutorService scheduler,
      ExecutorService rpc,
      HealthStatusManager health,
      List<Server> servers,
      RecoverySummary recovery,
      int port,
      LivenessCheck liveness,
      ScheduledExecutorService livenessThread,
      Membership membership,
      ScheduledExecutorService leaseThread,
      TlsCredentials tls,
      MetricsEndpoint metrics) {
    this.metrics = metrics;
    this.tls = tls;
    this.store = store;
    this.decisionLog = decisionLog;
    this.directory = directory;
    this.transport = transport;
    this.engine = engine;
    this.scheduler = scheduler;
    this.rpc = rpc;
    this.health = health;
    this.servers = servers;
    this.recovery = recovery;
    this.port = port;
    this.liveness = liveness;
    this.livenessThread = livenessThread;
    this.membership = membership;
    this.leaseThread = leaseThread;
  }

  /** Opens the decision log, runs recovery, then starts serving. */
  public static CoordinatorServer start(CoordinatorConfig config) throws IOException {
    // Before anything else: a coordinator with broken credentials does not start at all.
    TlsCredentials tls =
        config.tls() == null ? null : TlsCredentials.load(config.tls(), config.tlsReloadInterval());
    try {
      return start(config, tls);
    } catch (IOException | RuntimeException e) {
      if (tls != null) {
        tls.close();
      }
      throw e;
    }
  }

  private static CoordinatorServer start(CoordinatorConfig config, TlsCredentials tls)
      throws IOException {
    LogStore store = LogStore.open(config);
    HealthStatusManager health = new HealthStatusManager();
    PrometheusRegistry registry = config.metricsPort() == null ? null : new PrometheusRegistry();
    CoordinatorMetrics metrics =
        registry == null ? CoordinatorMetrics.disabled() : CoordinatorMetrics.create(registry);
    DecisionLog decisionLog =
        new DecisionLog(
            store,
            config.durability(),
            config.maxBatchSize(),
            healthy -> {
              for (String s : SERVICES) {
                health.setStatus(s, healthy ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
              }
            },
            metrics);
    LogReader reader = store;
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(1, daemon("twopc-timer"));
    // Calls that may block on the log's database run here; Execute runs on the transport thread.
    ExecutorService rpc = Executors.newCachedThreadPool(daemon("twopc-rpc"));
    ParticipantDirectory directory =
        new ParticipantDirectory(
            decisionLog,
            config.clock(),
            config.maxInboundMessageBytes(),
            config.participantInterceptors(),
            tls == null ? InsecureChannelCredentials.create() : tls.channel(),
            name -> {
              List<ClientInterceptor> list = new ArrayList<>(metrics.participantInterceptors(name));
              list.addAll(config.tracing().clientInterceptors());
              return list;
            });
    String[] advertised = {config.advertisedAddress()};
    GrpcParticipantTransport transport =
        new GrpcParticipantTransport(
            directory,
            () -> advertised[0],
            config.tracing(),
            config.participantStreams() ? scheduler : null,
            metrics::participantCall);
    TransactionEngine engine =
        new TransactionEngine(
            config, decisionLog, reader, transport, scheduler, Ticker.system(), metrics);
    RecoverySummary summary;
    double recoverySeconds;
    Membership membership = null;
    try {
      // On a log several coordinators share (PostgreSQL), this one is a node of them: it
      // recovers what it may claim, not the whole log.
      if (store.leases().isPresent()) {
        membership =
            new Membership(
                store.leases().get(),
                reader,
                decisionLog,
                engine,
                config.clock(),
                nodeId(config),
                config.lease(),
                CLAIM_BATCH);
      }
      directory.load(reader.participants());
      long recoveryStart = System.nanoTime();
      summary =
          membership == null
              ? Recovery.run(reader, decisionLog, engine, config.clock())
              : membership.start();
      recoverySeconds = (System.nanoTime() - recoveryStart) / 1e9;
    } catch (IOException | LogStoreException e) {
      scheduler.shutdownNow();
      rpc.shutdownNow();
      decisionLog.close();
      transport.close();
      directory.close();
      store.close();
      throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
    }

    TransactionQueries queries =
        new TransactionQueries(
            reader,
            engine,
            new Views(config.parkAfter(), directory::addressOf),
            config.clock(),
            config.retention());
    // Strict: a request that does not parse is INVALID_ARGUMENT, not grpc-java's UNKNOWN.
    // With TLS, who may call what (the caller's certificate and the roles file); without, none.
    AccessControl access = config.roles() == null ? null : AccessRules.coordinator(config.roles());
    List<BindableService> bindable =
        List.of(
            new CoordinatorService(engine, directory, queries, reader, config, rpc, access),
            new AdminService(
                engine,
                queries,
                reader,
                decisionLog,
                config,
                metrics,
                membership == null ? null : membership.nodeId()),
            health.getHealthService(),
            ProtoReflectionServiceV1.newInstance());
    // grpc-java calls the last interceptor first: tracing, then metrics (refusals included),
    // then who the caller is, then whether it may call.
    List<ServerInterceptor> interceptors = new ArrayList<>();
    if (access != null) {
      interceptors.add(access.interceptor());
    }
    interceptors.add(PeerIdentity.interceptor());
    interceptors.addAll(metrics.serverInterceptors());
    interceptors.addAll(config.tracing().serverInterceptors());
    List<ServerServiceDefinition> services =
        bindable.stream()
            .map(
                s ->
                    ServerInterceptors.intercept(
                        StrictMarshalling.wrap(s.bindService()), interceptors))
            .toList();
    NettyServerBuilder netty =
        NettyServerBuilder.forAddress(
                new InetSocketAddress(config.host(), config.port()),
                tls == null ? InsecureServerCredentials.create() : tls.server())
            .maxInboundMessageSize(config.maxInboundMessageBytes())
            .executor(rpc)
            .callExecutor(CoordinatorService.EXECUTORS);
    services.forEach(netty::addService);
    List<Server> servers = new ArrayList<>();
    servers.add(netty.build());
    if (config.inProcessName() != null) {
      InProcessServerBuilder inProcess =
          InProcessServerBuilder.forName(config.inProcessName())
              .maxInboundMessageSize(config.maxInboundMessageBytes())
              .executor(rpc)
              .callExecutor(CoordinatorService.EXECUTORS);
      services.forEach(inProcess::addService);
      servers.add(inProcess.build());
    }
    try {
      for (Server s : servers) {
        s.start();
      }
    } catch (IOException e) {
      servers.forEach(Server::shutdownNow);
      engine.close();
      scheduler.shutdownNow();
      rpc.shutdownNow();
      decisionLog.close();
      if (membership != null) {
        membership.leave();
      }
      transport.close();
      directory.close();
      store.close();
      throw new IOException(
          "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e);
    }
    MetricsEndpoint endpoint = null;
    if (registry != null) {
      metrics.watch(
          engine::liveFigures,
          decisionLog::healthy,
          new CoordinatorMetrics.Recovered(
              summary.resumedCommits(),
              summary.resumedAborts(),
              summary.abortedUndecided(),
              recoverySeconds),
          access == null ? () -> 0 : access::refusals);
      try {
        endpoint = MetricsEndpoint.start(registry, config.metricsHost(), config.metricsPort());
      } catch (java.io.UncheckedIOException e) {
        servers.forEach(Server::shutdownNow);
        engine.close();
        scheduler.shutdownNow();
        rpc.shutdownNow();
        decisionLog.close();
        if (membership != null) {
          membership.leave();
        }
        transport.close();
        directory.close();
        store.close();
        throw e.getCause();
      }
    }
    int port = servers.get(0).getPort();
    if (advertised[0] == null) {
      advertised[0] = "localhost:" + port;
    }
    for (String s : SERVICES) {
      health.setStatus(s, ServingStatus.SERVING);
    }
    // While the store is failing, probe it so health returns to SERVING without traffic.
    // The probe is a prune of nothing, queued: its outcome is the log's health.
    Completions.every(
        scheduler,
        "store probe",
        () -> {
          if (!decisionLog.healthy()) {
            decisionLog.queue(new Prune(0, 1));
          }
        },
        1,
        TimeUnit.SECONDS);
    // The liveness repair and the prune wait for log writes: their own thread, so that they
    // never hold up the timer thread's timeouts and phase-2 retries.
    LivenessCheck liveness =
        new LivenessCheck(
            reader,
            membership == null ? reader::unfinished : membership::owned,
            decisionLog,
            engine,
            config.clock(),
            config.livenessCheckInterval().toMillis());
    ScheduledExecutorService livenessThread =
        Executors.newSingleThreadScheduledExecutor(daemon("twopc-maintenance"));
    ScheduledExecutorService leaseThread =
        Executors.newSingleThreadScheduledExecutor(daemon("twopc-takeover"));
    if (membership != null) {
      // Its own thread: a renewal must not wait behind a prune or a liveness repair.
      membership.advertise(advertised[0]);
      long renewEvery = Math.max(1, config.lease().toMillis() / 5);
      Membership node = membership;
      directory.share(reader::participants);
      // Renewals run on the membership's own thread since it joined; takeovers wait on decision
      // writes, here.
      Completions.every(
          leaseThread,
          "takeover",
          () -> {
            node.takeOver();
            try {
              directory.refresh(); // addresses participants gave the other nodes
            } catch (LogStoreException e) {
              log.warn("event=registry_refresh_failed error=\"{}\"", e.getMessage());
            }
          },
          renewEvery,
          TimeUnit.MILLISECONDS);
    }
    Completions.every(
        livenessThread,
        "prune",
        () -> prune(decisionLog, config),
        config.pruneInterval().toMillis(),
        TimeUnit.MILLISECONDS);
    long every = config.livenessCheckInterval().toMillis();
    Completions.every(
        livenessThread,
        "liveness check",
        () -> {
          try {
            liveness.run();
          } catch (RuntimeException e) {
            log.warn("event=liveness_check_failed error=\"{}\"", e.toString());
          }
        },
        every,
        TimeUnit.MILLISECONDS);
    log.info(
        "event=started port={} store=\"{}\" node={} durability={} metrics={} tracing={} {}",
        port,
        store.description(),
        membership == null ? "-" : membership.nodeId() + "/" + membership.self().epoch(),
        config.durability(),
        endpoint == null
            ? "off"
            : "http://" + config.metricsHost() + ":" + endpoint.port() + "/metrics",
        config.tracing().enabled() ? "on" : "off",
        summary.keyValues());
    if (tls == null && !Addresses.isLoopback(config.host())) {
      log.warn(
          "event=insecure_listen host={} port={} detail=\"plaintext beyond this machine;"
              + " anyone who can reach it can run and resolve transactions\"",
          config.host(),
          port);
    }
    return new CoordinatorServer(
        store,
        decisionLog,
        directory,
        transport,
        engine,
        scheduler,
        rpc,
        health,
        servers,
        summary,
        port,
        liveness,
        livenessThread,
        membership,
        leaseThread,
        tls,
        endpoint);
  }

  private static void prune(DecisionLog decisionLog, CoordinatorConfig config) {
    long before = config.clock().millis() - config.retention().toMillis();
    try {
      int deleted;
      long total = 0;
      do {
        deleted = decisionLog.prune(new Prune(before, config.pruneBatchSize())).get();
        total += deleted;
      } while (deleted == config.pruneBatchSize());
      if (total > 0) {
        log.info("event=pruned transactions={} finished_before={}", total, before);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("event=prune_failed error=\"{}\"", e.toString());
    }
  }

  /** Transactions a node claims per database transaction, at start and at each takeover. */
  private static final int CLAIM_BATCH = 100;

  /** The configured id, else the one kept in the data directory, else a new one. */
  private static String nodeId(CoordinatorConfig config) throws IOException {
    if (config.nodeId() != null) {
      return config.nodeId();
    }
    if (config.dataDir() == null) {
      return NodeIdFile.madeUp();
    }
    try {
      return NodeIdFile.loadOrCreate(config.dataDir());
    } catch (IOException e) {
      throw new IOException(
          "cannot keep the node id in " + config.dataDir() + ": " + e.getMessage(), e);
    }
  }

  /** This coordinator's node id on a shared log; empty when it is the log's only writer. */
  public java.util.Optional<String> nodeId() {
    return membership == null
        ? java.util.Optional.empty()
        : java.util.Optional.of(membership.nodeId());
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** The bound TCP port. */
  public int port() {
    return port;
  }

  /** The port {@code /metrics} is served on; empty when metrics are off. */
  public java.util.OptionalInt metricsPort() {
    return metrics == null
        ? java.util.OptionalInt.empty()
        : java.util.OptionalInt.of(metrics.port());
  }

  /** "localhost:port", for clients on this machine. */
  public String target() {
    return "localhost:" + port;
  }

  public RecoverySummary recoverySummary() {
    return recovery;
  }

  /**
   * Violations of the liveness invariant found (and repaired) since start: transactions that were
   * not final with no call in flight and nothing scheduled. 0 is the only right value; each is also
   * logged as {@code event=liveness_violation}.
   */
  public long livenessViolations() {
    return liveness.violations();
  }

  /** Runs the liveness check now (tests and diagnostics); returns the violations it found. */
  public int checkLiveness() {
    return liveness.run();
  }

  /**
   * Graceful stop: no new calls or transactions, transactions being decided get their decision (up
   * to the shutdown grace), queued log records are written, the log is closed. Phase 2 left
   * unfinished resumes at the next start.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (String s : SERVICES) {
      health.setStatus(s, ServingStatus.NOT_SERVING);
    }
    livenessThread.shutdownNow();
    leaseThread.shutdownNow();
    servers.forEach(Server::shutdown);
    engine.close();
    for (Server s : servers) {
      try {
        if (!s.awaitTermination(2, TimeUnit.SECONDS)) {
          s.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        s.shutdownNow();
      }
    }
    scheduler.shutdownNow();
    decisionLog.close();
    if (membership != null) {
      membership.leave(); // what it leaves unfinished is claimed now, not a lease later
    }
    rpc.shutdown();
    transport.close(); // its streams never end by themselves: a channel would wait for them
    directory.close();
    store.close();
    if (tls != null) {
      tls.close();
    }
    if (metrics != null) {
      metrics.close();
    }
    log.info("event=stopped port={}", port);
  }

  /** Blocks until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    for (Server s : servers) {
      s.awaitTermination();
    }
  }
}
