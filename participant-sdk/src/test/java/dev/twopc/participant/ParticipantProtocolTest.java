package dev.twopc.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.PrepareResponse;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeClock;
import dev.twopc.testing.FakeCoordinator;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** The Participant service's protocol, over gRPC, on each store of the {@link TestStore} matrix. */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.twopc.participant.TestStore#kinds")
class ParticipantProtocolTest {
  private static final String NAME = "stock";

  private final TestStore.Kind kind;
  @TempDir Path dir;
  private TestStore store;
  private BusinessDb db;
  private FakeCoordinator coordinator;
  private Participant participant;
  private ParticipantClient rpc;
  private final TestHandler handler = new TestHandler();
  private final FakeClock time = new FakeClock();

  ParticipantProtocolTest(TestStore.Kind kind) {
    this.kind = kind;
  }

  @BeforeEach
  void start() throws Exception {
    store = TestStore.open(kind, dir);
    db = store.business(NAME);
    coordinator = FakeCoordinator.start();
    participant =
        store
            .configure(Participant.builder(NAME))
            .coordinator(coordinator.target())
            .handler(handler)
            .clock(time.clock())
            .lockWait(Duration.ofMillis(200))
            .inDoubtAfter(Duration.ofHours(1))
            .build();
    participant.start();
    rpc = new ParticipantClient(participant.port(), NAME, coordinator.target());
  }

  @AfterEach
  void stop() throws Exception {
    if (rpc != null) {
      rpc.close();
    }
    if (participant != null) {
      participant.close();
    }
    if (coordinator != null) {
      coordinator.close();
    }
    if (store != null) {
      store.close();
    }
  }

  @Test
  void preparedBranchCommitsOnceAndReleasesItsLocks() {
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-1", "a,b").getVote());
    assertEquals(List.of("a", "b"), db.staged("tx-1"));
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit("tx-1").getOutcome());
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit("tx-1").getOutcome());
    assertEquals(List.of("a", "b"), db.applied("tx-1"));
    assertEquals(1, handler.commitCalls.get());
    assertTrue(participant.engine().locks().owners().isEmpty());
    assertEquals(0, rpc.listPrepared().getBranchesCount());
  }

  @Test
  void duplicatePrepareReturnsTheRecordedVote() {
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-dup", "a").getVote());
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-dup", "a").getVote());
    PrepareResponse no = rpc.prepare("tx-no", "!no");
    assertEquals(Vote.VOTE_NO, no.getVote());
    assertEquals(no, rpc.prepare("tx-no", "a"));
    assertEquals(Vote.VOTE_READ_ONLY, rpc.prepare("tx-ro", "!readonly").getVote());
    assertEquals(Vote.VOTE_READ_ONLY, rpc.prepare("tx-ro", "a").getVote());
    assertEquals(List.of("a"), db.staged("tx-dup"));
    assertEquals(List.of(), db.staged("tx-no"));
  }

  @Test
  void commitOfABranchWithNoTraceHereIsRefusedNotAcknowledged() {
    // Never prepared here (or its record lost): acknowledging would claim work that is not
    // applied. A branch that did commit and is remembered is still acknowledged.
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> rpc.commit("tx-ghost"));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
    assertTrue(
        e.getStatus().getDescription().contains("no record of this branch"),
        e.getStatus().getDescription());
    assertEquals(0, handler.commitCalls.get());
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-real", "a").getVote());
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit("tx-real").getOutcome());
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit("tx-real").getOutcome());
    assertEquals(Vote.VOTE_READ_ONLY, rpc.prepare("tx-ro2", "!readonly").getVote());
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit("tx-ro2").getOutcome());
  }

  @Test
  void prepareAfterRollbackVotesNo() {
    rpc.rollback("tx-late");
    rpc.rollback("tx-late");
    PrepareResponse r = rpc.prepare("tx-late", "a");
    assertEquals(Vote.VOTE_NO, r.getVote());
    assertTrue(r.getReason().contains("rolled back"), r.getReason());
    assertTrue(participant.engine().locks().owners().isEmpty());
  }

  @Test
  void rollbackOfPreparedBranchUndoesItOnce() {
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-rb", "a").getVote());
    rpc.rollback("tx-rb");
    rpc.rollback("tx-rb");
    assertEquals(List.of(), db.staged("tx-rb"));
    assertEquals(1, handler.rollbackCalls.get());
    assertTrue(participant.engine().locks().owners().isEmpty());
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> rpc.commit("tx-rb"));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
  }

  @Test
  void lockContentionVotesNoAfterTheWaitAndTheHolderStillCommits() {
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-first", "k").getVote());
    long t0 = System.nanoTime();
    PrepareResponse second = rpc.prepare("tx-second", "k");
    long waitedMs = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(Vote.VOTE_NO, second.getVote());
    assertTrue(second.getReason().contains("lock wait timed out"), second.getReason());
    assertTrue(waitedMs >= 150, "waited only " + waitedMs + " ms");
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit("tx-first").getOutcome());
    assertEquals(List.of("k"), db.applied("tx-first"));
    assertEquals(List.of(), db.staged("tx-second"));
    // The key is free again.
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-third", "k").getVote());
  }

  @Test
  void handlerThrowingInPrepareVotesNoAndReleasesLocks() {
    PrepareResponse r = rpc.prepare("tx-throw", "a,!fail");
    assertEquals(Vote.VOTE_NO, r.getVote());
    assertTrue(r.getReason().contains("scripted prepare failure"), r.getReason());
    assertTrue(participant.engine().locks().owners().isEmpty());
    assertEquals(List.of(), db.staged("tx-throw"));
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-after", "a").getVote());
  }

  /** A JDBC failure reaches the coordinator by its SQLState only: its text may quote SQL. */
  @Test
  void aHandlersSqlFailureIsReportedWithoutItsSql() {
    PrepareResponse r = rpc.prepare("tx-sql", "!badsql");
    assertEquals(Vote.VOTE_NO, r.getVote());
    assertTrue(
        r.getReason().startsWith("prepare failed: participant store unavailable (SQLState "),
        r.getReason());
    assertTrue(
        !r.getReason().contains("NO_SUCH_TABLE")
            && !r.getReason().contains("SELECT")
            && !r.getReason().contains("Exception"),
        r.getReason());
  }

  @Test
  void handlerThrowingInCommitIsRetriedUntilItSucceedsWithNothingLost() {
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-c", "a,b").getVote());
    handler.commitFailuresLeft.set(3);
    int failures = 0;
    while (true) {
      try {
        rpc.commit("tx-c");
        break;
      } catch (StatusRuntimeException e) {
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        failures++;
        // Still prepared, still locked, staged work intact.
        assertEquals(List.of("a", "b"), db.staged("tx-c"));
        assertEquals(List.of(), db.applied("tx-c"));
        assertEquals(1, rpc.listPrepared().getBranchesCount());
        assertTrue(rpc.listPrepared().getBranches(0).getLastError().contains("commit failed"));
        assertEquals(List.of("tx-c"), participant.engine().locks().holders("a"));
      }
    }
    assertEquals(3, failures);
    assertEquals(List.of("a", "b"), db.applied("tx-c"));
    assertEquals(List.of(), db.staged("tx-c"));
    assertTrue(participant.engine().locks().owners().isEmpty());
  }

  @Test
  void theOutcomeOfALostOnePhaseCommitTravelsInTheResponse() {
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commitOnePhase("tx-1p-lost", "a").getOutcome());
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.onePhaseOutcome("tx-1p-lost"));
    assertEquals(List.of("a"), db.applied("tx-1p-lost"), "asking undoes nothing");
    // Never arrived: rolled back and remembered, so the late one-phase commit aborts.
    assertEquals(Outcome.OUTCOME_ABORTED, rpc.onePhaseOutcome("tx-1p-never"));
    assertEquals(Outcome.OUTCOME_ABORTED, rpc.commitOnePhase("tx-1p-never", "b").getOutcome());
    assertEquals(List.of(), db.applied("tx-1p-never"));
    // A plain rollback of a committed branch is still refused.
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> rpc.rollback("tx-1p-lost"));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
  }

  @Test
  void onePhaseCommitRunsPrepareAndCommitLocallyAndRemembersTheOutcome() {
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commitOnePhase("tx-1p", "a").getOutcome());
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commitOnePhase("tx-1p", "a").getOutcome());
    assertEquals(List.of("a"), db.applied("tx-1p"));
    assertEquals(1, handler.commitCalls.get());

    var aborted = rpc.commitOnePhase("tx-1p-no", "b,!no");
    assertEquals(Outcome.OUTCOME_ABORTED, aborted.getOutcome());
    assertEquals("scripted no", aborted.getReason());
    assertEquals(aborted, rpc.commitOnePhase("tx-1p-no", "b"));
    assertEquals(List.of(), db.staged("tx-1p-no"));
    assertEquals(List.of(), db.applied("tx-1p-no"));
    assertTrue(participant.engine().locks().owners().isEmpty());
  }

  @Test
  void onePhaseCommitWhoseCommitHandlerFailsAbortsCleanly() {
    handler.commitFailuresLeft.set(1);
    var r = rpc.commitOnePhase("tx-1p-f", "a");
    assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
    assertEquals(List.of(), db.applied("tx-1p-f"));
    assertEquals(List.of(), db.staged("tx-1p-f"));
    assertTrue(participant.engine().locks().owners().isEmpty());
  }

  @Test
  void listPreparedShowsInDoubtBranchesWithTheirAge() {
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-old", "a").getVote());
    time.forward(Duration.ofSeconds(90));
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-new", "b").getVote());
    time.forward(Duration.ofSeconds(10));
    List<PreparedBranch> branches = rpc.listPrepared().getBranchesList();
    assertEquals(2, branches.size());
    assertEquals("tx-old", branches.get(0).getTxId());
    assertEquals(100, branches.get(0).getAge().getSeconds());
    assertEquals(List.of("a"), branches.get(0).getLockKeysList());
    assertEquals(coordinator.target(), branches.get(0).getCoordinator());
    assertEquals(NAME, branches.get(0).getParticipant());
    assertEquals(10, branches.get(1).getAge().getSeconds());
  }

  @Test
  void aSelfEnlistedPrepareWithoutStagedWorkVotesNo() {
    PrepareResponse r = rpc.prepare("tx-lost", "", true);
    assertEquals(Vote.VOTE_NO, r.getVote());
    assertTrue(r.getReason().contains("staged here for this transaction is gone"), r.getReason());
  }

  /** A client enlisted this participant with its work: no staged work is needed (or kept). */
  @Test
  void aClientEnlistedPrepareTakesItsWorkFromThePayload() {
    PrepareResponse r =
        rpc.stub()
            .prepare(
                PrepareRequest.newBuilder()
                    .setTxId("tx-client")
                    .setParticipant(NAME)
                    .setPayload(ByteString.copyFromUtf8("k-client"))
                    .setCoordinator(coordinator.target())
                    .setEnlisted(true)
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(10))
                    .build());
    assertEquals(Vote.VOTE_YES, r.getVote(), r.getReason());
    rpc.commit("tx-client");
    assertEquals(List.of("k-client"), db.applied("tx-client"));
  }

  @Test
  void badRequestsGetCanonicalCodes() {
    StatusRuntimeException bad =
        assertThrows(StatusRuntimeException.class, () -> rpc.prepare("bad id!", "a"));
    assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
    try (ParticipantClient other =
        new ParticipantClient(participant.port(), "other", coordinator.target())) {
      StatusRuntimeException e =
          assertThrows(StatusRuntimeException.class, () -> other.prepare("tx-x", "a"));
      assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    }
  }

  @Test
  void sharedLocksAreCompatibleWithEachOtherNotWithExclusive() {
    var locks = participant.engine().locks();
    locks.acquire("r1", "s", dev.twopc.participant.internal.LockManager.Mode.SHARED, 0);
    locks.acquire("r2", "s", dev.twopc.participant.internal.LockManager.Mode.SHARED, 0);
    PrepareResponse r = rpc.prepare("tx-w", "s");
    assertEquals(Vote.VOTE_NO, r.getVote());
    locks.releaseAll("r1");
    locks.releaseAll("r2");
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-w2", "s").getVote());
  }
}
