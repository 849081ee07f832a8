package dev.twopc.coordinator;

import dev.twopc.security.Addresses;
import dev.twopc.security.RoleMap;
import dev.twopc.security.TlsFiles;
import dev.twopc.telemetry.Tracing;
import io.grpc.ClientInterceptor;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The coordinator's configuration: validated when built, immutable afterwards.
 *
 * <pre>{@code
 * CoordinatorConfig config = CoordinatorConfig.builder()
 *     .port(7000)
 *     .dataDir(Path.of("/var/lib/twopc"))
 *     .build();
 * try (CoordinatorServer server = CoordinatorServer.start(config)) {
 *   server.awaitTermination();
 * }
 * }</pre>
 */
public final class CoordinatorConfig {
  private final String host;
  private final int port;
  private final String advertisedAddress;
  private final String inProcessName;
  private final Path dataDir;
  private final String jdbcUrl;
  private final String jdbcUser;
  private final String jdbcPassword;
  private final Durability durability;
  private final Duration prepareTimeout;
  private final Duration defaultTransactionTimeout;
  private final Duration maxTransactionTimeout;
  private final Duration phase2BackoffBase;
  private final Duration phase2BackoffCap;
  private final Duration phase2CallTimeout;
  private final Duration parkAfter;
  private final Duration retention;
  private final Duration pruneInterval;
  private final Duration livenessCheckInterval;
  private final String nodeId;
  private final Duration lease;
  private final int pruneBatchSize;
  private final int maxIdLength;
  private final int maxBranches;
  private final int maxPayloadBytes;
  private final int maxInboundMessageBytes;
  private final int maxBatchSize;
  private final Duration shutdownGrace;
  private final Clock clock;
  private final CrashPoints crashPoints;
  private final List<ClientInterceptor> participantInterceptors;
  private final boolean participantStreams;
  private final TlsFiles tls;
  private final RoleMap roles;
  private final Duration tlsReloadInterval;
  private final boolean insecureListen;
  private final Integer metricsPort;
  private final String metricsHost;
  private final Tracing tracing;

  private CoordinatorConfig(Builder b) {
    this.host = b.host;
    this.port = b.port;
    this.advertisedAddress = b.advertisedAddress;
    this.inProcessName = b.inProcessName;
    this.dataDir = b.dataDir;
    this.jdbcUrl = b.jdbcUrl;
    this.jdbcUser = b.jdbcUser;
    this.jdbcPassword = b.jdbcPassword;
    this.durability = b.durability;
    this.prepareTimeout = b.prepareTimeout;
    this.defaultTransactionTimeout = b.defaultTransactionTimeout;
    this.maxTransactionTimeout = b.maxTransactionTimeout;
    this.phase2BackoffBase = b.phase2BackoffBase;
    this.phase2BackoffCap = b.phase2BackoffCap;
    this.phase2CallTimeout = b.phase2CallTimeout;
    this.parkAfter = b.parkAfter;
    this.retention = b.retention;
    this.pruneInterval = b.pruneInterval;
    this.livenessCheckInterval = b.livenessCheckInterval;
    this.nodeId = b.nodeId;
    this.lease = b.lease;
    this.pruneBatchSize = b.pruneBatchSize;
    this.maxIdLength = b.maxIdLength;
    this.maxBranches = b.maxBranches;
    this.maxPayloadBytes = b.maxPayloadBytes;
    this.maxInboundMessageBytes = b.maxInboundMessageBytes;
    this.maxBatchSize = b.maxBatchSize;
    this.shutdownGrace = b.shutdownGrace;
    this.clock = b.clock;
    this.crashPoints = b.crashPoints;
    this.participantInterceptors = List.copyOf(b.participantInterceptors);
    this.participantStreams = b.participantStreams;
    this.tls = b.tls;
    this.roles = b.roles;
    this.tlsReloadInterval = b.tlsReloadInterval;
    this.insecureListen = b.insecureListen;
    this.metricsPort = b.metricsPort;
    this.metricsHost = b.metricsHost == null ? b.host : b.metricsHost;
    this.tracing = b.tracing;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The interface the gRPC server binds to: 127.0.0.1 by default; another ("0.0.0.0" for all) needs
   * {@link #tls()} or {@link #insecureListen()}.
   */
  public String host() {
    return host;
  }

  /** The TCP port; 0 picks a free one (see {@link CoordinatorServer#port()}). */
  public int port() {
    return port;
  }

  /** host:port participants are told to call back on; null means localhost and the bound port. */
  public String advertisedAddress() {
    return advertisedAddress;
  }

  /** If set, the service is also served in-process under this name (tests, embedding). */
  public String inProcessName() {
    return inProcessName;
  }

  /** Where the embedded RocksDB decision log lives ({@code DIR/log}); ignored with a JDBC URL. */
  public Path dataDir() {
    return dataDir;
  }

  /**
   * A JDBC URL for the decision log (PostgreSQL, MariaDB; SQLite and H2 for tests and small
   * setups); null means the embedded RocksDB log under {@link #dataDir()}.
   */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  public String jdbcUser() {
    return jdbcUser;
  }

  public String jdbcPassword() {
    return jdbcPassword;
  }

  public Durability durability() {
    return durability;
  }

  /** Deadline of each Prepare call. */
  public Duration prepareTimeout() {
    return prepareTimeout;
  }

  /** Transaction timeout when the client gives none. */
  public Duration defaultTransactionTimeout() {
    return defaultTransactionTimeout;
  }

  /** The longest timeout a client may ask for. */
  public Duration maxTransactionTimeout() {
    return maxTransactionTimeout;
  }

  /** First delay between phase-2 attempts; doubles each attempt up to the cap. */
  public Duration phase2BackoffBase() {
    return phase2BackoffBase;
  }

  public Duration phase2BackoffCap() {
    return phase2BackoffCap;
  }

  /** Deadline of each phase-2 call. */
  public Duration phase2CallTimeout() {
    return phase2CallTimeout;
  }

  /** A branch unacknowledged for longer than this is shown as parked (and still retried). */
  public Duration parkAfter() {
    return parkAfter;
  }

  /** Finished transactions are pruned from the log after this long. */
  public Duration retention() {
    return retention;
  }

  public Duration pruneInterval() {
    return pruneInterval;
  }

  /**
   * How often the liveness invariant is checked (every unfinished transaction has a call in flight
   * or a next attempt scheduled); a violation is one seen on two checks in a row.
   */
  public Duration livenessCheckInterval() {
    return livenessCheckInterval;
  }

  public int pruneBatchSize() {
    return pruneBatchSize;
  }

  /**
   * This coordinator's name among several on one shared log (PostgreSQL); null: the one kept in
   * {@code dataDir/node-id} (made up at the first start), or, without a data directory, one made up
   * at each start, in which case a restarted process does not find its earlier work at once (it, or
   * another node, claims that once the earlier name's lease lapsed).
   */
  public String nodeId() {
    return nodeId;
  }

  /**
   * How long a node's lease on a shared log lasts without renewal (on the database's clock): a node
   * silent for longer is fenced and its transactions are claimed by the others. Renewed five times
   * per lease.
   */
  public Duration lease() {
    return lease;
  }

  public int maxIdLength() {
    return maxIdLength;
  }

  public int maxBranches() {
    return maxBranches;
  }

  public int maxPayloadBytes() {
    return maxPayloadBytes;
  }

  public int maxInboundMessageBytes() {
    return maxInboundMessageBytes;
  }

  /** The most log records written in one group-commit batch. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** How long a graceful stop waits for in-flight decisions. */
  public Duration shutdownGrace() {
    return shutdownGrace;
  }

  public Clock clock() {
    return clock;
  }

  public CrashPoints crashPoints() {
    return crashPoints;
  }

  /** Test and diagnostic hook: interceptors on every call to participants; empty normally. */
  public List<ClientInterceptor> participantInterceptors() {
    return participantInterceptors;
  }

  /**
   * True: Prepare, Commit and Rollback travel on one Exchange stream per participant that serves
   * it; false (the default, until the stream passes the seeded fault runs): one unary call each.
   */
  public boolean participantStreams() {
    return participantStreams;
  }

  /** Where {@code /metrics} is served; null: no metrics are kept or served. */
  public Integer metricsPort() {
    return metricsPort;
  }

  /** The address {@code /metrics} binds; the gRPC host unless set. */
  public String metricsHost() {
    return metricsHost;
  }

  /** Off unless set: then spans for each call, prepare, decision write and phase-2 call. */
  public Tracing tracing() {
    return tracing;
  }

  /**
   * The coordinator's TLS files: with them every connection, to it and from it to participants, is
   * mutual TLS, and nothing is plaintext; null for plaintext (loopback only, unless {@link
   * #insecureListen()}).
   */
  public TlsFiles tls() {
    return tls;
  }

  /**
   * Who may do what (checked with TLS, from the caller's certificate): required with {@link
   * #tls()}; null without TLS, where every caller is on this machine and may call anything.
   */
  public RoleMap roles() {
    return roles;
  }

  /** How often the TLS files are checked for a change (rotation without a restart). */
  public Duration tlsReloadInterval() {
    return tlsReloadInterval;
  }

  /** Plaintext on an address other than loopback, allowed explicitly (warned about at start). */
  public boolean insecureListen() {
    return insecureListen;
  }

  /** Builds a {@link CoordinatorConfig}; {@link #build()} rejects bad values naming the field. */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int port = 7000;
    private String advertisedAddress;
    private String inProcessName;
    private Path dataDir = Path.of("data");
    private String jdbcUrl;
    private String jdbcUser;
    private String jdbcPassword = "";
    private Durability durability = Durability.FSYNC;
    private Duration prepareTimeout = Duration.ofSeconds(5);
    private Duration defaultTransactionTimeout = Duration.ofSeconds(30);
    private Duration maxTransactionTimeout = Duration.ofMinutes(10);
    private Duration phase2BackoffBase = Duration.ofMillis(100);
    private Duration phase2BackoffCap = Duration.ofSeconds(30);
    private Duration phase2CallTimeout = Duration.ofSeconds(5);
    private Duration parkAfter = Duration.ofMinutes(5);
    private Duration retention = Duration.ofDays(7);
    private Duration pruneInterval = Duration.ofMinutes(1);
    private Duration livenessCheckInterval = Duration.ofSeconds(10);
    private String nodeId;
    private Duration lease = Duration.ofSeconds(5);
    private int pruneBatchSize = 1000;
    private int maxIdLength = 128;
    private int maxBranches = 64;
    private int maxPayloadBytes = 1 << 20;
    private int maxInboundMessageBytes = 4 << 20;
    private int maxBatchSize = 1024;
    private Duration shutdownGrace = Duration.ofSeconds(10);
    private Clock clock = Clock.systemUTC();
    private CrashPoints crashPoints = CrashPoints.none();
    private final List<ClientInterceptor> participantInterceptors = new ArrayList<>();
    private boolean participantStreams = false;
    private Integer metricsPort;
    private String metricsHost;
    private Tracing tracing = Tracing.off();
    private TlsFiles tls;
    private RoleMap roles;
    private Duration tlsReloadInterval = Duration.ofMinutes(1);
    private boolean insecureListen;

    private Builder() {}

    public Builder host(String host) {
      this.host = host;
      return this;
    }

    public Builder port(int port) {
      this.port = port;
      return this;
    }

    public Builder advertisedAddress(String address) {
      this.advertisedAddress = address;
      return this;
    }

    public Builder inProcessName(String name) {
      this.inProcessName = name;
      return this;
    }

    public Builder dataDir(Path dataDir) {
      this.dataDir = dataDir;
      return this;
    }

    public Builder jdbcUrl(String jdbcUrl) {
      this.jdbcUrl = jdbcUrl;
      return this;
    }

    public Builder jdbcUser(String user) {
      this.jdbcUser = user;
      return this;
    }

    public Builder jdbcPassword(String password) {
      this.jdbcPassword = password;
      return this;
    }

    public Builder durability(Durability durability) {
      this.durability = durability;
      return this;
    }

    public Builder prepareTimeout(Duration d) {
      this.prepareTimeout = d;
      return this;
    }

    public Builder defaultTransactionTimeout(Duration d) {
      this.defaultTransactionTimeout = d;
      return this;
    }

    public Builder maxTransactionTimeout(Duration d) {
      this.maxTransactionTimeout = d;
      return this;
    }

    public Builder phase2BackoffBase(Duration d) {
      this.phase2BackoffBase = d;
      return this;
    }

    public Builder phase2BackoffCap(Duration d) {
      this.phase2BackoffCap = d;
      return this;
    }

    public Builder phase2CallTimeout(Duration d) {
      this.phase2CallTimeout = d;
      return this;
    }

    public Builder parkAfter(Duration d) {
      this.parkAfter = d;
      return this;
    }

    public Builder retention(Duration d) {
      this.retention = d;
      return this;
    }

    public Builder pruneInterval(Duration d) {
      this.pruneInterval = d;
      return this;
    }

    public Builder livenessCheckInterval(Duration d) {
      this.livenessCheckInterval = d;
      return this;
    }

    public Builder nodeId(String nodeId) {
      this.nodeId = nodeId;
      return this;
    }

    public Builder lease(Duration d) {
      this.lease = d;
      return this;
    }

    public Builder pruneBatchSize(int n) {
      this.pruneBatchSize = n;
      return this;
    }

    public Builder maxIdLength(int n) {
      this.maxIdLength = n;
      return this;
    }

    public Builder maxBranches(int n) {
      this.maxBranches = n;
      return this;
    }

    public Builder maxPayloadBytes(int n) {
      this.maxPayloadBytes = n;
      return this;
    }

    public Builder maxInboundMessageBytes(int n) {
      this.maxInboundMessageBytes = n;
      return this;
    }

    public Builder maxBatchSize(int n) {
      this.maxBatchSize = n;
      return this;
    }

    public Builder shutdownGrace(Duration d) {
      this.shutdownGrace = d;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    public Builder crashPoints(CrashPoints crashPoints) {
      this.crashPoints = crashPoints;
      return this;
    }

    public Builder tls(TlsFiles files) {
      this.tls = files;
      return this;
    }

    public Builder roles(RoleMap map) {
      this.roles = map;
      return this;
    }

    public Builder tlsReloadInterval(Duration d) {
      this.tlsReloadInterval = d;
      return this;
    }

    public Builder insecureListen(boolean allowed) {
      this.insecureListen = allowed;
      return this;
    }

    /** Keeps metrics and serves them on this port (0: an ephemeral one); null: none. */
    public Builder metricsPort(Integer port) {
      this.metricsPort = port;
      return this;
    }

    public Builder metricsHost(String host) {
      this.metricsHost = host;
      return this;
    }

    public Builder tracing(Tracing t) {
      this.tracing = Objects.requireNonNull(t, "tracing");
      return this;
    }

    /**
     * Test and diagnostic hook, not for production: adds an interceptor to the channels the
     * coordinator opens to participants (Prepare, Commit, Rollback), e.g. to inject faults or trace
     * calls. Interceptors run in the order added, the first added outermost.
     */
    public Builder participantInterceptor(ClientInterceptor interceptor) {
      participantInterceptors.add(Objects.requireNonNull(interceptor, "participantInterceptor"));
      return this;
    }

    /** See {@link CoordinatorConfig#participantStreams()}. */
    public Builder participantStreams(boolean participantStreams) {
      this.participantStreams = participantStreams;
      return this;
    }

    public CoordinatorConfig build() {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(durability, "durability");
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(crashPoints, "crashPoints");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
        throw new IllegalArgumentException("metricsPort must be 0..65535, was " + metricsPort);
      }
      if (jdbcUrl == null && dataDir == null) {
        throw new IllegalArgumentException("dataDir or jdbcUrl is required");
      }
      positive("prepareTimeout", prepareTimeout);
      positive("defaultTransactionTimeout", defaultTransactionTimeout);
      positive("maxTransactionTimeout", maxTransactionTimeout);
      positive("phase2BackoffBase", phase2BackoffBase);
      positive("phase2BackoffCap", phase2BackoffCap);
      positive("phase2CallTimeout", phase2CallTimeout);
      positive("parkAfter", parkAfter);
      positive("retention", retention);
      positive("pruneInterval", pruneInterval);
      positive("livenessCheckInterval", livenessCheckInterval);
      positive("lease", lease);
      if (nodeId != null
          && !nodeId.matches(dev.twopc.coordinator.internal.cluster.NodeIdFile.PATTERN)) {
        throw new IllegalArgumentException(
            "nodeId must be 1 to 64 letters, digits or . _ : -, was \"" + nodeId + "\"");
      }
      positive("shutdownGrace", shutdownGrace);
      positive("tlsReloadInterval", tlsReloadInterval);
      if (tls != null && !tls.hasIdentity()) {
        throw new IllegalArgumentException("tls needs the coordinator's certificate and key");
      }
      if (tls != null && roles == null) {
        throw new IllegalArgumentException(
            "tls needs roles: who may run transactions, register"
                + " participants and act as an operator (a roles file; twopc certs writes one)");
      }
      if (tls != null && inProcessName != null) {
        throw new IllegalArgumentException(
            "inProcessName cannot go with tls: in-process calls"
                + " carry no certificate, so every one would be refused");
      }
      if (tls == null && roles != null) {
        throw new IllegalArgumentException("roles need tls: without it no caller is identified");
      }
      if (tls == null && !insecureListen && !Addresses.isLoopback(host)) {
        throw new IllegalArgumentException(
            "host "
                + host
                + " without TLS would serve plaintext"
                + " beyond this machine: configure TLS, or allow it with insecureListen");
      }
      if (phase2BackoffCap.compareTo(phase2BackoffBase) < 0) {
        throw new IllegalArgumentException("phase2BackoffCap must be >= phase2BackoffBase");
      }
      if (defaultTransactionTimeout.compareTo(maxTransactionTimeout) > 0) {
        throw new IllegalArgumentException(
            "defaultTransactionTimeout must be <= maxTransactionTimeout");
      }
      atLeast("pruneBatchSize", pruneBatchSize, 1);
      atLeast("maxIdLength", maxIdLength, 16);
      if (maxIdLength > dev.twopc.coordinator.internal.Limits.TX_ID) {
        throw new IllegalArgumentException(
            "maxIdLength must be <= "
                + dev.twopc.coordinator.internal.Limits.TX_ID
                + " (the decision log's tx_id), was "
                + maxIdLength);
      }
      atLeast("maxBranches", maxBranches, 1);
      atLeast("maxPayloadBytes", maxPayloadBytes, 0);
      atLeast("maxInboundMessageBytes", maxInboundMessageBytes, 1024);
      atLeast("maxBatchSize", maxBatchSize, 1);
      return new CoordinatorConfig(this);
    }

    private static void positive(String field, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(field + " must be a positive duration, was " + d);
      }
    }

    private static void atLeast(String field, int value, int min) {
      if (value < min) {
        throw new IllegalArgumentException(field + " must be >= " + min + ", was " + value);
      }
    }
  }
}
