package dev.twopc.samples;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.twopc.participant.Participant;
import dev.twopc.security.RoleMap;
import dev.twopc.security.TlsFiles;
import dev.twopc.telemetry.Tracing;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link SampleService}: the SDK's embedded SQLite store ({@code <dataDir>/<name>.db},
 * WAL, fsync at commit) holding both its business tables and the SDK's pending map (so staged
 * writes and the prepared record commit together), the participant serving the Participant gRPC
 * service, and the read API over plain HTTP, which reads through {@link Participant#dataSource()}.
 *
 * <pre>{@code
 * try (SampleServer inventory = SampleServer.start(new InventoryService(),
 *     new SampleServer.Config(7101, 8101, "localhost:7000", Path.of("data"), true,
 *         Duration.ofSeconds(10)))) {
 *   ...  // curl localhost:8101/stock
 * }
 * }</pre>
 */
public final class SampleServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SampleServer.class);

  /**
   * How to run a sample.
   *
   * @param port the Participant service's port, 0 for a free one
   * @param apiPort the read API's port, 0 for a free one
   * @param coordinator host:port of the coordinator
   * @param dataDir where the database file {@code <name>.db} (and its {@code -wal}) lives
   * @param seed put the demo {@link Catalog} in (rows not already there)
   * @param inDoubtAfter a prepared branch older than this asks the coordinator for its outcome
   * @param jdbcUrl a PostgreSQL or MariaDB database (user and password in the URL) to keep the
   *     tables and the SDK's pending map in instead of the embedded SQLite file; null for that
   * @param catalogScale with {@code seed}: {@link Catalog#demo(int)}'s scale, 1 for the demo's
   * @param maxInboundMessageBytes the largest request the participant reads ({@link
   *     Participant.Builder#maxInboundMessageBytes})
   * @param tls mutual TLS on the participant's hops ({@link Participant.Builder#tls}); null for
   *     plaintext on loopback
   * @param roles with {@code tls}: who is the coordinator and who an operator ({@link
   *     Participant.Builder#roles}); null for the SDK's default
   */
  public record Config(
      int port,
      int apiPort,
      String coordinator,
      Path dataDir,
      boolean seed,
      Duration inDoubtAfter,
      String jdbcUrl,
      int catalogScale,
      int maxInboundMessageBytes,
      TlsFiles tls,
      RoleMap roles,
      Integer metricsPort,
      String metricsHost,
      Tracing tracing) {
    /** Without metrics or tracing. */
    public Config(
        int port,
        int apiPort,
        String coordinator,
        Path dataDir,
        boolean seed,
        Duration inDoubtAfter,
        String jdbcUrl,
        int catalogScale,
        int maxInboundMessageBytes,
        TlsFiles tls,
        RoleMap roles) {
      this(
          port,
          apiPort,
          coordinator,
          dataDir,
          seed,
          inDoubtAfter,
          jdbcUrl,
          catalogScale,
          maxInboundMessageBytes,
          tls,
          roles,
          null,
          null,
          Tracing.off());
    }

    /** gRPC's default, as the SDK's. */
    public static final int DEFAULT_MAX_INBOUND_MESSAGE_BYTES = 4 * 1024 * 1024;

    public Config {
      Objects.requireNonNull(coordinator, "coordinator");
      Objects.requireNonNull(dataDir, "dataDir");
      Objects.requireNonNull(inDoubtAfter, "inDoubtAfter");
      Objects.requireNonNull(tracing, "tracing");
      if (catalogScale < 1) {
        throw new IllegalArgumentException("catalogScale must be at least 1");
      }
    }

    /** Plaintext, on loopback. */
    public Config(
        int port,
        int apiPort,
        String coordinator,
        Path dataDir,
        boolean seed,
        Duration inDoubtAfter,
        String jdbcUrl,
        int catalogScale,
        int maxInboundMessageBytes) {
      this(
          port,
          apiPort,
          coordinator,
          dataDir,
          seed,
          inDoubtAfter,
          jdbcUrl,
          catalogScale,
          maxInboundMessageBytes,
          null,
          null);
    }

    /** With the default inbound message limit. */
    public Config(
        int port,
        int apiPort,
        String coordinator,
        Path dataDir,
        boolean seed,
        Duration inDoubtAfter,
        String jdbcUrl,
        int catalogScale) {
      this(
          port,
          apiPort,
          coordinator,
          dataDir,
          seed,
          inDoubtAfter,
          jdbcUrl,
          catalogScale,
          DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
    }

    /** On the embedded SQLite store, the demo's catalog. */
    public Config(
        int port,
        int apiPort,
        String coordinator,
        Path dataDir,
        boolean seed,
        Duration inDoubtAfter) {
      this(port, apiPort, coordinator, dataDir, seed, inDoubtAfter, null, 1);
    }
  }

  private final SampleService service;
  private final DataSource dataSource;
  private final Participant participant;
  private final HttpServer http;
  private final ExecutorService httpThreads;
  private final HikariDataSource pool;

  private SampleServer(
      SampleService service,
      DataSource dataSource,
      Participant participant,
      HttpServer http,
      ExecutorService httpThreads,
      HikariDataSource pool) {
    this.service = service;
    this.dataSource = dataSource;
    this.participant = participant;
    this.http = http;
    this.httpThreads = httpThreads;
    this.pool = pool;
  }

  /**
   * The pool for {@code --jdbc-url}: as many connections as prepares can run at once plus the read
   * API's, auto-commit off (the SDK commits its local transactions itself).
   */
  private static HikariDataSource pool(String name, String jdbcUrl) {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(jdbcUrl);
    hc.setPoolName(name);
    hc.setMaximumPoolSize(24);
    hc.setAutoCommit(false);
    return new HikariDataSource(hc);
  }

  /** Opens the database, creates (and seeds) the tables, starts the participant and the API. */
  public static SampleServer start(SampleService service, Config config) throws IOException {
    Participant participant = null;
    HttpServer http = null;
    ExecutorService httpThreads = null;
    HikariDataSource pool = null;
    try {
      Participant.Builder builder = Participant.builder(service.name());
      if (config.jdbcUrl() != null) {
        pool = pool(service.name(), config.jdbcUrl());
        builder.dataSource(pool);
      } else {
        builder.dataDirectory(config.dataDir());
      }
      builder
          .coordinator(config.coordinator())
          .listenPort(config.port())
          // Before recovery and serving: the handler finds its tables from the first call on.
          .storeInitializer(
              c -> {
                service.createSchema(c);
                if (config.seed()) {
                  service.seed(c, Catalog.demo(config.catalogScale()));
                }
              })
          .handler(service.handler())
          .inDoubtAfter(config.inDoubtAfter())
          .maxInboundMessageBytes(config.maxInboundMessageBytes())
          .tracing(config.tracing());
      if (config.metricsPort() != null) {
        builder.metricsPort(config.metricsPort());
        if (config.metricsHost() != null) {
          builder.metricsHost(config.metricsHost());
        }
      }
      if (config.tls() != null) {
        builder.tls(config.tls());
        if (config.roles() != null) {
          builder.roles(config.roles());
        }
      }
      participant = builder.build();
      participant.start();

      // The read API shows business data and has no authentication: this machine only.
      http =
          HttpServer.create(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), config.apiPort()), 0);
      httpThreads = Executors.newFixedThreadPool(4);
      http.setExecutor(httpThreads);
      SampleServer server =
          new SampleServer(service, participant.dataSource(), participant, http, httpThreads, pool);
      http.createContext("/", server::serve);
      http.start();
      log.info(
          "event=sample_started participant={} port={} api=http://localhost:{} seeded={}",
          service.name(),
          participant.port(),
          http.getAddress().getPort(),
          config.seed());
      return server;
    } catch (IOException | RuntimeException e) {
      close(participant, http, httpThreads, pool);
      throw e;
    }
  }

  private void serve(HttpExchange ex) throws IOException {
    try (ex) {
      String path = ex.getRequestURI().getPath();
      if (!ex.getRequestMethod().equals("GET")) {
        respond(ex, 405, "only GET\n");
        return;
      }
      if (path.equals("/")) {
        respond(
            ex, 200, service.name() + " read API: " + String.join(" ", service.readPaths()) + "\n");
        return;
      }
      List<Map<String, Object>> rows;
      // The embedded store's one connection is shared with the SDK: read, end the read
      // transaction, give it back.
      try (Connection c = dataSource.getConnection()) {
        try {
          rows = service.read(path, query(ex.getRequestURI().getRawQuery()), c);
        } finally {
          c.rollback();
        }
      }
      if (rows == null) {
        respond(ex, 404, "not found: " + path + "\n");
        return;
      }
      StringBuilder body = new StringBuilder();
      for (Map<String, Object> row : rows) {
        body.append(Fields.format(row)).append('\n');
      }
      respond(ex, 200, body.toString());
    } catch (SQLException | RuntimeException e) {
      log.warn("event=read_failed participant={} uri={}", service.name(), ex.getRequestURI(), e);
      respond(ex, 500, "error: " + e.getMessage() + "\n");
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> params = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return params;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      params.put(URLDecoder.decode(k, UTF_8), URLDecoder.decode(v, UTF_8));
    }
    return params;
  }

  private static void respond(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(UTF_8);
    ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  public String name() {
    return service.name();
  }

  /** The Participant service's port. */
  public int port() {
    return participant.port();
  }

  /** Where this service's /metrics is served; -1 when it is not. */
  public int metricsPort() {
    return participant.metricsPort();
  }

  /** The read API's port. */
  public int apiPort() {
    return http.getAddress().getPort();
  }

  /** The read API's base URL. */
  public String apiUrl() {
    return "http://localhost:" + apiPort();
  }

  public Participant participant() {
    return participant;
  }

  /** Stops the API and the participant, which closes the database. Prepared branches persist. */
  @Override
  public void close() {
    close(participant, http, httpThreads, pool);
  }

  private static void close(
      Participant participant,
      HttpServer http,
      ExecutorService httpThreads,
      HikariDataSource pool) {
    if (http != null) {
      http.stop(0);
    }
    if (httpThreads != null) {
      httpThreads.shutdownNow();
    }
    if (participant != null) {
      participant.close();
    }
    if (pool != null) {
      pool.close();
    }
  }
}
