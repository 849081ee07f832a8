package dev.twopc.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BeginResponse;
import dev.twopc.proto.v1.CommitRequest;
import dev.twopc.proto.v1.CommitResponse;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.TransactionView;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TransactionClient over real gRPC (Netty, a TCP port) against a minimal Coordinator service, and
 * the point of this artifact: no storage library on its classpath.
 */
class TransactionClientGrpcTest {
  private final Map<String, Outcome> decided = new ConcurrentHashMap<>();
  private final AtomicReference<ExecuteRequest> lastExecute = new AtomicReference<>();
  private final AtomicReference<String> lastHeader = new AtomicReference<>();
  private Server server;
  private TransactionClient client;

  /** Begin, Commit, Execute and GetTransaction, with the outcomes kept in a map. */
  private final class Coordinator extends CoordinatorGrpc.CoordinatorImplBase {
    @Override
    public void begin(BeginRequest req, StreamObserver<BeginResponse> out) {
      String id = "tx-" + (decided.size() + 1);
      decided.put(id, Outcome.OUTCOME_IN_PROGRESS);
      out.onNext(
          BeginResponse.newBuilder()
              .setTxId(id)
              .setDeadline(Timestamp.newBuilder().setSeconds(1_000).setNanos(5))
              .build());
      out.onCompleted();
    }

    @Override
    public void commit(CommitRequest req, StreamObserver<CommitResponse> out) {
      if (!decided.containsKey(req.getTxId())) {
        out.onError(Status.NOT_FOUND.withDescription("no " + req.getTxId()).asRuntimeException());
        return;
      }
      decided.put(req.getTxId(), Outcome.OUTCOME_COMMITTED);
      out.onNext(
          CommitResponse.newBuilder()
              .setTxId(req.getTxId())
              .setOutcome(Outcome.OUTCOME_COMMITTED)
              .build());
      out.onCompleted();
    }

    @Override
    public void execute(ExecuteRequest req, StreamObserver<ExecuteResponse> out) {
      lastExecute.set(req);
      if (req.getBranchesList().stream().anyMatch(b -> b.getParticipant().equals("slow"))) {
        out.onError(Status.UNAVAILABLE.withDescription("restarting").asRuntimeException());
        return;
      }
      decided.put("tx-x", Outcome.OUTCOME_ABORTED);
      out.onNext(
          ExecuteResponse.newBuilder()
              .setTxId("tx-x")
              .setOutcome(Outcome.OUTCOME_ABORTED)
              .setReason("participant payments voted NO")
              .build());
      out.onCompleted();
    }

    @Override
    public void getTransaction(GetTransactionRequest req, StreamObserver<TransactionView> out) {
      Outcome o = decided.get(req.getTxId());
      if (o == null) {
        out.onError(Status.NOT_FOUND.withDescription("never issued").asRuntimeException());
        return;
      }
      out.onNext(TransactionView.newBuilder().setTxId(req.getTxId()).setOutcome(o).build());
      out.onCompleted();
    }
  }

  @BeforeEach
  void start() throws Exception {
    ServerInterceptor headers =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata h, ServerCallHandler<Q, R> next) {
            lastHeader.set(h.get(TransactionPropagation.METADATA_KEY));
            return next.startCall(call, h);
          }
        };
    server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(ServerInterceptors.intercept(new Coordinator(), headers))
            .build()
            .start();
    client =
        TransactionClient.builder()
            .target("localhost:" + server.getPort())
            .callTimeout(Duration.ofSeconds(10))
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void theInteractiveFlowBeginsCommitsAndAsksOverTheWire() {
    Transaction tx = client.begin(TransactionOptions.defaults().withTimeout(Duration.ofSeconds(5)));
    assertEquals("tx-1", tx.txId());
    assertEquals(Instant.ofEpochSecond(1_000, 5), tx.deadline());
    assertEquals(TransactionOutcome.IN_PROGRESS, client.status(tx.txId()).outcome());

    TransactionResult r = client.commit(tx.txId());
    assertTrue(r.committed());
    assertEquals(TransactionOutcome.COMMITTED, client.status(tx.txId()).outcome());
  }

  @Test
  void executeSendsTheBranchesAndReportsTheAbortWithItsReason() {
    TransactionResult r =
        client.execute(
            List.of(
                new TransactionBranch("inventory", new byte[] {1}),
                new TransactionBranch("payments", new byte[] {2, 3})),
            TransactionOptions.defaults().withIdempotencyKey("order-7"));
    assertEquals(
        new TransactionResult("tx-x", TransactionOutcome.ABORTED, "participant payments voted NO"),
        r);
    ExecuteRequest sent = lastExecute.get();
    assertEquals("order-7", sent.getIdempotencyKey());
    assertEquals("payments", sent.getBranches(1).getParticipant());
    assertArrayEquals(new byte[] {2, 3}, sent.getBranches(1).getPayload().toByteArray());
  }

  @Test
  void aLostAnswerIsUnknownAndARefusalThrows() {
    TransactionResult r = client.execute(List.of(new TransactionBranch("slow", null)));
    assertEquals(TransactionOutcome.UNKNOWN, r.outcome());
    assertEquals("", r.txId());
    assertTrue(r.reason().contains("UNAVAILABLE"), r.reason());

    TransactionException e =
        assertThrows(TransactionException.class, () -> client.commit("tx-never"));
    assertEquals(TransactionException.Code.NOT_FOUND, e.code());
    assertEquals(
        TransactionException.Code.NOT_FOUND,
        assertThrows(TransactionException.class, () -> client.status("tx-never")).code());
  }

  @Test
  void propagationCarriesTheTransactionIdInTheHeader() {
    io.grpc.ManagedChannel channel =
        Grpc.newChannelBuilder(
                "localhost:" + server.getPort(), io.grpc.InsecureChannelCredentials.create())
            .build();
    try {
      CoordinatorGrpc.CoordinatorBlockingStub stub =
          TransactionPropagation.attach(CoordinatorGrpc.newBlockingStub(channel), "tx-42");
      stub.begin(BeginRequest.getDefaultInstance());
      assertEquals("tx-42", lastHeader.get());
    } finally {
      channel.shutdownNow();
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> TransactionPropagation.clientInterceptor("not valid!"));
  }

  @Test
  void noParticipantSideOrStorageLibraryIsOnTheClientsClasspath() {
    for (String absent :
        List.of(
            "com.zaxxer.hikari.HikariDataSource",
            "org.h2.Driver",
            "org.sqlite.JDBC",
            "dev.twopc.participant.Participant",
            "dev.twopc.telemetry.Tracing")) {
      assertThrows(ClassNotFoundException.class, () -> Class.forName(absent), absent);
    }
  }
}
