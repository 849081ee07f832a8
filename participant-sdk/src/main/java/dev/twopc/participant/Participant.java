package dev.twopc.participant;

import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionPropagation;
import dev.twopc.participant.internal.Backoff;
import dev.twopc.participant.internal.BranchEngine;
import dev.twopc.participant.internal.BranchStore;
import dev.twopc.participant.internal.CoordinatorLink;
import dev.twopc.participant.internal.EmbeddedStore;
import dev.twopc.participant.internal.Ids;
import dev.twopc.participant.internal.InDoubtResolver;
import dev.twopc.participant.internal.LockManager;
import dev.twopc.participant.internal.ParticipantAccess;
import dev.twopc.participant.internal.ParticipantMetrics;
import dev.twopc.participant.internal.ParticipantService;
import dev.twopc.participant.internal.Registrar;
import dev.twopc.participant.internal.Staging;
import dev.twopc.participant.internal.StoreSafety;
import dev.twopc.participant.internal.TxContextKey;
import dev.twopc.participant.internal.TxServerInterceptor;
import dev.twopc.proto.StrictMarshalling;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.security.AccessControl;
import dev.twopc.security.Addresses;
import dev.twopc.security.PeerIdentity;
import dev.twopc.security.Role;
import dev.twopc.security.RoleMap;
import dev.twopc.security.TlsCredentials;
import dev.twopc.security.TlsFiles;
import dev.twopc.telemetry.MetricsEndpoint;
import dev.twopc.telemetry.Tracing;
import io.grpc.BindableService;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A twopc participant: serves the Participant gRPC service for one named resource, keeps its
 * prepared branches in a durable pending map next to the business data, locks keys for the branches
 * that hold them, recovers after a crash, and registers with the coordinator.
 *
 * <pre>{@code
 * Participant inventory = Participant.builder("inventory")
 *     .coordinator("localhost:7000")
 *     .listenPort(7101)
 *     .dataSource(dataSource)            // prepared state lives next to the business data
 *     .handler(new InventoryHandler())   // prepare(ctx) -> Vote, commit(ctx), rollback(ctx)
 *     .addService(new InventoryApi())    // business calls; the tx id is read and enlisted
 *     .build();
 * inventory.start();                     // recovery, then serving, then registration
 * ...
 * inventory.close();
 * }</pre>
 *
 * <p>Interactive flow ({@link TransactionClient#begin()}, then commit): a participant joins a
 * transaction in one of two ways, or both.
 *
 * <ul>
 *   <li>A client enlists it with its work ({@link TransactionClient#enlist}): the handler finds
 *       that work in {@link BranchContext#payload()} at prepare, exactly as for Execute.
 *   <li>A business call carrying the transaction id (see {@link TransactionPropagation}) enlists
 *       this participant itself; the business code stages its work with {@link #stage(byte[])} and
 *       the handler finds it in {@link BranchContext#staged()} at prepare. Staged work lives in
 *       memory until prepare records it: if this process restarts in between, the branch votes NO
 *       and the transaction aborts.
 * </ul>
 *
 * <p>Lifecycle: {@link #start()} once, then {@link #close()}. Thread-safe. Registration runs in the
 * background from {@code start()} on; {@link #awaitRegistered(Duration)} waits for it.
 *
 * <p>Logging: through the SLF4J 2 API, one {@code event=name participant=... tx=...} line per
 * event. The SDK ships no binding; add one (logback-classic, as twopc's own programs do, with
 * {@code dev.twopc.telemetry.logging.TwopcLayout} for their text or JSON lines; slf4j-simple; ...)
 * or its log lines, warnings about in-doubt branches included, are dropped.
 */
public final class Participant implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Participant.class);
  private static final Executor DIRECT = Runnable::run;

  private final Config config;
  private final List<AutoCloseable> owned = new ArrayList<>();
  private final Staging staging = new Staging();
  private final Object lifecycle = new Object();
  private boolean started;
  private boolean closed;
  private Server server;
  private BranchEngine engine;
  private BranchStore store;
  private DataSource dataSource;
  private CoordinatorLink link;
  private Registrar registrar;
  private InDoubtResolver resolver;
  private TxServerInterceptor interceptor;
  private AccessControl access;
  private ScheduledExecutorService scheduler;
  private ScheduledFuture<?> pruner;
  private String advertised;
  private List<ServerInterceptor> serverInterceptors = List.of();
  private volatile int metricsPort = -1;

  private Participant(Builder b) {
    this.config = new Config(b);
  }

  /**
   * A builder holding this participant's configuration, to build another participant like it
   * (another name needs {@link #builder(String)}). Changing it does not change this participant.
   */
  public Builder newBuilder() {
    return new Builder(config);
  }

  /** Starts configuring the participant called {@code name} (1-64 of [A-Za-z0-9._-]). */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /**
   * Opens the store, recovers prepared branches and re-takes their locks, and only then starts
   * serving; then registers with the coordinator (retrying in the background until it answers) and
   * asks it about recovered branches.
   *
   * @throws IOException if the port cannot be bound
   */
  public void start() throws IOException {
    synchronized (lifecycle) {
      if (started) {
        throw new IllegalStateException("participant " + config.name + " already started");
      }
      started = true;
      try {
        doStart();
      } catch (IOException | RuntimeException e) {
        closeQuietly();
        throw e;
      }
    }
  }

  private void doStart() throws IOException {
    Config c = config;
    scheduler = c.scheduler;
    if (scheduler == null) {
      ScheduledExecutorService s =
          Executors.newSingleThreadScheduledExecutor(threads("twopc-" + c.name + "-timer"));
      scheduler = s;
      owned.add(s::shutdownNow);
    }
    Executor executor = c.executor;
    if (executor == null) {
      ExecutorService e = Executors.newFixedThreadPool(c.threads, threads("twopc-" + c.name));
      executor = e;
      owned.add(e::shutdownNow);
    }
    DataSource ds = c.dataSource;
    if (ds == null) {
      EmbeddedStore embedded =
          EmbeddedStore.open(
              c.dataDirectory,
              c.name,
              c.embeddedSync == EmbeddedSync.FULL,
              c.embeddedCheckpointInterval,
              scheduler);
      owned.add(embedded);
      ds = embedded.dataSource();
    }
    StoreSafety.check(ds);
    // The embedded store has one connection: the branches that arrive together share its
    // commits (one sync each). A DataSource of one's own commits each by itself.
    store =
        c.dataSource == null
            ? BranchStore.grouped(ds, c.name, EmbeddedStore.CONNECTION_WAIT)
            : new BranchStore(ds, c.name);
    store.createSchema();
    if (c.storeInitializer != null) {
      initialize(ds, c.storeInitializer);
    }
    dataSource = ds;
    TlsCredentials tls = null;
    if (c.tls != null) {
      tls = TlsCredentials.load(c.tls, c.tlsReloadInterval);
      owned.add(tls);
    }
    RoleMap roles =
        c.roles != null ? c.roles : RoleMap.of(Map.of("coordinator", Set.of(Role.COORDINATOR)));
    // With TLS the coordinator's certificate must carry the coordinator identity this
    // participant obeys (when there is one), not only the host name it dials.
    List<String> coordinators =
        roles.entries().entrySet().stream()
            .filter(e -> e.getValue().contains(Role.COORDINATOR))
            .map(Map.Entry::getKey)
            .toList();
    List<ClientInterceptor> toCoordinator = new ArrayList<>(c.coordinatorInterceptors);
    toCoordinator.addAll(c.tracing.clientInterceptors());
    link =
        new CoordinatorLink(
            c.coordinator,
            c.rpcTimeout,
            toCoordinator,
            tls == null ? InsecureChannelCredentials.create() : tls.channel(),
            tls != null && coordinators.size() == 1 ? coordinators.get(0) : null);
    owned.add(link);
    LockManager locks = new LockManager();
    engine =
        new BranchEngine(
            c.name,
            c.handler,
            store,
            locks,
            staging,
            c.clock,
            c.lockWait,
            c.prepareTimeout,
            c.inDoubtAfter,
            c.listener,
            c.coordinator);
    PrometheusRegistry registry = c.metricsPort == null ? null : new PrometheusRegistry();
    ParticipantMetrics metrics =
        registry == null ? ParticipantMetrics.disabled() : ParticipantMetrics.create(registry);
    metrics.watch(engine, locks, store, c.clock, c.inDoubtAfter);
    serverInterceptors = new ArrayList<>(metrics.serverInterceptors());
    serverInterceptors.addAll(c.tracing.serverInterceptors());

    // Locks of recovered branches are held before the first call can be served.
    engine.recover();

    // Without TLS, loopback only unless told otherwise: plaintext Prepare and Commit from
    // anyone on the network would let them drive this participant's branches.
    String listenHost = c.listenHost != null ? c.listenHost : tls == null ? "127.0.0.1" : null;
    ServerCredentials serverCredentials =
        tls == null ? InsecureServerCredentials.create() : tls.server();
    // With TLS, only the coordinator's identity drives branches (and an operator lists them).
    access = tls == null ? null : ParticipantAccess.rules(c.name, roles, c.services);
    ServerBuilder<?> sb =
        (listenHost == null
                ? Grpc.newServerBuilderForPort(c.listenPort, serverCredentials)
                : NettyServerBuilder.forAddress(
                    new InetSocketAddress(listenHost, c.listenPort), serverCredentials))
            .executor(executor)
            // An Exchange stream's batches are read on the transport thread: its messages go to
            // the pool one by one (ParticipantService), so the stream costs no extra hand-off.
            .callExecutor(
                new ServerCallExecutorSupplier() {
                  @Override
                  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
                    return call.getMethodDescriptor()
                            .getFullMethodName()
                            .equals(ParticipantGrpc.getExchangeMethod().getFullMethodName())
                        ? DIRECT
                        : null;
                  }
                })
            .maxInboundMessageSize(c.maxInboundMessageBytes)
            // Strict: a request that does not parse is INVALID_ARGUMENT, not grpc-java's UNKNOWN.
            .addService(
                guarded(
                    StrictMarshalling.wrap(
                        new ParticipantService(engine, metrics, c.tracing, executor)
                            .bindService())));
    Backoff backoff = new Backoff(c.retryBackoffBase, c.retryBackoffCap);
    registrar = new Registrar(c.name, link, scheduler, backoff, c.reregisterInterval, c.listener);
    interceptor = new TxServerInterceptor(c.name, link, staging, registrar, c.clock);
    for (ServerServiceDefinition svc : c.services) {
      sb.addService(guarded(ServerInterceptors.intercept(svc, interceptor)));
    }
    server = sb.build().start();
    if (registry != null) {
      MetricsEndpoint endpoint =
          MetricsEndpoint.start(
              registry,
              c.metricsHost != null ? c.metricsHost : listenHost != null ? listenHost : "127.0.0.1",
              c.metricsPort);
      owned.add(endpoint);
      metricsPort = endpoint.port();
    }
    advertised =
        c.advertisedAddress != null
            ? c.advertisedAddress
            : (c.listenHost == null || isWildcard(c.listenHost)
                    ? "localhost"
                    : hostForAddress(c.listenHost))
                + ":"
                + server.getPort();
    log.info(
        "event=participant_started participant={} listen={}:{} advertised={} coordinator={}"
            + " transport={} store=\"{}\" lock_wait={} in_doubt_after={}",
        c.name,
        listenHost == null ? "*" : listenHost,
        server.getPort(),
        advertised,
        c.coordinator,
        tls != null
            ? "mutual_tls"
            : listenHost != null && Addresses.isLoopback(listenHost)
                ? "plaintext_loopback"
                : "PLAINTEXT_insecure_listen",
        c.dataSource == null
            ? "embedded SQLite " + c.dataDirectory + " sync=" + c.embeddedSync
            : "given DataSource",
        c.lockWait,
        c.inDoubtAfter);
    registrar.start(advertised);
    resolver =
        new InDoubtResolver(
            engine,
            link,
            registrar,
            scheduler,
            c.clock,
            backoff,
            c.inDoubtAfter,
            c.inDoubtCheckInterval,
            metrics);
    resolver.start();
    pruner =
        scheduler.scheduleWithFixedDelay(
            this::prune,
            c.pruneInterval.toMillis(),
            c.pruneInterval.toMillis(),
            TimeUnit.MILLISECONDS);
  }

  /** The port {@code /metrics} is served on; -1 when metrics are off or not started. */
  public int metricsPort() {
    return metricsPort;
  }

  /** The service behind the peer's identity and, with TLS, this participant's access rules. */
  private ServerServiceDefinition guarded(ServerServiceDefinition svc) {
    // grpc-java calls the last interceptor first: tracing, metrics, identity, access.
    List<ServerInterceptor> list = new ArrayList<>();
    if (access != null) {
      list.add(access.interceptor());
    }
    list.add(PeerIdentity.interceptor());
    list.addAll(serverInterceptors);
    return ServerInterceptors.intercept(svc, list);
  }

  private void initialize(DataSource ds, StoreInitializer init) {
    try (Connection conn = ds.getConnection()) {
      boolean auto = conn.getAutoCommit();
      conn.setAutoCommit(false);
      try {
        init.initialize(conn);
        conn.commit();
      } catch (SQLException | RuntimeException e) {
        conn.rollback();
        throw e;
      } finally {
        conn.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "store initializer of participant "
              + config.name
              + " failed: "
              + e.getMessage()
              + " (SQLState "
              + e.getSQLState()
              + ")",
          e);
    }
  }

  private void prune() {
    Instant now = config.clock.instant();
    try {
      int n = store.pruneFinished(now.minus(config.finishedRetention), 10_000);
      int s = staging.pruneOlderThan(now.minus(config.stagedRetention));
      if (n > 0 || s > 0) {
        log.info(
            "event=participant_pruned participant={} finished={} staged={}", config.name, n, s);
      }
    } catch (RuntimeException e) {
      log.warn("event=participant_prune_failed participant={}", config.name, e);
    }
  }

  /** The bound port (the configured one, or the ephemeral one picked for 0). */
  public int port() {
    requireStarted();
    return server.getPort();
  }

  /**
   * The participant's store: the DataSource given to {@link Builder#dataSource}, or the embedded
   * SQLite database under {@link Builder#dataDirectory}, so that a service can read and write its
   * own tables next to the SDK's. Closed by {@link #close()} when embedded.
   *
   * <p>The embedded store has a single connection, shared with the SDK (SQLite has one writer):
   * hold a connection only for a short local transaction, never across a remote call, and never
   * from inside a handler method (use {@link BranchContext#connection()} there). Connections come
   * with auto-commit off.
   */
  public DataSource dataSource() {
    requireStarted();
    return dataSource;
  }

  /** The address registered with the coordinator. */
  public String advertisedAddress() {
    requireStarted();
    return advertised;
  }

  public String name() {
    return config.name;
  }

  /**
   * True once the coordinator accepted a registration from this process. Registration runs in the
   * background from {@link #start()} on, retried with backoff; until it succeeds the coordinator
   * answers a transaction naming this participant with NOT_FOUND ("participant ... is not
   * registered"), before anything is prepared, so such a call is safe to repeat.
   */
  public boolean isRegistered() {
    return registrar != null && registrar.isRegistered();
  }

  /**
   * Waits until the coordinator has accepted this participant's first registration, at most {@code
   * timeout}; true if it has. Call it after {@link #start()} before sending transactions that name
   * this participant (a service that takes business calls at once need not wait: a transaction
   * before registration is refused with NOT_FOUND, see {@link #isRegistered()}).
   */
  public boolean awaitRegistered(Duration timeout) throws InterruptedException {
    requireStarted();
    return registrar.awaitRegistered(timeout);
  }

  private static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
  }

  /** An IPv6 literal gets brackets in host:port. */
  private static String hostForAddress(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  /** The prepared branches waiting for an outcome (what ListPrepared answers), oldest first. */
  public List<PreparedBranchInfo> listPrepared() {
    requireStarted();
    return engine.listPrepared();
  }

  /**
   * The interceptor that enlists this participant in the transaction a business call carries, for
   * business services served by your own gRPC server. Services given to {@link Builder#addService}
   * already have it.
   */
  public ServerInterceptor serverInterceptor() {
    requireStarted();
    return interceptor;
  }

  /** Enlists this participant in {@code txId} (once), for business calls that are not gRPC. */
  public void enlist(String txId) {
    requireStarted();
    if (!Ids.isTxId(txId)) {
      throw new IllegalArgumentException("txId must be 1-128 characters of [A-Za-z0-9._:-]");
    }
    interceptor.enlist(txId);
  }

  /**
   * Stages work for {@code txId}, handed to the handler at prepare in {@link
   * BranchContext#staged()}. Kept in memory until prepare records it durably.
   *
   * @throws IllegalStateException if this participant is not enlisted in the transaction or the
   *     transaction is already preparing
   */
  public void stage(String txId, byte[] work) {
    Objects.requireNonNull(txId, "txId");
    Objects.requireNonNull(work, "work");
    staging.stage(txId, work);
  }

  /**
   * The transaction of the business call being served, if it carried one (see {@link
   * TransactionPropagation}).
   */
  public static Optional<String> currentTxId() {
    return Optional.ofNullable(TxContextKey.CONTEXT_KEY.get());
  }

  /**
   * Stages work for the transaction of the current business call (see {@link
   * TransactionPropagation}).
   */
  public void stage(byte[] work) {
    String txId =
        currentTxId()
            .orElseThrow(() -> new IllegalStateException("no transaction in the current call"));
    stage(txId, work);
  }

  /** Stops serving and background work. Prepared branches stay in the store for the next start. */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (closed) {
        return;
      }
      closed = true;
      closeQuietly();
    }
  }

  private void closeQuietly() {
    if (registrar != null) {
      registrar.close();
    }
    if (resolver != null) {
      resolver.close();
    }
    if (pruner != null) {
      pruner.cancel(false);
    }
    if (server != null) {
      server.shutdown();
      try {
        if (!server.awaitTermination(config.shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)) {
          server.shutdownNow();
          server.awaitTermination(config.shutdownGrace.toMillis(), TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        server.shutdownNow();
      }
    }
    for (int i = owned.size() - 1; i >= 0; i--) {
      try {
        owned.get(i).close();
      } catch (Exception e) {
        log.warn("event=participant_close_failed participant={}", config.name, e);
      }
    }
    owned.clear();
    log.info("event=participant_stopped participant={}", config.name);
  }

  /** For tests in this package: the protocol engine. */
  BranchEngine engine() {
    return engine;
  }

  private void requireStarted() {
    if (engine == null || server == null) {
      throw new IllegalStateException("participant " + config.name + " is not started");
    }
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * The configuration as built: the builder's fields copied into final ones at {@link
   * Builder#build()}.
   */
  private static final class Config {
    final String name;
    final String coordinator;
    final int listenPort;
    final String listenHost;
    final String advertisedAddress;
    final DataSource dataSource;
    final Path dataDirectory;
    final ParticipantHandler handler;
    final Executor executor;
    final ScheduledExecutorService scheduler;
    final int threads;
    final int maxInboundMessageBytes;
    final TlsFiles tls;
    final Duration tlsReloadInterval;
    final boolean insecureListen;
    final RoleMap roles;
    final EmbeddedSync embeddedSync;
    final Duration embeddedCheckpointInterval;
    final StoreInitializer storeInitializer;
    final Clock clock;
    final Duration lockWait;
    final Duration prepareTimeout;
    final Duration rpcTimeout;
    final Duration inDoubtAfter;
    final Duration inDoubtCheckInterval;
    final Duration retryBackoffBase;
    final Duration retryBackoffCap;
    final Duration reregisterInterval;
    final Duration finishedRetention;
    final Duration stagedRetention;
    final Duration pruneInterval;
    final Duration shutdownGrace;
    final ParticipantListener listener;
    final List<ServerServiceDefinition> services;
    final List<ClientInterceptor> coordinatorInterceptors;
    final Integer metricsPort;
    final String metricsHost;
    final Tracing tracing;

    Config(Builder b) {
      this.name = b.name;
      this.coordinator = b.coordinator;
      this.listenPort = b.listenPort;
      this.listenHost = b.listenHost;
      this.advertisedAddress = b.advertisedAddress;
      this.dataSource = b.dataSource;
      this.dataDirectory = b.dataDirectory;
      this.handler = b.handler;
      this.executor = b.executor;
      this.scheduler = b.scheduler;
      this.threads = b.threads;
      this.maxInboundMessageBytes = b.maxInboundMessageBytes;
      this.tls = b.tls;
      this.tlsReloadInterval = b.tlsReloadInterval;
      this.insecureListen = b.insecureListen;
      this.roles = b.roles;
      this.embeddedSync = b.embeddedSync;
      this.embeddedCheckpointInterval = b.embeddedCheckpointInterval;
      this.storeInitializer = b.storeInitializer;
      this.clock = b.clock;
      this.lockWait = b.lockWait;
      this.prepareTimeout = b.prepareTimeout;
      this.rpcTimeout = b.rpcTimeout;
      this.inDoubtAfter = b.inDoubtAfter;
      this.inDoubtCheckInterval = b.inDoubtCheckInterval;
      this.retryBackoffBase = b.retryBackoffBase;
      this.retryBackoffCap = b.retryBackoffCap;
      this.reregisterInterval = b.reregisterInterval;
      this.finishedRetention = b.finishedRetention;
      this.stagedRetention = b.stagedRetention;
      this.pruneInterval = b.pruneInterval;
      this.shutdownGrace = b.shutdownGrace;
      this.listener = b.listener;
      this.services = List.copyOf(b.services);
      this.coordinatorInterceptors = List.copyOf(b.coordinatorInterceptors);
      this.metricsPort = b.metricsPort;
      this.metricsHost = b.metricsHost;
      this.tracing = b.tracing;
    }
  }

  /**
   * Configures a {@link Participant}. {@link #build()} validates and names the bad field; the built
   * participant takes a snapshot, so later builder changes do not affect it.
   */
  public static final class Builder {
    private final String name;
    private String coordinator;
    private int listenPort;
    private String listenHost;
    private String advertisedAddress;
    private DataSource dataSource;
    private Path dataDirectory = Path.of("twopc-data");
    private ParticipantHandler handler;
    private Executor executor;
    private ScheduledExecutorService scheduler;
    private int threads = 32;
    private int maxInboundMessageBytes = 4 * 1024 * 1024;
    private TlsFiles tls;
    private Duration tlsReloadInterval = Duration.ofMinutes(1);
    private boolean insecureListen;
    private RoleMap roles;
    private EmbeddedSync embeddedSync = EmbeddedSync.FULL;
    private Duration embeddedCheckpointInterval = Duration.ofMinutes(1);
    private StoreInitializer storeInitializer;
    private Clock clock = Clock.systemUTC();
    private Duration lockWait = Duration.ofSeconds(2);
    private Duration prepareTimeout = Duration.ofSeconds(5);
    private Duration rpcTimeout = Duration.ofSeconds(5);
    private Duration inDoubtAfter = Duration.ofSeconds(10);
    private Duration inDoubtCheckInterval = Duration.ofSeconds(1);
    private Duration retryBackoffBase = Duration.ofMillis(100);
    private Duration retryBackoffCap = Duration.ofSeconds(30);
    private Duration reregisterInterval = Duration.ofSeconds(30);
    private Duration finishedRetention = Duration.ofHours(24);
    private Duration stagedRetention = Duration.ofMinutes(15);
    private Duration pruneInterval = Duration.ofMinutes(1);
    private Duration shutdownGrace = Duration.ofSeconds(5);
    private ParticipantListener listener = new ParticipantListener() {};
    private List<ServerServiceDefinition> services = new ArrayList<>();
    private List<ClientInterceptor> coordinatorInterceptors = new ArrayList<>();
    private Integer metricsPort;
    private String metricsHost;
    private Tracing tracing = Tracing.off();

    private Builder(Config c) {
      this.name = c.name;
      this.coordinator = c.coordinator;
      this.listenPort = c.listenPort;
      this.listenHost = c.listenHost;
      this.advertisedAddress = c.advertisedAddress;
      this.dataSource = c.dataSource;
      this.dataDirectory = c.dataDirectory;
      this.handler = c.handler;
      this.executor = c.executor;
      this.scheduler = c.scheduler;
      this.threads = c.threads;
      this.maxInboundMessageBytes = c.maxInboundMessageBytes;
      this.tls = c.tls;
      this.tlsReloadInterval = c.tlsReloadInterval;
      this.insecureListen = c.insecureListen;
      this.roles = c.roles;
      this.embeddedSync = c.embeddedSync;
      this.embeddedCheckpointInterval = c.embeddedCheckpointInterval;
      this.storeInitializer = c.storeInitializer;
      this.clock = c.clock;
      this.lockWait = c.lockWait;
      this.prepareTimeout = c.prepareTimeout;
      this.rpcTimeout = c.rpcTimeout;
      this.inDoubtAfter = c.inDoubtAfter;
      this.inDoubtCheckInterval = c.inDoubtCheckInterval;
      this.retryBackoffBase = c.retryBackoffBase;
      this.retryBackoffCap = c.retryBackoffCap;
      this.reregisterInterval = c.reregisterInterval;
      this.finishedRetention = c.finishedRetention;
      this.stagedRetention = c.stagedRetention;
      this.pruneInterval = c.pruneInterval;
      this.shutdownGrace = c.shutdownGrace;
      this.listener = c.listener;
      this.services = new ArrayList<>(c.services);
      this.coordinatorInterceptors = new ArrayList<>(c.coordinatorInterceptors);
      this.metricsPort = c.metricsPort;
      this.metricsHost = c.metricsHost;
      this.tracing = c.tracing;
    }

    private Builder(String name) {
      this.name = name;
    }

    /** The coordinator's host:port (required). */
    public Builder coordinator(String target) {
      this.coordinator = target;
      return this;
    }

    /** The port to serve on; 0 (the default) picks a free one. */
    public Builder listenPort(int port) {
      this.listenPort = port;
      return this;
    }

    /**
     * The address to serve on, e.g. {@code 127.0.0.1} to accept only local calls; default every
     * interface. A specific address is also what is advertised to the coordinator unless {@link
     * #advertisedAddress} says otherwise.
     */
    public Builder listenHost(String host) {
      this.listenHost = host;
      return this;
    }

    /** The host:port the coordinator calls back on; default localhost and the bound port. */
    public Builder advertisedAddress(String address) {
      this.advertisedAddress = address;
      return this;
    }

    /**
     * The database holding the business data and the SDK's tables (created if absent). Without one,
     * an embedded SQLite file database under {@link #dataDirectory(Path)} is used.
     *
     * <p>It must make a commit durable before {@code commit()} returns (a YES vote rests on it),
     * and have at least as many connections as prepares run at once (each holds one for its local
     * transaction, lock waits included). {@link #start()} refuses a database known not to be
     * durable: H2 without {@code WRITE_DELAY=0}, H2 2.5.x without {@code REUSE_SPACE=FALSE}, SQLite
     * not in WAL mode. PostgreSQL and MariaDB are the production choices; see the SDK's README.
     */
    public Builder dataSource(DataSource dataSource) {
      this.dataSource = dataSource;
      return this;
    }

    /**
     * Where the embedded SQLite database ({@code <dir>/<name>.db}, WAL mode) lives when no
     * DataSource is given; default ./twopc-data. {@link Participant#dataSource()} reaches it.
     */
    public Builder dataDirectory(Path dir) {
      this.dataDirectory = dir;
      return this;
    }

    /** The resource-specific prepare, commit and rollback (required). */
    public Builder handler(ParticipantHandler handler) {
      this.handler = handler;
      return this;
    }

    /**
     * Runs the gRPC calls, and so the handler. Prepare blocks in lock waits and JDBC, so this
     * should not be a direct executor. Default: an owned pool of {@link #threads(int)} threads.
     */
    public Builder executor(Executor executor) {
      this.executor = executor;
      return this;
    }

    /** The size of the default executor; default 32. */
    public Builder threads(int threads) {
      this.threads = threads;
      return this;
    }

    /** Runs registration, in-doubt resolution and pruning. Default: an owned single thread. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = scheduler;
      return this;
    }

    /**
     * When the embedded store forces commits to disk; default {@link EmbeddedSync#FULL} (every
     * commit fsynced). {@link EmbeddedSync#NORMAL} survives a killed process but not a power loss.
     * Ignored with {@link #dataSource(DataSource)}.
     */
    public Builder embeddedSync(EmbeddedSync sync) {
      this.embeddedSync = sync;
      return this;
    }

    /**
     * How often the embedded store checkpoints its write-ahead log and truncates it to zero bytes
     * (between checkpoints it stays under SQLite's auto-checkpoint and a 16 MiB {@code
     * journal_size_limit}); default 1 min. Ignored with {@link #dataSource(DataSource)}.
     */
    public Builder embeddedCheckpointInterval(Duration d) {
      this.embeddedCheckpointInterval = d;
      return this;
    }

    /**
     * Runs once in {@link Participant#start()}, after the SDK's tables exist and before recovery
     * and serving, in one local transaction that is committed when it returns: create (and seed)
     * the business tables the handler needs. A failure fails {@code start()}.
     */
    public Builder storeInitializer(StoreInitializer initializer) {
      this.storeInitializer = initializer;
      return this;
    }

    /** The clock of timestamps and ages (prepared-at, in-doubt bound, retention). */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * The largest request this participant reads; default 4 MiB, as gRPC's. A Prepare or one-phase
     * Commit carries its branch's payload, so keep this above the coordinator's {@code
     * --max-payload-bytes} (1 MiB by default) plus a few KiB; a larger request is refused with
     * RESOURCE_EXHAUSTED and the branch aborts. At least 64 KiB.
     */
    public Builder maxInboundMessageBytes(int bytes) {
      this.maxInboundMessageBytes = bytes;
      return this;
    }

    /**
     * Mutual TLS on both of this participant's hops: it serves Prepare, Commit and its business
     * calls over TLS (callers must present a certificate {@code files}' trust bundle verifies), and
     * calls the coordinator over TLS with its own certificate. The files are read again when they
     * change ({@link #tlsReloadInterval}). Without it the participant serves plaintext on 127.0.0.1
     * only (see {@link #insecureListen}).
     */
    public Builder tls(TlsFiles files) {
      this.tls = files;
      return this;
    }

    /** How often the TLS files are checked for a change; default 1 min. */
    public Builder tlsReloadInterval(Duration d) {
      this.tlsReloadInterval = d;
      return this;
    }

    /**
     * With {@link #tls}, which identities (certificate names) have which roles: Prepare, Commit and
     * Rollback are taken only from a {@code coordinator}, ListPrepared also from an {@code
     * operator}, and the calls of the application's own services ({@link
     * #addService(BindableService)}) only from a {@code client} (they can stage work in a
     * transaction); anyone else is refused PERMISSION_DENIED. Default: the identity {@code
     * coordinator} (as {@code twopc certs} names it) has the coordinator role and no one is a
     * client, so a participant with services needs a roles file naming its clients. Read a file
     * with {@link RoleMap#load}.
     */
    public Builder roles(RoleMap roles) {
      this.roles = Objects.requireNonNull(roles, "roles");
      return this;
    }

    /**
     * Allows plaintext on a {@link #listenHost} other than loopback (anyone who reaches it can
     * prepare, commit and roll back its branches); logged at start. Default false.
     */
    public Builder insecureListen(boolean allowed) {
      this.insecureListen = allowed;
      return this;
    }

    /** The longest a prepare waits for one lock before voting NO; default 2 s. */
    public Builder lockWait(Duration d) {
      this.lockWait = d;
      return this;
    }

    /** The prepare deadline when the coordinator sends none; default 5 s. */
    public Builder prepareTimeout(Duration d) {
      this.prepareTimeout = d;
      return this;
    }

    /** The deadline of each call to the coordinator; default 5 s. */
    public Builder rpcTimeout(Duration d) {
      this.rpcTimeout = d;
      return this;
    }

    /** A prepared branch older than this asks the coordinator for its outcome; default 10 s. */
    public Builder inDoubtAfter(Duration d) {
      this.inDoubtAfter = d;
      return this;
    }

    /** How often in-doubt branches are looked at; default 1 s. */
    public Builder inDoubtCheckInterval(Duration d) {
      this.inDoubtCheckInterval = d;
      return this;
    }

    /** Backoff of registration and outcome queries while the coordinator is unreachable. */
    public Builder retryBackoff(Duration base, Duration cap) {
      this.retryBackoffBase = base;
      this.retryBackoffCap = cap;
      return this;
    }

    /** How often to register again after success; default 30 s. */
    public Builder reregisterInterval(Duration d) {
      this.reregisterInterval = d;
      return this;
    }

    /**
     * How long finished transaction ids are remembered (so that a late Prepare after a Rollback
     * votes NO and duplicates get the same answer); default 24 h. Keep it longer than the
     * coordinator's longest transaction timeout plus its phase-2 retry horizon.
     */
    public Builder finishedRetention(Duration d) {
      this.finishedRetention = d;
      return this;
    }

    /** Staged work of transactions never prepared is dropped after this; default 15 min. */
    public Builder stagedRetention(Duration d) {
      this.stagedRetention = d;
      return this;
    }

    /** How often old finished ids and staged work are pruned; default 1 min. */
    public Builder pruneInterval(Duration d) {
      this.pruneInterval = d;
      return this;
    }

    /** How long {@link Participant#close()} waits for calls in flight; default 5 s. */
    public Builder shutdownGrace(Duration d) {
      this.shutdownGrace = d;
      return this;
    }

    /** An observer of branches (metrics, tests). */
    /**
     * Keeps this participant's metrics and serves them at {@code http://HOST:PORT/metrics} in the
     * Prometheus format (0: an ephemeral port, see {@link Participant#metricsPort()}); off unless
     * set. HOST is {@link #metricsHost}, else the listen host, else 127.0.0.1.
     */
    public Builder metricsPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("metricsPort must be 0..65535, was " + port);
      }
      this.metricsPort = port;
      return this;
    }

    /** The address {@code /metrics} binds. */
    public Builder metricsHost(String host) {
      this.metricsHost = java.util.Objects.requireNonNull(host, "metricsHost");
      return this;
    }

    /**
     * Traces each prepare, commit and rollback as a span of the coordinator's trace (which arrives
     * in the call's metadata), with the handler's work in it. Off unless set: {@code
     * Tracing.of(yourOpenTelemetry)}, or {@code Tracing.otlp(name)}.
     */
    public Builder tracing(Tracing tracing) {
      this.tracing = java.util.Objects.requireNonNull(tracing, "tracing");
      return this;
    }

    public Builder listener(ParticipantListener listener) {
      this.listener = listener;
      return this;
    }

    /** A business service served next to the Participant service, with transaction enlisting. */
    public Builder addService(BindableService service) {
      return addService(service.bindService());
    }

    /** A business service served next to the Participant service, with transaction enlisting. */
    public Builder addService(ServerServiceDefinition service) {
      services.add(Objects.requireNonNull(service, "service"));
      return this;
    }

    /**
     * Test and diagnostic hook, not for production: adds an interceptor to the participant's calls
     * to coordinators (RegisterParticipant, Enlist, GetOutcome), e.g. to inject faults or trace
     * calls. Interceptors run in the order added, the first added outermost.
     */
    public Builder coordinatorInterceptor(ClientInterceptor interceptor) {
      coordinatorInterceptors.add(Objects.requireNonNull(interceptor, "coordinatorInterceptor"));
      return this;
    }

    public Participant build() {
      if (!Ids.isParticipantName(name)) {
        throw new IllegalArgumentException(
            "name must be 1-64 characters of [A-Za-z0-9._-], was " + name);
      }
      if (coordinator == null || coordinator.isBlank()) {
        throw new IllegalArgumentException("coordinator is required (host:port)");
      }
      if (listenPort < 0 || listenPort > 65535) {
        throw new IllegalArgumentException("listenPort must be 0..65535, was " + listenPort);
      }
      Objects.requireNonNull(handler, "handler");
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(listener, "listener");
      if (dataSource == null) {
        Objects.requireNonNull(dataDirectory, "dataDirectory");
        requireEmbeddedStore(Participant.class.getClassLoader());
      }
      Objects.requireNonNull(embeddedSync, "embeddedSync");
      positive("embeddedCheckpointInterval", embeddedCheckpointInterval, false);
      atLeast("threads", threads, 1);
      atLeast("maxInboundMessageBytes", maxInboundMessageBytes, 64 * 1024);
      if (tls != null && !tls.hasIdentity()) {
        throw new IllegalArgumentException("tls needs the participant's certificate and key");
      }
      if (tls == null
          && !insecureListen
          && listenHost != null
          && !Addresses.isLoopback(listenHost)) {
        throw new IllegalArgumentException(
            "listenHost "
                + listenHost
                + " without TLS would"
                + " serve plaintext beyond this machine: configure tls, or allow it with"
                + " insecureListen");
      }
      if (roles != null && tls == null) {
        throw new IllegalArgumentException("roles need tls: without it no caller has an identity");
      }
      positive("tlsReloadInterval", tlsReloadInterval, false);
      positive("lockWait", lockWait, true);
      positive("prepareTimeout", prepareTimeout, false);
      positive("rpcTimeout", rpcTimeout, false);
      positive("inDoubtAfter", inDoubtAfter, true);
      positive("inDoubtCheckInterval", inDoubtCheckInterval, false);
      positive("retryBackoffBase", retryBackoffBase, false);
      positive("retryBackoffCap", retryBackoffCap, false);
      if (retryBackoffCap.compareTo(retryBackoffBase) < 0) {
        throw new IllegalArgumentException("retryBackoffCap must be >= retryBackoffBase");
      }
      positive("reregisterInterval", reregisterInterval, false);
      positive("finishedRetention", finishedRetention, false);
      positive("stagedRetention", stagedRetention, false);
      positive("pruneInterval", pruneInterval, false);
      positive("shutdownGrace", shutdownGrace, true);
      return new Participant(this);
    }

    /**
     * The embedded store's libraries are optional dependencies of the SDK: without them, say which
     * one is missing now rather than fail with a NoClassDefFoundError at start.
     */
    static void requireEmbeddedStore(ClassLoader loader) {
      String[][] needed = {
        {"org.sqlite.SQLiteDataSource", "org.xerial:sqlite-jdbc"},
        {"com.zaxxer.hikari.HikariDataSource", "com.zaxxer:HikariCP"}
      };
      for (String[] n : needed) {
        try {
          Class.forName(n[0], false, loader);
        } catch (ClassNotFoundException e) {
          throw new IllegalStateException(
              "the embedded store (dataDirectory) needs "
                  + n[1]
                  + " on the classpath (an optional dependency of twopc-participant-sdk): add it,"
                  + " or give your own store with dataSource(...)",
              e);
        }
      }
    }

    private static void positive(String field, Duration d, boolean zeroOk) {
      if (d == null || d.isNegative() || (!zeroOk && d.isZero())) {
        throw new IllegalArgumentException(
            field + " must be a " + (zeroOk ? "non-negative" : "positive") + " duration, was " + d);
      }
    }

    private static void atLeast(String field, int value, int min) {
      if (value < min) {
        throw new IllegalArgumentException(field + " must be >= " + min + ", was " + value);
      }
    }
  }
}
