package dev.twopc.telemetry;

import picocli.CommandLine.Option;

/**
 * The observability flags of every twopc process that serves (a picocli mixin; picocli is an
 * optional dependency of this module): where {@code /metrics} is served, and whether traces are
 * exported.
 */
public final class TelemetryFlags {
  @Option(
      names = "--metrics-port",
      paramLabel = "PORT",
      defaultValue = "${TWOPC_METRICS_PORT}",
      description =
          "Serve Prometheus metrics on http://HOST:PORT/metrics (0: any free port);"
              + " none if not given [TWOPC_METRICS_PORT].")
  Integer metricsPort;

  @Option(
      names = "--metrics-host",
      paramLabel = "HOST",
      defaultValue = "${TWOPC_METRICS_HOST:-127.0.0.1}",
      description = "Address /metrics binds [TWOPC_METRICS_HOST] (default ${DEFAULT-VALUE}).")
  String metricsHost;

  @Option(
      names = "--tracing",
      negatable = true,
      defaultValue = "${TWOPC_TRACING:-false}",
      fallbackValue = "true",
      description =
          "Export OpenTelemetry traces over OTLP, configured by the standard OTEL_*"
              + " variables (OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4317)"
              + " [TWOPC_TRACING] (default ${DEFAULT-VALUE}).")
  boolean tracing;

  /** The port given, or null: no metrics. */
  public Integer metricsPort() {
    return metricsPort;
  }

  public String metricsHost() {
    return metricsHost;
  }

  /** OTLP tracing as {@code serviceName} when {@code --tracing}, else off. */
  public Tracing tracing(String serviceName) {
    return tracing ? Tracing.otlp(serviceName) : Tracing.off();
  }

  /** For a start-up line. */
  public String describe() {
    return (metricsPort == null ? " metrics=off" : " metrics=" + metricsHost + ":" + metricsPort)
        + (tracing ? " tracing=otlp" : "");
  }
}
