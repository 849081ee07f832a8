package dev.twopc.samples;

import dev.twopc.security.RoleMap;
import dev.twopc.security.RolesFlag;
import dev.twopc.security.TlsFiles;
import dev.twopc.security.TlsFlags;
import dev.twopc.telemetry.Durations;
import dev.twopc.telemetry.TelemetryFlags;
import dev.twopc.telemetry.Tracing;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code twopc-sample inventory|payments|orders}: runs one service until stopped (SIGTERM). */
@Command(mixinStandardHelpOptions = true, sortOptions = false)
final class ServiceCommand implements Callable<Integer> {
  private final SampleService service;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      defaultValue = "${TWOPC_SAMPLE_PORT}",
      description =
          "Participant service port; 0 picks one [TWOPC_SAMPLE_PORT] (default 7101"
              + " inventory, 7102 payments, 7103 orders).")
  Integer port;

  @Option(
      names = "--api-port",
      paramLabel = "PORT",
      defaultValue = "${TWOPC_SAMPLE_API_PORT}",
      description =
          "Read API (HTTP) port; 0 picks one [TWOPC_SAMPLE_API_PORT] (default --port" + " + 1000).")
  Integer apiPort;

  @Option(
      names = "--coordinator",
      paramLabel = "HOST:PORT",
      defaultValue = "${TWOPC_COORDINATOR:-localhost:7000}",
      description = "The coordinator [TWOPC_COORDINATOR] (default ${DEFAULT-VALUE}).")
  String coordinator;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      defaultValue = "${TWOPC_SAMPLE_DATA:-sample-data}",
      description =
          "Directory of the service's SQLite database, <DIR>/<service>.db"
              + " [TWOPC_SAMPLE_DATA] (default ${DEFAULT-VALUE}).")
  Path data;

  @Option(
      names = "--jdbc-url",
      paramLabel = "URL",
      defaultValue = "${TWOPC_SAMPLE_JDBC_URL}",
      description =
          "Keep the tables and the SDK's pending map in this PostgreSQL or MariaDB"
              + " database (user in the URL) instead of <DIR>/<service>.db [TWOPC_SAMPLE_JDBC_URL].")
  String jdbcUrl;

  @Option(
      names = "--seed",
      defaultValue = "${TWOPC_SAMPLE_SEED:-false}",
      description =
          "Put the demo catalog in: stock of SKU-01..SKU-20, balances of ACCT-01..20"
              + " and ACCT-BROKE; rows already there are kept [TWOPC_SAMPLE_SEED].")
  boolean seed;

  @Option(
      names = "--catalog-scale",
      paramLabel = "N",
      defaultValue = "${TWOPC_SAMPLE_CATALOG_SCALE:-1}",
      description =
          "With --seed: N times the demo's stock and balances [TWOPC_SAMPLE_CATALOG_SCALE]"
              + " (default ${DEFAULT-VALUE}).")
  int catalogScale;

  @Option(
      names = "--in-doubt-after",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_SAMPLE_IN_DOUBT_AFTER:-10s}",
      converter = Durations.Converter.class,
      description =
          "A prepared branch older than this asks the coordinator for its outcome"
              + " [TWOPC_SAMPLE_IN_DOUBT_AFTER] (default ${DEFAULT-VALUE}).")
  Duration inDoubtAfter;

  @Option(
      names = "--max-inbound-message-bytes",
      paramLabel = "BYTES",
      defaultValue = "${TWOPC_MAX_INBOUND_MESSAGE_BYTES:-4194304}",
      description =
          "The largest request the participant reads; keep it above the coordinator's"
              + " --max-payload-bytes [TWOPC_MAX_INBOUND_MESSAGE_BYTES] (default ${DEFAULT-VALUE}).")
  int maxInboundMessageBytes;

  @Mixin TlsFlags tls = new TlsFlags();

  @Mixin RolesFlag roles = new RolesFlag();

  @Mixin TelemetryFlags telemetry = new TelemetryFlags();

  @Spec CommandSpec spec;

  ServiceCommand(SampleService service) {
    this.service = service;
  }

  @Override
  public Integer call() throws Exception {
    int p = port == null ? service.defaultPort() : port;
    int a = apiPort == null ? (p == 0 ? 0 : p + 1000) : apiPort;
    TlsFiles files = tls.files(spec, true);
    RoleMap roleMap = roles.load(spec, files);
    Tracing tracing = telemetry.tracing("twopc-" + service.name());
    SampleServer server =
        SampleServer.start(
            service,
            new SampleServer.Config(
                p,
                a,
                coordinator,
                data,
                seed,
                inDoubtAfter,
                jdbcUrl,
                catalogScale,
                maxInboundMessageBytes,
                files,
                roleMap,
                telemetry.metricsPort(),
                telemetry.metricsHost(),
                tracing));
    Runtime.getRuntime().addShutdownHook(new Thread(tracing::close, service.name() + "-trace"));
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, service.name() + "-stop"));
    System.out.println(
        service.name()
            + " ready: participant localhost:"
            + server.port()
            + ", read API "
            + server.apiUrl()
            + " (GET "
            + String.join(" ", service.readPaths())
            + "), coordinator "
            + coordinator
            + ", data "
            + (jdbcUrl != null ? jdbcUrl : data.toAbsolutePath())
            + (files != null ? ", mutual TLS" : ", plaintext, loopback only")
            + (seed ? ", seeded" : "")
            + (server.metricsPort() > 0
                ? ", metrics http://"
                    + telemetry.metricsHost()
                    + ":"
                    + server.metricsPort()
                    + "/metrics"
                : ""));
    System.out.flush();
    new CountDownLatch(1).await(); // serve until the JVM is stopped; the hook closes cleanly
    return 0;
  }
}
