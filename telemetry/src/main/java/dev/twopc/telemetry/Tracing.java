package dev.twopc.telemetry;

import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.instrumentation.grpc.v1_6.GrpcTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * OpenTelemetry tracing for one process, off unless asked for. When on, the trace context travels
 * in gRPC metadata (W3C {@code traceparent}) through the interceptors of opentelemetry-grpc, so
 * that a client's call, the coordinator's prepares and phase-2 calls and each participant's handler
 * are one trace; twopc's own spans carry the transaction id as {@value #TX_ID_NAME}. Off, it adds
 * no interceptor and every span is a no-op.
 */
public final class Tracing implements AutoCloseable {
  public static final String TX_ID_NAME = "twopc.tx_id";
  public static final AttributeKey<String> TX_ID = AttributeKey.stringKey(TX_ID_NAME);
  public static final AttributeKey<String> PARTICIPANT =
      AttributeKey.stringKey("twopc.participant");
  private static final String SCOPE = "dev.twopc";
  private static final Tracing OFF = new Tracing(OpenTelemetry.noop(), null, false);

  private final OpenTelemetry openTelemetry;
  private final OpenTelemetrySdk owned; // closed with this; null when the caller owns it
  private final boolean enabled;
  private final Tracer tracer;
  private final GrpcTelemetry grpc;

  private Tracing(OpenTelemetry openTelemetry, OpenTelemetrySdk owned, boolean enabled) {
    this.openTelemetry = openTelemetry;
    this.owned = owned;
    this.enabled = enabled;
    this.tracer = openTelemetry.getTracer(SCOPE);
    this.grpc = enabled ? GrpcTelemetry.create(openTelemetry) : null;
  }

  /** No tracing: no interceptors, no-op spans. */
  public static Tracing off() {
    return OFF;
  }

  /** Traces to the caller's {@code openTelemetry} (an application's own SDK, a test's). */
  public static Tracing of(OpenTelemetry openTelemetry) {
    return new Tracing(openTelemetry, null, true);
  }

  /**
   * Traces exported as the standard OpenTelemetry variables say ({@code OTEL_EXPORTER_OTLP_*},
   * {@code OTEL_TRACES_SAMPLER}, ...; OTLP to localhost:4317 by default), as service {@code
   * serviceName} unless {@code OTEL_SERVICE_NAME} names another. Metrics and logs are not exported
   * through OpenTelemetry (Prometheus serves the metrics).
   */
  public static Tracing otlp(String serviceName) {
    OpenTelemetrySdk sdk =
        AutoConfiguredOpenTelemetrySdk.builder()
            .addPropertiesSupplier(
                () ->
                    Map.of(
                        "otel.service.name", serviceName,
                        "otel.metrics.exporter", "none",
                        "otel.logs.exporter", "none"))
            .build()
            .getOpenTelemetrySdk();
    return new Tracing(sdk, sdk, true);
  }

  public boolean enabled() {
    return enabled;
  }

  /** The interceptors a server adds (none when off). */
  public List<ServerInterceptor> serverInterceptors() {
    return enabled ? List.of(grpc.createServerInterceptor()) : List.of();
  }

  /** The interceptors a channel adds (none when off). */
  public List<ClientInterceptor> clientInterceptors() {
    return enabled ? List.of(grpc.createClientInterceptor()) : List.of();
  }

  /**
   * The current span (a server call's, a caller's) in a context of its own when on, else the root.
   * Only the span: opentelemetry-grpc keeps gRPC's own Context inside OpenTelemetry's, and work
   * that outlives a call (prepares, phase 2) must not take on that call's cancellation when it
   * makes this context current.
   */
  public Context current() {
    return enabled ? Context.root().with(Span.current()) : Context.root();
  }

  /**
   * Starts an internal span under {@code parent} for transaction {@code txId} (and branch {@code
   * participant}, if not null). End it with {@link #end}.
   */
  public Span start(String name, Context parent, String txId, String participant) {
    if (!enabled) {
      return Span.getInvalid();
    }
    var b =
        tracer
            .spanBuilder(name)
            .setParent(parent)
            .setSpanKind(SpanKind.INTERNAL)
            .setAttribute(TX_ID, txId);
    if (participant != null) {
      b.setAttribute(PARTICIPANT, participant);
    }
    return b.startSpan();
  }

  /**
   * Runs {@code call} (a stub's call) with {@code span} under {@code parent} as the current
   * context, so that the call's client span and its metadata carry this trace.
   */
  @SuppressWarnings("try") // the scope is only closed, never read
  public void runIn(Context parent, Span span, Runnable call) {
    if (!enabled) {
      call.run();
      return;
    }
    try (Scope ignored = parent.with(span).makeCurrent()) {
      call.run();
    }
  }

  /**
   * The trace context of {@code span} under {@code parent} as W3C headers, for a message that
   * travels without metadata of its own (a stream's); empty when off.
   */
  public Map<String, String> inject(Context parent, Span span) {
    if (!enabled) {
      return Map.of();
    }
    Map<String, String> headers = new HashMap<>(4);
    openTelemetry
        .getPropagators()
        .getTextMapPropagator()
        .inject(parent.with(span), headers, (map, key, value) -> map.put(key, value));
    return headers;
  }

  /** The context {@link #inject} wrote into {@code headers}; the root when off or absent. */
  public Context extract(Map<String, String> headers) {
    if (!enabled || headers.isEmpty()) {
      return Context.root();
    }
    return openTelemetry
        .getPropagators()
        .getTextMapPropagator()
        .extract(Context.root(), headers, MAP_GETTER);
  }

  private static final TextMapGetter<Map<String, String>> MAP_GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
          return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };

  /** Ends {@code span}, as failed with {@code error} if that is not null. */
  public static void end(Span span, String error) {
    if (error != null) {
      span.setStatus(StatusCode.ERROR, error);
    }
    span.end();
  }

  public OpenTelemetry openTelemetry() {
    return openTelemetry;
  }

  /** Flushes and stops the exporter this created; a caller's SDK is the caller's to close. */
  @Override
  public void close() {
    if (owned != null) {
      owned.close();
    }
  }
}
