package dev.twopc.telemetry;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One process's {@code /metrics}: a registry of its own (two coordinators or participants in one
 * JVM never share a series) served over HTTP in the Prometheus text format, with the JVM's own
 * metrics beside twopc's.
 */
public final class MetricsEndpoint implements AutoCloseable {
  private final PrometheusRegistry registry;
  private final HTTPServer server;

  private MetricsEndpoint(PrometheusRegistry registry, HTTPServer server) {
    this.registry = registry;
    this.server = server;
  }

  /**
   * Serves {@code registry} on {@code host:port} (0: an ephemeral port). Fails with the reason when
   * the port cannot be bound.
   */
  public static MetricsEndpoint start(PrometheusRegistry registry, String host, int port) {
    JvmMetrics.builder().register(registry);
    try {
      HTTPServer server =
          HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
      return new MetricsEndpoint(registry, server);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /** The bound port. */
  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    server.close();
  }
}
