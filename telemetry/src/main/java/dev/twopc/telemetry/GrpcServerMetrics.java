package dev.twopc.telemetry;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Every call a gRPC server answers: {@code twopc_grpc_server_calls_total{method, code}} and {@code
 * twopc_grpc_server_call_duration_seconds{method}}. Labels are the service's own method names and
 * the status codes: bounded.
 */
public final class GrpcServerMetrics implements ServerInterceptor {
  private final Counter calls;
  private final Histogram duration;

  public GrpcServerMetrics(PrometheusRegistry registry) {
    calls =
        Counter.builder()
            .name("twopc_grpc_server_calls")
            .help("gRPC calls answered, by method and status code")
            .labelNames("method", "code")
            .register(registry);
    duration =
        Histogram.builder()
            .name("twopc_grpc_server_call_duration_seconds")
            .help("Time from a call's arrival to its status, by method")
            .labelNames("method")
            .classicOnly()
            .classicUpperBounds(Buckets.LATENCY)
            .register(registry);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String method = call.getMethodDescriptor().getFullMethodName();
    return next.startCall(
        new SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            calls.labelValues(method, status.getCode().name()).inc();
            duration.labelValues(method).observe((System.nanoTime() - start) / 1e9);
            super.close(status, trailers);
          }
        },
        headers);
  }
}
