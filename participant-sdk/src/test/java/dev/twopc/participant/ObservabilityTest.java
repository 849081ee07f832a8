package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.telemetry.MetricsText;
import dev.twopc.telemetry.Tracing;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Over real gRPC, the real coordinator and SDK participants on their embedded stores: the
 * participant's opt-in {@code /metrics} across a commit, a lock timeout, a branch in doubt and its
 * resolution; and one trace from the client through the coordinator to each participant's handler,
 * each process exporting to its own in-memory exporter as separate processes would.
 */
class ObservabilityTest {
  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private CoordinatorServer coordinator(Tracing tracing, boolean streams) throws Exception {
    CoordinatorServer c =
        CoordinatorServer.start(
            Coordinators.defaults(dir.resolve("coordinator"))
                .participantStreams(streams)
                .phase2BackoffBase(Duration.ofMillis(20))
                .phase2BackoffCap(Duration.ofMillis(200))
                .tracing(tracing)
                .build());
    toClose.add(c);
    return c;
  }

  private Participant participant(
      CoordinatorServer c,
      String name,
      TestHandler handler,
      ParticipantListener listener,
      Participant.Builder extra)
      throws Exception {
    CountDownLatch registered = new CountDownLatch(1);
    Participant p =
        extra
            .coordinator(c.target())
            .dataDirectory(dir.resolve(name))
            .handler(handler)
            .listener(
                new ParticipantListener() {
                  @Override
                  public void onPrepared(String txId) {
                    listener.onPrepared(txId);
                  }

                  @Override
                  public void onRegistered(String coordinator) {
                    registered.countDown();
                  }
                })
            .lockWait(Duration.ofMillis(300))
            .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build();
    toClose.add(p);
    p.start();
    assertTrue(registered.await(20, TimeUnit.SECONDS), name + " registered");
    return p;
  }

  private TransactionClient client(CoordinatorServer c, Tracing tracing) {
    TransactionClient client =
        TransactionClient.builder()
            .target(c.target())
            .commitTimeout(Duration.ofSeconds(20))
            .interceptors(tracing.clientInterceptors())
            .build();
    toClose.add(client);
    return client;
  }

  private static List<TransactionBranch> branches(String... pairs) {
    List<TransactionBranch> out = new ArrayList<>();
    for (int i = 0; i < pairs.length; i += 2) {
      out.add(new TransactionBranch(pairs[i], pairs[i + 1].getBytes(UTF_8)));
    }
    return out;
  }

  private MetricsText scrape(Participant p) throws Exception {
    return MetricsText.fetch(
        http,
        URI.create("http://127.0.0.1:" + p.metricsPort() + "/metrics"),
        Duration.ofSeconds(10));
  }

  @ParameterizedTest(name = "streams {0}")
  @ValueSource(booleans = {true, false})
  void participantMetricsFollowPrepareLockTimeoutInDoubtAndCommit(boolean streams)
      throws Exception {
    CoordinatorServer c = coordinator(Tracing.off(), streams);
    CountDownLatch inventoryPrepared = new CountDownLatch(1);
    Participant inventory =
        participant(
            c,
            "inventory",
            new TestHandler(),
            new ParticipantListener() {
              @Override
              public void onPrepared(String txId) {
                inventoryPrepared.countDown();
              }
            },
            Participant.builder("inventory")
                .metricsPort(0)
                .inDoubtAfter(Duration.ofMillis(200))
                .inDoubtCheckInterval(Duration.ofMillis(50)));
    TestHandler slow = new TestHandler();
    participant(c, "payments", slow, new ParticipantListener() {}, Participant.builder("payments"));
    TransactionClient client = client(c, Tracing.off());
    assertTrue(inventory.metricsPort() > 0);
    MetricsText m = scrape(inventory);
    assertEquals(0, m.sum("twopc_branch_prepared"));
    assertEquals(0, m.sum("twopc_branch_lock_waits_total"));

    // The first transaction holds sku-1 at inventory while payments waits at its gate.
    CompletableFuture<TransactionResult> first =
        CompletableFuture.supplyAsync(
            () -> client.execute(branches("inventory", "sku-1", "payments", "!gate,acct-1")));
    assertTrue(inventoryPrepared.await(10, TimeUnit.SECONDS));
    // Prepared past the in-doubt bound: inventory asks, and is told it is still in progress.
    await()
        .until(
            () -> {
              MetricsText s = scrape(inventory);
              return s.sum("twopc_branch_prepared") == 1
                  && s.sum("twopc_branch_in_doubt") == 1
                  && s.sum("twopc_branch_prepared_oldest_age_seconds") >= 0.2
                  && s.sum("twopc_branch_outcome_queries_total", "result", "in_progress") >= 1;
            });

    // The second waits for sku-1, times out and votes NO.
    TransactionResult second = client.execute(branches("inventory", "sku-1", "payments", "acct-2"));
    assertEquals(TransactionOutcome.ABORTED, second.outcome());
    m = scrape(inventory);
    assertEquals(1, m.sum("twopc_branch_lock_waits_total"));
    assertEquals(1, m.sum("twopc_branch_lock_timeouts_total"));
    assertEquals(1, m.sum("twopc_branch_operations_total", "operation", "prepare", "result", "no"));

    slow.gate.countDown();
    assertEquals(TransactionOutcome.COMMITTED, first.get(20, TimeUnit.SECONDS).outcome());
    await()
        .until(
            () ->
                scrape(inventory)
                        .sum(
                            "twopc_branch_operations_total",
                            "operation",
                            "commit",
                            "result",
                            "done")
                    == 1);
    m = scrape(inventory);
    assertEquals(
        1, m.sum("twopc_branch_operations_total", "operation", "prepare", "result", "yes"));
    assertEquals(2, m.sum("twopc_branch_operation_duration_seconds_count", "operation", "prepare"));
    assertEquals(0, m.sum("twopc_branch_prepared"));
    assertEquals(0, m.sum("twopc_branch_in_doubt"));
    assertEquals(0, m.sum("twopc_branch_prepared_oldest_age_seconds"));
    assertEquals(0, m.sum("twopc_branch_store_errors_total"));
    // gRPC server metrics count calls: on a stream the prepares are messages of one open call.
    assertEquals(
        streams ? 0 : 2,
        m.sum(
            "twopc_grpc_server_calls_total",
            "method",
            "twopc.v1.Participant/Prepare",
            "code",
            "OK"));
  }

  /** An SDK of its own per process, exporting to memory. */
  private record TracedProcess(OpenTelemetrySdk sdk, InMemorySpanExporter spans)
      implements AutoCloseable {
    static TracedProcess start() {
      InMemorySpanExporter exporter = InMemorySpanExporter.create();
      OpenTelemetrySdk sdk =
          OpenTelemetrySdk.builder()
              .setTracerProvider(
                  SdkTracerProvider.builder()
                      .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                      .build())
              .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
              .build();
      return new TracedProcess(sdk, exporter);
    }

    List<SpanData> finished() {
      return spans.getFinishedSpanItems();
    }

    SpanData one(Predicate<SpanData> p, String what) {
      List<SpanData> found = finished().stream().filter(p).toList();
      assertEquals(1, found.size(), what + " in " + finished());
      return found.get(0);
    }

    @Override
    public void close() {
      sdk.close();
    }
  }

  private static Predicate<SpanData> named(String name, SpanKind kind) {
    return s -> s.getName().equals(name) && s.getKind() == kind;
  }

  @ParameterizedTest(name = "streams {0}")
  @ValueSource(booleans = {true, false})
  void oneTraceFromClientThroughCoordinatorToEachParticipantsHandler(boolean streams)
      throws Exception {
    TracedProcess clientSide = TracedProcess.start();
    TracedProcess coordinatorSide = TracedProcess.start();
    TracedProcess ordersSide = TracedProcess.start();
    TracedProcess paymentsSide = TracedProcess.start();
    toClose.addAll(List.of(clientSide, coordinatorSide, ordersSide, paymentsSide));
    CoordinatorServer c = coordinator(Tracing.of(coordinatorSide.sdk()), streams);
    participant(
        c,
        "orders",
        new TestHandler(),
        new ParticipantListener() {},
        Participant.builder("orders").tracing(Tracing.of(ordersSide.sdk())));
    participant(
        c,
        "payments",
        new TestHandler(),
        new ParticipantListener() {},
        Participant.builder("payments").tracing(Tracing.of(paymentsSide.sdk())));
    TransactionClient client = client(c, Tracing.of(clientSide.sdk()));
    await()
        .until(
            () -> {
              try {
                return client
                        .execute(branches("orders", "warmup-o", "payments", "warmup-p"))
                        .outcome()
                    == TransactionOutcome.COMMITTED;
              } catch (RuntimeException notRegisteredYet) {
                return false;
              }
            });
    // Only the transaction under test from here on.
    await()
        .until(
            () ->
                ordersSide.finished().stream()
                    .anyMatch(s -> s.getName().equals("twopc.branch.commit")));
    for (TracedProcess p : List.of(clientSide, coordinatorSide, ordersSide, paymentsSide)) {
      p.spans().reset();
    }

    TransactionResult r = client.execute(branches("orders", "o-1", "payments", "p-1"));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome());
    await()
        .until(
            () ->
                ordersSide.finished().stream()
                        .anyMatch(s -> s.getName().equals("twopc.branch.commit"))
                    && paymentsSide.finished().stream()
                        .anyMatch(s -> s.getName().equals("twopc.branch.commit"))
                    && coordinatorSide.finished().stream()
                            .filter(s -> s.getName().startsWith("twopc.phase2_commit"))
                            .count()
                        == 2);

    SpanData execute =
        clientSide.one(
            named("twopc.v1.Coordinator/Execute", SpanKind.CLIENT), "the client's Execute");
    String trace = execute.getTraceId();
    SpanData served =
        coordinatorSide.one(
            named("twopc.v1.Coordinator/Execute", SpanKind.SERVER), "the coordinator's Execute");
    assertEquals(execute.getSpanId(), served.getParentSpanId(), "client -> coordinator");
    SpanData decision =
        coordinatorSide.one(named("twopc.decision_write", SpanKind.INTERNAL), "the decision write");
    assertEquals(r.txId(), decision.getAttributes().get(Tracing.TX_ID));
    assertEquals(
        "COMMIT",
        decision
            .getAttributes()
            .get(io.opentelemetry.api.common.AttributeKey.stringKey("twopc.decision")));
    for (Map.Entry<String, TracedProcess> e :
        Map.of("orders", ordersSide, "payments", paymentsSide).entrySet()) {
      String name = e.getKey();
      TracedProcess side = e.getValue();
      for (String op : List.of("prepare", "commit")) {
        String method = op.equals("prepare") ? "Prepare" : "Commit";
        SpanData ours =
            coordinatorSide.one(
                s ->
                    s.getName()
                            .equals(op.equals("prepare") ? "twopc.prepare" : "twopc.phase2_commit")
                        && name.equals(s.getAttributes().get(Tracing.PARTICIPANT)),
                op + " of " + name);
        assertEquals(r.txId(), ours.getAttributes().get(Tracing.TX_ID));
        assertEquals(served.getSpanId(), ours.getParentSpanId(), "under the Execute");
        SpanData handler =
            side.one(named("twopc.branch." + op, SpanKind.INTERNAL), name + "'s handler for " + op);
        if (streams) {
          // The message carried the trace itself: the handler is right under the coordinator's.
          assertEquals(ours.getSpanId(), handler.getParentSpanId(), "coordinator -> " + name);
        } else {
          SpanData call =
              coordinatorSide.one(
                  s ->
                      s.getKind() == SpanKind.CLIENT
                          && s.getName().equals("twopc.v1.Participant/" + method)
                          && s.getParentSpanId().equals(ours.getSpanId()),
                  "the " + method + " call to " + name);
          SpanData server =
              side.one(
                  named("twopc.v1.Participant/" + method, SpanKind.SERVER), name + "'s " + method);
          assertEquals(call.getSpanId(), server.getParentSpanId(), "coordinator -> " + name);
          assertEquals(server.getSpanId(), handler.getParentSpanId());
        }
        assertEquals(r.txId(), handler.getAttributes().get(Tracing.TX_ID));
      }
    }
    for (TracedProcess p : List.of(clientSide, coordinatorSide, ordersSide, paymentsSide)) {
      for (SpanData s : p.finished()) {
        if (s.getName().contains("Participant/")
            || s.getName().contains("Coordinator/Execute")
            || s.getName().startsWith("twopc.")) {
          assertEquals(trace, s.getTraceId(), "one trace: " + s);
        }
      }
    }
    assertNotNull(trace);
  }
}
