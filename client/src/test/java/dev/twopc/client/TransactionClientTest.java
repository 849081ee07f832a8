package dev.twopc.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.CommitResponse;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.testing.FakeCoordinator;
import dev.twopc.testing.Shutdown;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * TransactionClient over real gRPC (Netty, a TCP port) against the testing module's scripted
 * coordinator: what it sends, what it makes of each answer (and of none), and the point of this
 * artifact, no storage library on its classpath. Against the real coordinator it runs in the
 * participant SDK's and the samples' tests.
 */
class TransactionClientTest {
  private FakeCoordinator coordinator;
  private TransactionClient client;

  @BeforeEach
  void start() throws Exception {
    coordinator = FakeCoordinator.start();
    client =
        TransactionClient.builder()
            .target(coordinator.target())
            .callTimeout(Duration.ofSeconds(10))
            .commitTimeout(Duration.ofSeconds(10))
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    coordinator.close();
  }

  @Test
  void theInteractiveFlowBeginsCommitsAndAsksOverTheWire() {
    coordinator.beginDeadline.set(Instant.ofEpochSecond(1_000, 5));
    Transaction tx = client.begin(TransactionOptions.defaults().withTimeout(Duration.ofSeconds(5)));
    assertEquals("tx-1", tx.txId());
    assertEquals(Instant.ofEpochSecond(1_000, 5), tx.deadline());
    assertEquals(TransactionOutcome.IN_PROGRESS, client.status(tx.txId()).outcome());

    coordinator.commitResponse.set(
        CommitResponse.newBuilder().setTxId("tx-1").setOutcome(Outcome.OUTCOME_COMMITTED).build());
    assertTrue(client.commit(tx.txId()).committed());
    assertEquals(TransactionOutcome.COMMITTED, client.status(tx.txId()).outcome());
  }

  @Test
  void executeSendsTheBranchesAndReportsTheAbortWithItsReason() {
    coordinator.executeResponse.set(
        ExecuteResponse.newBuilder()
            .setTxId("tx-x")
            .setOutcome(Outcome.OUTCOME_ABORTED)
            .setReason("participant payments voted NO")
            .build());
    TransactionResult r =
        client.execute(
            List.of(
                new TransactionBranch("inventory", new byte[] {1}),
                new TransactionBranch("payments", new byte[] {2, 3})),
            TransactionOptions.defaults().withIdempotencyKey("order-7"));
    assertEquals(
        new TransactionResult("tx-x", TransactionOutcome.ABORTED, "participant payments voted NO"),
        r);
    ExecuteRequest sent = coordinator.executes.get(0);
    assertEquals("order-7", sent.getIdempotencyKey());
    assertEquals("payments", sent.getBranches(1).getParticipant());
    assertArrayEquals(new byte[] {2, 3}, sent.getBranches(1).getPayload().toByteArray());
    assertEquals(TransactionOutcome.ABORTED, client.status("tx-x").outcome());
  }

  @Test
  void anExecuteWithNoAnswerIsUnknownWithoutAnId() {
    coordinator.executeStatus.set(Status.UNAVAILABLE.withDescription("restarting"));
    TransactionResult r = client.execute(List.of(new TransactionBranch("slow", null)));
    assertEquals(TransactionOutcome.UNKNOWN, r.outcome());
    assertEquals("", r.txId());
    assertTrue(r.reason().contains("UNAVAILABLE"), r.reason());
  }

  @Test
  void aStatusOfAnUnknownIdIsNotFound() {
    assertEquals(
        TransactionException.Code.NOT_FOUND,
        assertThrows(TransactionException.class, () -> client.status("tx-never")).code());
  }

  @Test
  void commitPastItsDeadlineIsUnknown() throws Exception {
    coordinator.commitStatus.set(null); // never answers
    // A short deadline of its own: the other tests' calls must not run out while the first
    // connection is made on a busy machine.
    try (TransactionClient impatient =
        TransactionClient.builder()
            .target(coordinator.target())
            .commitTimeout(Duration.ofMillis(300))
            .build()) {
      TransactionResult r = impatient.commit("tx-1");
      assertEquals(TransactionOutcome.UNKNOWN, r.outcome());
      assertTrue(r.reason().contains("DEADLINE_EXCEEDED"), r.reason());
    }
  }

  @Test
  void commitThatFailsUnavailableIsUnknown() {
    coordinator.commitStatus.set(Status.UNAVAILABLE.withDescription("log store down"));
    TransactionResult r = client.commit("tx-1");
    assertEquals(TransactionOutcome.UNKNOWN, r.outcome());
    assertEquals("tx-1", r.txId());
  }

  @Test
  void commitRefusedForGoodThrowsWithTheCode() {
    coordinator.commitStatus.set(Status.FAILED_PRECONDITION.withDescription("already aborted"));
    TransactionException e = assertThrows(TransactionException.class, () -> client.commit("tx-1"));
    assertEquals(TransactionException.Code.FAILED_PRECONDITION, e.code());
    assertTrue(e.getMessage().contains("already aborted"));
    coordinator.commitStatus.set(Status.NOT_FOUND.withDescription("no tx-never"));
    assertEquals(
        TransactionException.Code.NOT_FOUND,
        assertThrows(TransactionException.class, () -> client.commit("tx-never")).code());
  }

  @Test
  void commitAnswerIsPassedThrough() {
    coordinator.commitResponse.set(
        CommitResponse.newBuilder()
            .setTxId("tx-1")
            .setOutcome(Outcome.OUTCOME_ABORTED)
            .setReason("no at payments")
            .build());
    assertEquals(
        new TransactionResult("tx-1", TransactionOutcome.ABORTED, "no at payments"),
        client.commit("tx-1"));
  }

  @Test
  void propagationCarriesTheTransactionIdInTheHeader() {
    ManagedChannel channel =
        Grpc.newChannelBuilder(coordinator.target(), InsecureChannelCredentials.create()).build();
    try {
      CoordinatorGrpc.CoordinatorBlockingStub stub =
          TransactionPropagation.attach(CoordinatorGrpc.newBlockingStub(channel), "tx-42");
      assertEquals("tx-1", stub.begin(BeginRequest.getDefaultInstance()).getTxId());
      assertEquals("tx-42", coordinator.lastHeaders.get().get(TransactionPropagation.METADATA_KEY));
    } finally {
      Shutdown.now(channel);
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> TransactionPropagation.clientInterceptor("not valid!"));
  }

  @Test
  void theBuilderNamesTheBadField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TransactionClient.builder().target("x:1").commitTimeout(Duration.ZERO).build());
    assertTrue(e.getMessage().startsWith("commitTimeout"), e.getMessage());
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
