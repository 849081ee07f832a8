package dev.twopc.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionException;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.proto.v1.CommitResponse;
import dev.twopc.testing.FakeCoordinator;
import io.grpc.Status;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client's honesty about outcomes it did not hear. */
class TransactionClientTest {
  private FakeCoordinator coordinator;
  private TransactionClient client;

  @BeforeEach
  void start() throws Exception {
    coordinator = FakeCoordinator.start();
    client =
        TransactionClient.builder()
            .target(coordinator.target())
            .commitTimeout(Duration.ofMillis(300))
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    coordinator.close();
  }

  @Test
  void commitPastItsDeadlineIsUnknown() {
    coordinator.commitStatus.set(null);
    TransactionResult r = client.commit("tx-1");
    assertEquals(TransactionOutcome.UNKNOWN, r.outcome());
    assertTrue(r.reason().contains("DEADLINE_EXCEEDED"), r.reason());
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
  }

  @Test
  void commitAnswerIsPassedThrough() {
    coordinator.commitResponse.set(
        CommitResponse.newBuilder()
            .setTxId("tx-1")
            .setOutcome(dev.twopc.proto.v1.Outcome.OUTCOME_ABORTED)
            .setReason("no at payments")
            .build());
    assertEquals(
        new TransactionResult("tx-1", TransactionOutcome.ABORTED, "no at payments"),
        client.commit("tx-1"));
  }

  @Test
  void builderNamesTheBadField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TransactionClient.builder().target("x:1").commitTimeout(Duration.ZERO).build());
    assertTrue(e.getMessage().startsWith("commitTimeout"));
    IllegalArgumentException p =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Participant.builder("bad name")
                    .coordinator("x:1")
                    .handler(new TestHandler())
                    .build());
    assertTrue(p.getMessage().startsWith("name"));
  }
}
