package dev.twopc.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.proto.v1.CommitResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.testing.FakeCoordinator;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client given several coordinator nodes (issue 14, item 4), over real gRPC: a call that a node
 * cannot take (UNAVAILABLE, or nothing listening) goes to the next, Begin and Execute carry an
 * idempotency key so that the retry is the same request, and a refusal is not retried.
 */
class TransactionClientFailoverTest {
  private FakeCoordinator first;
  private FakeCoordinator second;
  private TransactionClient client;

  @BeforeEach
  void start() throws Exception {
    first = FakeCoordinator.start();
    second = FakeCoordinator.start();
    client =
        TransactionClient.builder()
            .target(first.target() + ", " + second.target())
            .callTimeout(Duration.ofSeconds(10))
            .commitTimeout(Duration.ofSeconds(10))
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    first.close();
    second.close();
  }

  @Test
  void anExecuteTheFirstNodeCannotTakeRunsOnTheNextWithTheSameKey() {
    first.executeStatus.set(Status.UNAVAILABLE.withDescription("stopping"));
    TransactionResult r = client.execute(List.of(new TransactionBranch("p", new byte[] {1})));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    String key = first.executes.get(0).getIdempotencyKey();
    assertTrue(key.startsWith("auto-"), "made up: " + key);
    assertEquals(key, second.executes.get(0).getIdempotencyKey(), "the retry is the same request");
  }

  @Test
  void theCallersKeyIsKeptAndAStoppedNodeIsSkipped() throws Exception {
    first.close(); // nothing listens there any more
    TransactionResult r =
        client.execute(
            List.of(new TransactionBranch("p", null)),
            TransactionOptions.defaults().withIdempotencyKey("order-7"));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    assertEquals("order-7", second.executes.get(0).getIdempotencyKey());

    // it stays with the node that answered
    Transaction tx = client.begin();
    second.commitResponse.set(
        CommitResponse.newBuilder()
            .setTxId(tx.txId())
            .setOutcome(Outcome.OUTCOME_COMMITTED)
            .build());
    assertTrue(client.commit(tx.txId()).committed());
  }

  @Test
  void aRefusalIsTheAnswerAndIsNotTriedElsewhere() {
    first.executeStatus.set(Status.FAILED_PRECONDITION.withDescription("key used otherwise"));
    TransactionException e =
        assertThrows(
            TransactionException.class,
            () -> client.execute(List.of(new TransactionBranch("p", null))));
    assertEquals(TransactionException.Code.FAILED_PRECONDITION, e.code());
    assertEquals(List.of(), second.executes);
  }

  @Test
  void everyNodeDownIsUnknownNamingTheLastError() {
    first.executeStatus.set(Status.UNAVAILABLE.withDescription("first down"));
    second.executeStatus.set(Status.UNAVAILABLE.withDescription("second down"));
    TransactionResult r = client.execute(List.of(new TransactionBranch("p", null)));
    assertEquals(TransactionOutcome.UNKNOWN, r.outcome());
    assertTrue(r.reason().contains("second down"), r.reason());
  }

  @Test
  void aTargetWithAnEmptyAddressIsRefusedAtBuild() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TransactionClient.builder().target(first.target() + ",,").build());
    assertTrue(e.getMessage().contains("empty address"), e.getMessage());
  }
}
