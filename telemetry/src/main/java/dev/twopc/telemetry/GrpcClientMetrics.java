package dev.twopc.telemetry;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * Calls to named peers: {@code <prefix>_calls_total{<peer>, method, code}} and {@code
 * <prefix>_call_duration_seconds{<peer>, method}}, the method by its short name (Prepare, Commit).
 * One interceptor per peer ({@link #forPeer}); the peer's name must come from a bounded set (the
 * coordinator's registry of participants).
 */
public final class GrpcClientMetrics {
  private final Counter calls;
  private final Histogram duration;

  public GrpcClientMetrics(
      PrometheusRegistry registry, String prefix, String peerLabel, String peerHelp) {
    calls =
        Counter.builder()
            .name(prefix + "_calls")
            .help("Calls to " + peerHelp + ", by " + peerLabel + ", method and status code")
            .labelNames(peerLabel, "method", "code")
            .register(registry);
    duration =
        Histogram.builder()
            .name(prefix + "_call_duration_seconds")
            .help("Time from sending a call to " + peerHelp + " to its status")
            .labelNames(peerLabel, "method")
            .classicOnly()
            .classicUpperBounds(Buckets.LATENCY)
            .register(registry);
  }

  /**
   * Counts a message sent to {@code peer} on a stream as the call {@code method} would have been:
   * ended with status {@code code} after {@code nanos}.
   */
  public void record(String peer, String method, String code, long nanos) {
    calls.labelValues(peer, method, code).inc();
    duration.labelValues(peer, method).observe(nanos / 1e9);
  }

  /**
   * The interceptor for the channel to {@code peer}: counts its unary calls (a stream's messages
   * are counted by {@link #record}, the stream itself not at all).
   */
  public ClientInterceptor forPeer(String peer) {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(
          MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        if (method.getType() != MethodDescriptor.MethodType.UNARY) {
          return next.newCall(method, options);
        }
        String name = method.getBareMethodName();
        return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            long start = System.nanoTime();
            super.start(
                new SimpleForwardingClientCallListener<>(listener) {
                  @Override
                  public void onClose(Status status, Metadata trailers) {
                    calls.labelValues(peer, name, status.getCode().name()).inc();
                    duration.labelValues(peer, name).observe((System.nanoTime() - start) / 1e9);
                    super.onClose(status, trailers);
                  }
                },
                headers);
          }
        };
      }
    };
  }
}
