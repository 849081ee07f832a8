package dev.twopc.coordinator.cli;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.CrashPoints;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.RecoverySummary;
import dev.twopc.security.Addresses;
import dev.twopc.security.Role;
import dev.twopc.security.RoleMap;
import dev.twopc.security.TlsFiles;
import dev.twopc.security.TlsFlags;
import dev.twopc.telemetry.Durations;
import dev.twopc.telemetry.TelemetryFlags;
import dev.twopc.telemetry.Tracing;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code twopc coordinator}: builds a {@link CoordinatorConfig} from flags (each with an
 * environment twin), starts the server, and serves until SIGTERM, which stops it gracefully.
 */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run the coordinator service.",
      "Every flag has an environment twin (shown in brackets); a flag wins over its twin."
    })
final class CoordinatorCommand implements Callable<Integer> {
  /** The hidden system property naming a crash point, e.g. {@code after_decision_write:1}. */
  static final String CRASH_AT_PROPERTY = "twopc.crashAt";

  @Spec CommandSpec spec;

  @ParentCommand TwopcCommand parent;

  @Option(
      names = "--port",
      defaultValue = "${TWOPC_PORT:-7000}",
      description = "TCP port; 0 picks a free one [TWOPC_PORT] (default ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--host",
      defaultValue = "${TWOPC_HOST}",
      description =
          "Interface to bind [TWOPC_HOST] (default 127.0.0.1 without TLS, 0.0.0.0"
              + " with it). Another address without TLS needs --insecure-listen.")
  String host;

  @Mixin TlsFlags tls = new TlsFlags();

  @Mixin TelemetryFlags telemetry = new TelemetryFlags();

  @Option(
      names = "--roles",
      paramLabel = "FILE",
      defaultValue = "${TWOPC_ROLES}",
      description =
          "Who may do what, checked from the caller's certificate: lines 'identity ="
              + " role[, role]' with the roles client, participant, operator, coordinator"
              + " (docs/security.md) [TWOPC_ROLES]. Required with TLS; twopc certs writes one.")
  Path rolesFile;

  @Option(
      names = "--role",
      paramLabel = "NAME=ROLES",
      description =
          "Grant an identity roles (repeatable; over --roles), e.g. --role"
              + " operator-alice=operator.")
  List<String> roleGrants = new ArrayList<>();

  @Option(
      names = "--insecure-listen",
      defaultValue = "${TWOPC_INSECURE_LISTEN:-false}",
      description =
          "Allow plaintext on an address other than loopback: anyone who can reach it"
              + " can run and resolve transactions [TWOPC_INSECURE_LISTEN].")
  boolean insecureListen;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      defaultValue = "${TWOPC_DATA:-data}",
      description =
          "Directory of the embedded decision log (RocksDB, in DIR/log) [TWOPC_DATA]"
              + " (default ${DEFAULT-VALUE}). With a PostgreSQL --jdbc-url it holds only"
              + " this node's id; not used with other --jdbc-url.")
  Path data;

  @Option(
      names = "--jdbc-url",
      paramLabel = "URL",
      defaultValue = "${TWOPC_JDBC_URL}",
      description =
          "Decision log in PostgreSQL (jdbc:postgresql://...) or MariaDB"
              + " (jdbc:mariadb://...) instead of --data; SQLite and H2 URLs work for tests"
              + " [TWOPC_JDBC_URL].")
  String jdbcUrl;

  @Option(
      names = "--jdbc-user",
      paramLabel = "U",
      defaultValue = "${TWOPC_JDBC_USER:-}",
      description = "[TWOPC_JDBC_USER] (default: the URL's, or sa for H2).")
  String jdbcUser;

  @Option(
      names = "--jdbc-password",
      paramLabel = "P",
      defaultValue = "${TWOPC_JDBC_PASSWORD:-}",
      description = "[TWOPC_JDBC_PASSWORD] (prefer the variable: flags show in ps).")
  String jdbcPassword;

  @Option(
      names = "--durability",
      paramLabel = "fsync|process",
      defaultValue = "${TWOPC_DURABILITY:-fsync}",
      converter = DurabilityConverter.class,
      description =
          "fsync: decisions survive power loss; process: they survive kill -9 only,"
              + " faster [TWOPC_DURABILITY] (default ${DEFAULT-VALUE}).")
  Durability durability;

  @Option(
      names = "--prepare-timeout",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_PREPARE_TIMEOUT:-5s}",
      converter = Durations.Converter.class,
      description =
          "Deadline of each Prepare call [TWOPC_PREPARE_TIMEOUT] (default" + " ${DEFAULT-VALUE}).")
  Duration prepareTimeout;

  @Option(
      names = "--default-timeout",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_DEFAULT_TIMEOUT:-30s}",
      converter = Durations.Converter.class,
      description =
          "Transaction timeout when the client gives none [TWOPC_DEFAULT_TIMEOUT]"
              + " (default ${DEFAULT-VALUE}).")
  Duration defaultTimeout;

  @Option(
      names = "--max-timeout",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_MAX_TIMEOUT:-10m}",
      converter = Durations.Converter.class,
      description =
          "Longest transaction timeout a client may ask for [TWOPC_MAX_TIMEOUT]"
              + " (default ${DEFAULT-VALUE}).")
  Duration maxTimeout;

  @Option(
      names = "--backoff-base",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_BACKOFF_BASE:-100ms}",
      converter = Durations.Converter.class,
      description =
          "First delay between phase-2 retries, doubling each time"
              + " [TWOPC_BACKOFF_BASE] (default ${DEFAULT-VALUE}).")
  Duration backoffBase;

  @Option(
      names = "--backoff-cap",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_BACKOFF_CAP:-30s}",
      converter = Durations.Converter.class,
      description =
          "Longest delay between phase-2 retries [TWOPC_BACKOFF_CAP] (default"
              + " ${DEFAULT-VALUE}).")
  Duration backoffCap;

  @Option(
      names = "--park-after",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_PARK_AFTER:-5m}",
      converter = Durations.Converter.class,
      description =
          "Show a branch as parked after retrying this long; it is still retried"
              + " [TWOPC_PARK_AFTER] (default ${DEFAULT-VALUE}).")
  Duration parkAfter;

  @Option(
      names = "--retention",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_RETENTION:-7d}",
      converter = Durations.Converter.class,
      description =
          "Keep finished transactions this long for audit [TWOPC_RETENTION] (default"
              + " ${DEFAULT-VALUE}).")
  Duration retention;

  @Option(
      names = "--node-id",
      paramLabel = "ID",
      defaultValue = "${TWOPC_NODE_ID}",
      description =
          "This coordinator's name among several on one PostgreSQL log (1 to 64 of A-Z a-z 0-9"
              + " . _ : -); without it one is made up once and kept in DIR/node-id of --data"
              + " [TWOPC_NODE_ID].")
  String nodeId;

  @Option(
      names = "--lease",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_LEASE:-5s}",
      converter = Durations.Converter.class,
      description =
          "On a PostgreSQL log several coordinators share: a node silent this long (on the"
              + " database's clock) is fenced and the others take over its transactions"
              + " [TWOPC_LEASE] (default ${DEFAULT-VALUE}).")
  Duration lease;

  /** How Prepare, Commit and Rollback reach participants. */
  enum ParticipantCalls {
    stream,
    unary
  }

  @Option(
      names = "--participant-calls",
      paramLabel = "stream|unary",
      defaultValue = "${TWOPC_PARTICIPANT_CALLS:-unary}",
      description =
          "stream: Prepare, Commit and Rollback travel in batches on one long-lived stream per"
              + " participant (a participant that does not serve it gets unary calls; experimental:"
              + " see docs/protocol.md); unary: one call each [TWOPC_PARTICIPANT_CALLS] (default"
              + " ${DEFAULT-VALUE}).")
  ParticipantCalls participantCalls;

  @Option(
      names = "--liveness-check-interval",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_LIVENESS_CHECK_INTERVAL:-10s}",
      converter = Durations.Converter.class,
      description =
          "Check this often that every unfinished transaction has a call in flight or"
              + " a retry scheduled; one seen stuck twice is logged (event=liveness_violation) and"
              + " driven on [TWOPC_LIVENESS_CHECK_INTERVAL] (default ${DEFAULT-VALUE}).")
  Duration livenessCheckInterval;

  @Option(
      names = "--max-branches",
      paramLabel = "N",
      defaultValue = "${TWOPC_MAX_BRANCHES:-64}",
      description =
          "Most branches per transaction [TWOPC_MAX_BRANCHES] (default" + " ${DEFAULT-VALUE}).")
  int maxBranches;

  @Option(
      names = "--max-payload-bytes",
      paramLabel = "N",
      defaultValue = "${TWOPC_MAX_PAYLOAD_BYTES:-1048576}",
      description = "Largest branch payload [TWOPC_MAX_PAYLOAD_BYTES] (default ${DEFAULT-VALUE}).")
  int maxPayloadBytes;

  @Option(
      names = "--max-inbound-message-bytes",
      paramLabel = "N",
      defaultValue = "${TWOPC_MAX_INBOUND_MESSAGE_BYTES:-4194304}",
      description =
          "Largest request the coordinator reads; an Execute's payloads together must"
              + " fit in it (larger: RESOURCE_EXHAUSTED) [TWOPC_MAX_INBOUND_MESSAGE_BYTES] (default"
              + " ${DEFAULT-VALUE}).")
  int maxInboundMessageBytes;

  @Option(
      names = "--max-id-length",
      paramLabel = "N",
      defaultValue = "${TWOPC_MAX_ID_LENGTH:-128}",
      description =
          "Longest transaction id or idempotency key [TWOPC_MAX_ID_LENGTH] (default"
              + " ${DEFAULT-VALUE}).")
  int maxIdLength;

  @Option(
      names = "--advertised-address",
      paramLabel = "HOST:PORT",
      defaultValue = "${TWOPC_ADVERTISED_ADDRESS}",
      converter = HostPort.class,
      description =
          "Address participants are told to call back on [TWOPC_ADVERTISED_ADDRESS]"
              + " (default localhost and the bound port).")
  String advertisedAddress;

  @Override
  public Integer call() {
    try (Tracing tracing = telemetry.tracing("twopc-coordinator")) {
      return run(tracing);
    }
  }

  private Integer run(Tracing tracing) {
    CoordinatorConfig config = buildConfig(tracing);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    out.println("twopc coordinator starting: " + describe());
    out.flush();

    CoordinatorServer server;
    try {
      server = CoordinatorServer.start(config);
    } catch (Exception e) {
      err.println(
          "twopc: cannot start coordinator: "
              + RpcErrors.oneLine(String.valueOf(e.getMessage() == null ? e : e.getMessage())));
      err.flush();
      return ExitCodes.FAILURE;
    }
    ShutdownHooks hooks = parent == null ? ShutdownHooks.jvm() : parent.shutdownHooks();
    Thread hook =
        new Thread(
            () -> {
              server.close();
              out.println("twopc coordinator stopped");
              out.flush();
            },
            "twopc-shutdown");
    hooks.add(hook);

    out.println(
        "twopc coordinator listening on "
            + host
            + ":"
            + server.port()
            + " ("
            + (usesJdbc() ? "jdbc " + maskPassword(jdbcUrl) : "data " + data.toAbsolutePath())
            + ", durability "
            + durability.name().toLowerCase(Locale.ROOT)
            + ", "
            + (config.tls() != null
                ? "mutual TLS, roles for " + config.roles()
                : insecure(config) ? "PLAINTEXT" : "plaintext, loopback only")
            + ")");
    if (config.tls() == null && insecure(config)) {
      err.println(
          "twopc: WARNING: --insecure-listen: serving plaintext on "
              + host
              + ":"
              + server.port()
              + "; anyone who can reach it can run and resolve transactions");
      err.flush();
    }
    server
        .metricsPort()
        .ifPresent(
            p ->
                out.println(
                    "twopc coordinator metrics on http://"
                        + config.metricsHost()
                        + ":"
                        + p
                        + "/metrics"));
    RecoverySummary summary = server.recoverySummary();
    if (summary != null) {
      out.println(summary.describe());
    }
    out.flush();
    try {
      server.awaitTermination();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      hooks.remove(hook);
      server.close();
      return ExitCodes.FAILURE;
    }
    hooks.remove(hook);
    return ExitCodes.OK;
  }

  /** The configuration the flags describe; a bad combination is a usage error naming it. */
  CoordinatorConfig buildConfig() {
    return buildConfig(Tracing.off());
  }

  private CoordinatorConfig buildConfig(Tracing tracing) {
    boolean shared = usesJdbc() && jdbcUrl.toLowerCase(Locale.ROOT).startsWith("jdbc:postgresql:");
    if (usesJdbc()
        && !shared
        && spec.commandLine().getParseResult() != null
        && spec.commandLine().getParseResult().hasMatchedOption("--data")
        && spec.commandLine().getParseResult().hasMatchedOption("--jdbc-url")) {
      throw new ParameterException(spec.commandLine(), "give --data or --jdbc-url, not both");
    }
    CrashPoints crashPoints;
    try {
      crashPoints = CrashPoints.parse(System.getProperty(CRASH_AT_PROPERTY));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(), "bad -D" + CRASH_AT_PROPERTY + ": " + e.getMessage());
    }
    TlsFiles files = tls.files(spec, true);
    if (host == null || host.isBlank()) {
      host = files == null ? "127.0.0.1" : "0.0.0.0";
    }
    if (files == null && !insecureListen && !Addresses.isLoopback(host)) {
      throw new ParameterException(
          spec.commandLine(),
          "--host "
              + host
              + " without TLS would"
              + " serve plaintext beyond this machine: give --tls-cert, --tls-key and --tls-trust,"
              + " or --insecure-listen");
    }
    CoordinatorConfig.Builder b =
        CoordinatorConfig.builder()
            .host(host)
            .tls(files)
            .roles(roles(files != null))
            .insecureListen(insecureListen)
            .port(port)
            .advertisedAddress(advertisedAddress)
            .durability(durability)
            .prepareTimeout(prepareTimeout)
            .defaultTransactionTimeout(defaultTimeout)
            .maxTransactionTimeout(maxTimeout)
            .phase2BackoffBase(backoffBase)
            .phase2BackoffCap(backoffCap)
            .parkAfter(parkAfter)
            .retention(retention)
            .livenessCheckInterval(livenessCheckInterval)
            .participantStreams(participantCalls == ParticipantCalls.stream)
            .maxBranches(maxBranches)
            .maxPayloadBytes(maxPayloadBytes)
            .maxInboundMessageBytes(maxInboundMessageBytes)
            .maxIdLength(maxIdLength)
            .crashPoints(crashPoints)
            .metricsPort(telemetry.metricsPort())
            .metricsHost(telemetry.metricsHost())
            .tracing(tracing);
    if (usesJdbc()) {
      b.jdbcUrl(jdbcUrl).jdbcUser(jdbcUser).jdbcPassword(jdbcPassword);
      if (shared) {
        b.dataDir(data).nodeId(nodeId).lease(lease);
      }
    } else {
      b.dataDir(data);
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "invalid configuration: " + e.getMessage());
    }
  }

  /** The role map of --roles and --role; null without TLS (where they are a usage error). */
  private RoleMap roles(boolean tlsOn) {
    boolean given = rolesFile != null || !roleGrants.isEmpty();
    if (!tlsOn) {
      if (given) {
        throw new ParameterException(
            spec.commandLine(),
            "--roles and --role need TLS"
                + " (--tls-cert, --tls-key, --tls-trust): without it no caller is identified");
      }
      return null;
    }
    if (!given) {
      throw new ParameterException(
          spec.commandLine(),
          "TLS needs --roles FILE (or --role"
              + " NAME=ROLES): who may run transactions, register participants and act as an"
              + " operator; twopc certs writes one");
    }
    try {
      RoleMap map = rolesFile == null ? RoleMap.empty() : RoleMap.load(rolesFile);
      for (String grant : roleGrants) {
        Map.Entry<String, Set<Role>> e = RoleMap.parseEntry(grant);
        map = map.with(e.getKey(), e.getValue());
      }
      return map;
    } catch (IOException e) {
      throw new ParameterException(
          spec.commandLine(), "--roles " + rolesFile + ": cannot read it (" + e.getMessage() + ")");
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(), (rolesFile == null ? "--role: " : "") + e.getMessage());
    }
  }

  private static boolean insecure(CoordinatorConfig config) {
    return config.insecureListen() && !Addresses.isLoopback(config.host());
  }

  private boolean usesJdbc() {
    return jdbcUrl != null && !jdbcUrl.isBlank();
  }

  /** Every effective setting in one line (never the password). */
  String describe() {
    return "host="
        + (host == null ? (tls.cert() == null ? "127.0.0.1" : "0.0.0.0") : host)
        + " port="
        + port
        + (usesJdbc()
            ? " jdbc-url=" + maskPassword(jdbcUrl) + " jdbc-user=" + jdbcUser
            : " data=" + data.toAbsolutePath())
        + " durability="
        + durability.name().toLowerCase(Locale.ROOT)
        + " prepare-timeout="
        + Durations.format(prepareTimeout)
        + " default-timeout="
        + Durations.format(defaultTimeout)
        + " max-timeout="
        + Durations.format(maxTimeout)
        + " backoff-base="
        + Durations.format(backoffBase)
        + " backoff-cap="
        + Durations.format(backoffCap)
        + " park-after="
        + Durations.format(parkAfter)
        + " retention="
        + Durations.format(retention)
        + " max-branches="
        + maxBranches
        + " max-payload-bytes="
        + maxPayloadBytes
        + " max-inbound-message-bytes="
        + maxInboundMessageBytes
        + " max-id-length="
        + maxIdLength
        + (advertisedAddress == null ? "" : " advertised-address=" + advertisedAddress)
        + (tls.cert() == null
            ? " tls=off"
            : " tls-cert=" + tls.cert() + " tls-trust=" + tls.trust())
        + (rolesFile == null ? "" : " roles=" + rolesFile)
        + (roleGrants.isEmpty() ? "" : " role=" + String.join(",", roleGrants))
        + (insecureListen ? " insecure-listen" : "")
        + telemetry.describe();
  }

  /** JDBC URLs may carry a password ({@code password=...}); keep it off the console. */
  static String maskPassword(String url) {
    return url.replaceAll("(?i)(password=)[^;&]*", "$1***");
  }

  /** {@code fsync} or {@code process}, any case. */
  static final class DurabilityConverter implements ITypeConverter<Durability> {
    @Override
    public Durability convert(String value) {
      for (Durability d : Durability.values()) {
        if (d.name().equalsIgnoreCase(value.trim())) {
          return d;
        }
      }
      throw new TypeConversionException("expected fsync or process, was '" + value + "'");
    }
  }
}
