package dev.twopc.coordinator;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.FakeParticipant.Behaviour;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prepare, Commit and Rollback on one Exchange stream per participant, over real gRPC: beside a
 * participant that serves only unary calls, through a stream that stops answering, across a
 * participant's restart in the middle of a transaction, and switched off.
 */
class ParticipantStreamsTest {

  @Test
  void aStreamParticipantAndAUnaryOnlyOneShareATransaction(@TempDir Path dir) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(dir, b -> b.participantStreams(true))) {
      FakeParticipant streamed = h.participant("streamed");
      FakeParticipant unary = h.cluster.unaryOnlyParticipant("unary");
      for (int i = 0; i < 3; i++) {
        ExecuteResponse r = h.coordinator().execute(execute(streamed, unary));
        assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome(), r.getReason());
        await()
            .until(
                () ->
                    streamed.committed().contains(r.getTxId())
                        && unary.committed().contains(r.getTxId()));
      }
      assertEquals(6, streamed.streamed(), "3 prepares and 3 commits on the stream");
      assertEquals(0, unary.streamed());
      assertEquals(6, unary.messages().size(), unary.messages().toString());
    }
  }

  @Test
  void aStreamThatStopsAnsweringIsReplaced(@TempDir Path dir) throws Exception {
    try (CoordinatorHarness h =
        new CoordinatorHarness(
            dir,
            b ->
                b.participantStreams(true)
                    .prepareTimeout(Duration.ofMillis(300))
                    .phase2BackoffBase(Duration.ofMillis(50))
                    .phase2BackoffCap(Duration.ofMillis(200)))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant silent = h.participant("silent");
      ExecuteResponse first = h.coordinator().execute(execute(a, silent));
      assertEquals(Outcome.OUTCOME_COMMITTED, first.getOutcome(), first.getReason());
      await().until(() -> silent.committed().contains(first.getTxId()));
      silent.deafenStreams(); // its stream stays open and answers nothing, as a silent link would
      ExecuteResponse r = h.coordinator().execute(execute(a, silent));
      assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
      assertTrue(r.getReason().contains("DEADLINE_EXCEEDED"), r.getReason());
      // The stream answered nothing for the prepare's whole time: it is dropped, and the
      // rollback reaches the participant on a new one.
      await().until(() -> silent.rolledBack().contains(r.getTxId()));
      ExecuteResponse next = h.coordinator().execute(execute(a, silent));
      assertEquals(Outcome.OUTCOME_COMMITTED, next.getOutcome(), next.getReason());
      await().until(() -> silent.committed().contains(next.getTxId()));
      assertEquals(
          List.of(
              "prepare " + first.getTxId(),
              "commit " + first.getTxId(),
              "rollback " + r.getTxId(),
              "prepare " + next.getTxId()),
          silent.messages().subList(0, 4));
      assertEquals(silent.messages().size(), silent.streamed(), "every message on a stream");
    }
  }

  @Test
  void aParticipantRestartingMidTransactionLearnsTheOutcomeOnANewStream(@TempDir Path dir)
      throws Exception {
    try (CoordinatorHarness h =
        new CoordinatorHarness(
            dir,
            b ->
                b.participantStreams(true)
                    .prepareTimeout(Duration.ofSeconds(30))
                    .phase2BackoffBase(Duration.ofMillis(50))
                    .phase2BackoffCap(Duration.ofMillis(200)))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      b.behave(Behaviour.HOLD);
      CompletableFuture<ExecuteResponse> pending =
          CompletableFuture.supplyAsync(() -> h.coordinator().execute(execute(a, b)));
      await().until(() -> b.heldCount() == 1 && a.prepared().size() == 1);
      String txId = a.prepared().iterator().next();
      b.close(); // the stream breaks with b's prepare on it, unanswered
      ExecuteResponse r = pending.get(30, TimeUnit.SECONDS);
      assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
      assertEquals(txId, r.getTxId());
      await().until(() -> a.rolledBack().contains(txId));
      try (FakeParticipant back = FakeParticipant.restartOn(b)) {
        // The rollback is retried until b is back, and reaches it on a new stream.
        await().until(() -> back.rolledBack().contains(txId));
        assertTrue(back.streamed() >= 1, back.messages().toString());
      }
    }
  }

  @Test
  void aLargePrepareGoesAsAUnaryCallSoThatItCanFailOnlyItself(@TempDir Path dir) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(dir, b -> b.participantStreams(true))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      ExecuteRequest.Builder req = execute(a, b).toBuilder();
      req.getBranchesBuilder(1).setPayload(ByteString.copyFrom(new byte[20 * 1024]));
      ExecuteResponse r = h.coordinator().execute(req.build());
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome(), r.getReason());
      await()
          .until(() -> a.committed().contains(r.getTxId()) && b.committed().contains(r.getTxId()));
      assertEquals(2, a.streamed(), "a's prepare and commit");
      assertEquals(1, b.streamed(), "b's commit; its 20 KiB prepare was a unary call");
      assertEquals(20 * 1024, b.prepareRequests().get(0).getPayload().size());
    }
  }

  @Test
  void unaryCallsWhenStreamsAreOff(@TempDir Path dir) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(dir, b -> b.participantStreams(false))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      ExecuteResponse r = h.coordinator().execute(execute(a, b));
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome(), r.getReason());
      await()
          .until(() -> a.committed().contains(r.getTxId()) && b.committed().contains(r.getTxId()));
      assertEquals(0, a.streamed() + b.streamed());
    }
  }
}
