package dev.twopc.coordinator.internal.protocol;

import static dev.twopc.coordinator.internal.protocol.ScriptedTransport.Kind.ASK_ONE_PHASE;
import static dev.twopc.coordinator.internal.protocol.ScriptedTransport.Kind.COMMIT;
import static dev.twopc.coordinator.internal.protocol.ScriptedTransport.Kind.ONE_PHASE;
import static dev.twopc.coordinator.internal.protocol.ScriptedTransport.Kind.PREPARE;
import static dev.twopc.coordinator.internal.protocol.ScriptedTransport.Kind.ROLLBACK;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.internal.CoordinatorException;
import dev.twopc.coordinator.internal.CoordinatorException.Kind;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import dev.twopc.coordinator.internal.protocol.ScriptedTransport.Call;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import dev.twopc.coordinator.internal.transport.BranchCall;
import dev.twopc.coordinator.internal.transport.PrepareCall;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.testing.FakeClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The protocol's state machine, path by path, with a scripted transport, an in-memory log and a
 * fake clock: no network, no threads, no sleeps. Every answer a participant or the log gives is
 * given by the test, so each step and its order is asserted where it happens.
 */
class TransactionEngineTest {
  private static final Duration PREPARE_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration BACKOFF_CAP = Duration.ofSeconds(1);

  private final FakeClock time = new FakeClock();
  private final MemoryLog log = new MemoryLog();
  private final ScriptedTransport net = new ScriptedTransport("a", "b", "c");
  private final CoordinatorConfig config =
      CoordinatorConfig.builder()
          .dataDir(Path.of("unused-by-the-engine"))
          .clock(time.clock())
          .prepareTimeout(PREPARE_TIMEOUT)
          .defaultTransactionTimeout(Duration.ofSeconds(30))
          .phase2BackoffBase(Duration.ofMillis(100))
          .phase2BackoffCap(BACKOFF_CAP)
          .phase2CallTimeout(CALL_TIMEOUT)
          .shutdownGrace(Duration.ofMillis(1))
          .build();
  private final TransactionEngine engine =
      new TransactionEngine(
          config, log, log, net, time.scheduler(), time::nanoTime, CoordinatorMetrics.disabled());

  private static List<BranchSpec> branches(String... participants) {
    return java.util.Arrays.stream(participants)
        .map(p -> new BranchSpec(p, ("work for " + p).getBytes(UTF_8)))
        .toList();
  }

  private CompletableFuture<TxResult> execute(String... participants) {
    return engine.execute(branches(participants), null, null, Map.of(), false);
  }

  /** A two-branch Execute whose branches voted {@code a} and {@code b}, in that order. */
  private record Run(String id, CompletableFuture<TxResult> answer) {}

  private Run voted(Vote a, Vote b) {
    CompletableFuture<TxResult> answer = execute("a", "b");
    String id = net.pending(PREPARE, "a").txId;
    net.pending(PREPARE, "a").vote(a);
    net.pending(PREPARE, "b").vote(b);
    return new Run(id, answer);
  }

  private Tx tx(String txId) {
    return engine.liveTx(txId);
  }

  private Decided decision(String txId) {
    List<Decided> d =
        log.written().stream()
            .filter(Decided.class::isInstance)
            .map(Decided.class::cast)
            .filter(r -> r.txId().equals(txId))
            .toList();
    assertEquals(1, d.size(), "decision records of " + txId + ": " + d);
    return d.get(0);
  }

  private static void assertOutcome(Outcome expected, CompletableFuture<TxResult> f) {
    assertTrue(f.isDone(), "not answered yet");
    assertEquals(expected, f.join().outcome(), f.join().reason());
  }

  // ---------------------------------------------------------------- two-phase commit

  @Test
  void allYesCommitsOnlyOnceTheDecisionIsDurableThenFinishes() {
    CompletableFuture<TxResult> answer = execute("a", "b");
    Call pa = net.pending(PREPARE, "a");
    String id = pa.txId;
    assertEquals(TxState.PREPARING, tx(id).state());
    assertEquals(
        PREPARE_TIMEOUT.toMillis(), ((PrepareCall) pa.request).timeoutMillis(), "prepare timeout");
    pa.vote(Vote.YES);
    assertFalse(answer.isDone());

    log.hold(); // the COMMIT write is in flight
    net.pending(PREPARE, "b").vote(Vote.YES);
    assertEquals(TxState.DECIDING, tx(id).state());
    assertFalse(answer.isDone(), "COMMITTED before the decision is durable");
    assertEquals(0, net.count(COMMIT, "a"), "phase 2 before the decision is durable");

    log.release();
    assertOutcome(Outcome.OUTCOME_COMMITTED, answer);
    assertEquals(Decision.COMMIT, decision(id).decision());
    assertEquals(TxState.COMMITTING, tx(id).state());
    net.pending(COMMIT, "a").ack();
    assertEquals(0, log.count(Finished.class), "finished before every branch acknowledged");
    net.pending(COMMIT, "b").ack();

    assertEquals(1, log.count(Finished.class));
    assertTrue(engine.live(id).isEmpty(), "left once its end is written");
    StoredTransaction stored = log.find(id).orElseThrow();
    assertEquals(TxState.COMMITTED, stored.state());
    assertTrue(stored.branches().stream().allMatch(r -> r.state() == BranchState.COMMITTED));
  }

  @Test
  void aNoAbortsAtOnceRollsBackTheOthersAndALateYesChangesNothing() {
    CompletableFuture<TxResult> answer = execute("a", "b", "c");
    String id = net.pending(PREPARE, "a").txId;
    net.pending(PREPARE, "b").vote(Vote.YES);
    net.pending(PREPARE, "a").vote(Vote.NO, "out of stock");

    assertOutcome(Outcome.OUTCOME_ABORTED, answer);
    assertTrue(answer.join().reason().contains("participant a voted NO: out of stock"));
    assertEquals(Decision.ABORT, decision(id).decision());
    assertEquals(0, net.count(ROLLBACK, "a"), "a refused: nothing to undo");
    net.pending(ROLLBACK, "b").ack();
    Call c = net.pending(ROLLBACK, "c"); // not voted yet: rolled back too
    net.pending(PREPARE, "c").vote(Vote.YES); // late
    assertEquals(BranchState.ROLLING_BACK, tx(id).branches.get("c").state());
    assertEquals(1, log.count(Decided.class), "the decision never changes");
    c.ack();
    assertEquals(TxState.ABORTED, log.find(id).orElseThrow().state());
  }

  @Test
  void aLateReadOnlyVoteKeepsARollbackThatIsUnderWay() {
    CompletableFuture<TxResult> answer = execute("a", "b");
    String id = net.pending(PREPARE, "a").txId;
    net.pending(PREPARE, "a").vote(Vote.NO);
    assertOutcome(Outcome.OUTCOME_ABORTED, answer);
    Call rb = net.pending(ROLLBACK, "b");
    net.pending(PREPARE, "b").vote(Vote.READ_ONLY);
    rb.ack(); // the last branch's ack still finishes the transaction
    assertTrue(engine.live(id).isEmpty());
    assertEquals(1, log.count(Finished.class));
  }

  @Test
  void readOnlyBranchesLeavePhaseTwoAndAllReadOnlyStillLogsCommit() {
    Run run = voted(Vote.READ_ONLY, Vote.YES);
    String id = run.id();
    CompletableFuture<TxResult> answer = run.answer();
    assertOutcome(Outcome.OUTCOME_COMMITTED, answer);
    assertEquals(0, net.count(COMMIT, "a"));
    net.pending(COMMIT, "b").ack();
    assertTrue(engine.live(id).isEmpty());

    Run again = voted(Vote.READ_ONLY, Vote.READ_ONLY);
    String id2 = again.id();
    CompletableFuture<TxResult> none = again.answer();
    assertOutcome(Outcome.OUTCOME_COMMITTED, none);
    assertEquals(Decision.COMMIT, decision(id2).decision(), "what the client heard is logged");
    assertTrue(net.pending().isEmpty(), "no phase 2 at all");
    assertTrue(engine.live(id2).isEmpty());
  }

  @Test
  void aFailedPrepareAbortsAndRollsBackEveryBranchThatMayHavePrepared() {
    CompletableFuture<TxResult> answer = execute("a", "b");
    String id = net.pending(PREPARE, "a").txId;
    net.pending(PREPARE, "a").fail("UNAVAILABLE");
    assertOutcome(Outcome.OUTCOME_ABORTED, answer);
    assertEquals("prepare failed at a: UNAVAILABLE scripted", answer.join().reason());
    net.pending(ROLLBACK, "a").ack(); // it may have prepared before the call failed
    net.pending(PREPARE, "b").vote(Vote.YES);
    net.pending(ROLLBACK, "b").ack();
    assertTrue(engine.live(id).isEmpty());
  }

  @Test
  void anUndecidedTransactionIsAbortedAtItsDeadline() {
    CompletableFuture<TxResult> answer =
        engine.execute(branches("a", "b"), Duration.ofSeconds(3), null, Map.of(), false);
    String id = net.pending(PREPARE, "a").txId;
    assertEquals(3_000, ((PrepareCall) net.pending(PREPARE, "a").request).timeoutMillis());
    time.forward(Duration.ofMillis(2_999));
    assertFalse(answer.isDone());
    time.forward(Duration.ofMillis(1));
    assertOutcome(Outcome.OUTCOME_ABORTED, answer);
    assertTrue(answer.join().reason().startsWith("timed out"), answer.join().reason());
    assertEquals("timeout", decision(id).decidedBy());
    net.pending(PREPARE, "a").vote(Vote.YES); // too late
    assertEquals(Decision.ABORT, tx(id).decision);
  }

  @Test
  void aFailedCommitWriteAnswersUnknownThenLogsAbortInsertIfAbsent() {
    CompletableFuture<TxResult> answer = execute("a", "b");
    String id = net.pending(PREPARE, "a").txId;
    net.pending(PREPARE, "a").vote(Vote.YES);
    log.failNext(1);
    net.pending(PREPARE, "b").vote(Vote.YES);
    assertOutcome(Outcome.OUTCOME_UNKNOWN, answer);
    assertEquals(0, net.count(COMMIT, "a"), "never a COMMIT that is not in the log");
    assertEquals(TxState.DECIDING, tx(id).state());
    assertEquals(Outcome.OUTCOME_IN_PROGRESS, engine.outcome(id).join());

    time.forward(BACKOFF_CAP); // the ABORT retry
    assertEquals(Decision.ABORT, decision(id).decision());
    net.pending(ROLLBACK, "a").ack();
    net.pending(ROLLBACK, "b").ack();
    assertEquals(TxState.ABORTED, log.find(id).orElseThrow().state());
  }

  @Test
  void phaseTwoRetriesWithBackoffUntilAcknowledgedAndLogsTheFailedAttempts() {
    Run run = voted(Vote.YES, Vote.YES);
    String id = run.id();
    CompletableFuture<TxResult> answer = run.answer();
    assertOutcome(Outcome.OUTCOME_COMMITTED, answer);
    net.pending(COMMIT, "b").ack();
    for (int attempt = 1; attempt <= 4; attempt++) {
      Call c = net.pending(COMMIT, "a");
      assertEquals(attempt, ((BranchCall) c.request).attempt());
      c.fail("UNAVAILABLE");
      assertEquals(0, net.pending().size(), "waits out its backoff");
      assertTrue(time.nextDue().compareTo(BACKOFF_CAP.plusMillis(BACKOFF_CAP.toMillis() / 5)) <= 0);
      time.forward(time.nextDue());
    }
    BranchUpdated last =
        log.written().stream()
            .filter(BranchUpdated.class::isInstance)
            .map(BranchUpdated.class::cast)
            .filter(u -> u.participant().equals("a"))
            .reduce((x, y) -> y)
            .orElseThrow();
    assertEquals("UNAVAILABLE: scripted", last.lastError());
    assertEquals(4, last.attempts());
    net.pending(COMMIT, "a").ack();
    assertTrue(engine.live(id).isEmpty());
    assertEquals(5, log.find(id).orElseThrow().branches().get(0).attempts());
  }

  @Test
  void aNodeThatLostItsLeaseDropsWhatItRanAndCallsNoParticipantAgain() {
    Run run = voted(Vote.YES, Vote.YES);
    String id = run.id();
    assertOutcome(Outcome.OUTCOME_COMMITTED, run.answer());
    net.pending(COMMIT, "b").ack();
    net.pending(COMMIT, "a").fail("UNAVAILABLE"); // a retry is scheduled
    CompletableFuture<TxResult> waiting =
        engine.execute(branches("a", "b"), null, null, Map.of(), true);
    String other = net.pending(PREPARE, "a").txId;

    assertEquals(2, engine.abandonAll("lease lost"));
    assertTrue(engine.live(id).isEmpty() && engine.live(other).isEmpty());
    assertOutcome(Outcome.OUTCOME_UNKNOWN, waiting);
    assertEquals("lease lost", waiting.join().reason());
    time.forward(BACKOFF_CAP.multipliedBy(10));
    assertEquals(1, net.count(COMMIT, "a"), "the scheduled retry of a was cancelled");
    net.pending(PREPARE, "a").vote(Vote.YES);
    net.pending(PREPARE, "b").vote(Vote.YES);
    assertEquals(1, net.count(COMMIT, "b"), "no phase 2 from a node that dropped it");
  }

  @Test
  void anOperatorRetrySendsAWaitingBranchNow() {
    CompletableFuture<TxResult> onePhase = execute("a");
    // one branch without a key is one phase; use two
    net.pending(ONE_PHASE, "a").decided(true, "");
    assertEquals(Outcome.OUTCOME_COMMITTED, onePhase.join().outcome());
    Run run = voted(Vote.YES, Vote.YES);
    String id = run.id();
    net.pending(COMMIT, "a").fail("UNAVAILABLE");
    assertEquals("retry phase 2 now", engine.retryNow(id));
    net.pending(COMMIT, "a").ack();
    net.pending(COMMIT, "b").ack();
    assertTrue(engine.live(id).isEmpty());
  }

  // ---------------------------------------------------------------- one phase

  @Test
  void oneBranchCommitsInOnePhaseAfterItsForcedRecord() {
    log.hold();
    CompletableFuture<TxResult> answer = execute("a");
    assertTrue(net.pending().isEmpty(), "nothing sent before the ONE_PHASE record is durable");
    Begun begun;
    log.release();
    begun =
        log.written().stream()
            .filter(Begun.class::isInstance)
            .map(Begun.class::cast)
            .findFirst()
            .orElseThrow();
    assertEquals(TxState.ONE_PHASE, begun.state());
    Call c = net.pending(ONE_PHASE, "a");
    assertEquals(TxState.ONE_PHASE, tx(c.txId).state());
    c.decided(true, "");
    assertOutcome(Outcome.OUTCOME_COMMITTED, answer);
    assertEquals(TxState.COMMITTED, decision(c.txId).state());
    assertEquals(0, log.count(Finished.class), "the decision carried the end");
    assertTrue(engine.live(c.txId).isEmpty());
  }

  @Test
  void aOnePhaseRefusalAborts() {
    CompletableFuture<TxResult> answer = execute("a");
    net.pending(ONE_PHASE, "a").decided(false, "card declined");
    assertOutcome(Outcome.OUTCOME_ABORTED, answer);
    assertEquals("participant a refused: card declined", answer.join().reason());
  }

  @Test
  void aOnePhaseCallWithoutAnswerIsRepeatedAndNeverAbortedByTheDeadline() {
    CompletableFuture<TxResult> answer =
        engine.execute(branches("a"), Duration.ofSeconds(3), null, Map.of(), true);
    Call first = net.pending(ONE_PHASE, "a");
    first.fail("DEADLINE_EXCEEDED");
    assertFalse(answer.isDone(), "waiting for completion");
    assertEquals(Outcome.OUTCOME_IN_PROGRESS, engine.outcome(first.txId).join());
    time.forward(Duration.ofSeconds(10)); // past the deadline: only the participant decides
    assertEquals(TxState.ONE_PHASE, tx(first.txId).state());
    assertNull(tx(first.txId).decision);
    net.pending(ONE_PHASE, "a").decided(true, "");
    assertOutcome(Outcome.OUTCOME_COMMITTED, answer);
  }

  @Test
  void aOnePhaseCommitWhoseRecordFailsIsAbortedUnsent() {
    log.failNext(1);
    CompletableFuture<TxResult> answer = execute("a");
    assertOutcome(Outcome.OUTCOME_ABORTED, answer);
    assertEquals("the decision log is unavailable", answer.join().reason());
    assertEquals(0, net.count(ONE_PHASE, "a"));
  }

  // ---------------------------------------------------------------- interactive

  @Test
  void beginEnlistCommitAndTheRulesOfEnlisting() {
    TransactionEngine.Begun b = engine.begin(null, null, Map.of("order", "42"));
    assertEquals(1, log.count(Begun.class), "a Begin is logged (lazily)");
    engine.enlist(b.txId(), "a", new byte[0], true);
    engine.enlist(b.txId(), "a", new byte[0], false); // again: no-op
    engine.enlist(b.txId(), "b", "x".getBytes(UTF_8), false);
    CoordinatorException other =
        assertThrows(
            CoordinatorException.class,
            () -> engine.enlist(b.txId(), "b", "y".getBytes(UTF_8), false));
    assertEquals(Kind.FAILED_PRECONDITION, other.kind());
    assertEquals(
        Kind.NOT_FOUND,
        assertThrows(
                CoordinatorException.class,
                () -> engine.enlist(b.txId(), "nobody", new byte[0], false))
            .kind());

    CompletableFuture<TxResult> answer = engine.commit(b.txId(), false);
    PrepareCall pa = (PrepareCall) net.pending(PREPARE, "a").request;
    assertTrue(pa.enlisted() && pa.staged(), "a enlisted itself with staged work");
    assertEquals(
        Kind.FAILED_PRECONDITION,
        assertThrows(
                CoordinatorException.class, () -> engine.enlist(b.txId(), "c", new byte[0], false))
            .kind(),
        "enlisting after prepare began");
    assertTrue(engine.commit(b.txId(), false) == answer, "a repeated Commit: the same answer");
    net.pending(PREPARE, "a").vote(Vote.YES);
    net.pending(PREPARE, "b").vote(Vote.YES);
    assertOutcome(Outcome.OUTCOME_COMMITTED, answer);
  }

  @Test
  void aClientRollbackAbortsAndACommitAfterItIsRefused() {
    TransactionEngine.Begun b = engine.begin(null, null, Map.of());
    engine.enlist(b.txId(), "a", new byte[0], true);
    TxResult r = engine.rollback(b.txId(), "");
    assertEquals(Outcome.OUTCOME_ABORTED, r.outcome());
    assertEquals("rolled back by the client", r.reason());
    assertEquals(
        Kind.FAILED_PRECONDITION,
        assertThrows(CoordinatorException.class, () -> engine.commit(b.txId(), false)).kind());
    net.pending(ROLLBACK, "a").ack();
    assertEquals(Outcome.OUTCOME_ABORTED, engine.rollback(b.txId(), "again").outcome());
  }

  @Test
  void aDecidedCommitCannotBeRolledBack() {
    TransactionEngine.Begun b = engine.begin(null, null, Map.of());
    engine.enlist(b.txId(), "a", new byte[0], true);
    CompletableFuture<TxResult> committed = engine.commit(b.txId(), false);
    net.pending(PREPARE, "a").vote(Vote.YES);
    assertEquals(Outcome.OUTCOME_COMMITTED, committed.join().outcome());
    assertEquals(
        Kind.FAILED_PRECONDITION,
        assertThrows(CoordinatorException.class, () -> engine.rollback(b.txId(), "no")).kind());
  }

  // ---------------------------------------------------------------- idempotency

  @Test
  void anIdempotencyKeyNamesOneRequest() {
    CompletableFuture<TxResult> first =
        engine.execute(branches("a", "b"), null, "order-7", Map.of(), false);
    CompletableFuture<TxResult> again =
        engine.execute(branches("a", "b"), null, "order-7", Map.of(), false);
    assertTrue(first == again, "the retry waits on the same transaction");
    assertEquals(1, net.count(PREPARE, "a"));
    CoordinatorException other =
        assertThrows(
            CoordinatorException.class,
            () -> engine.execute(branches("a", "c"), null, "order-7", Map.of(), false));
    assertEquals(Kind.FAILED_PRECONDITION, other.kind());
    assertTrue(other.getMessage().contains("order-7"), other.getMessage());

    String id = net.pending(PREPARE, "a").txId;
    net.pending(PREPARE, "a").vote(Vote.YES);
    net.pending(PREPARE, "b").vote(Vote.YES);
    net.pending(COMMIT, "a").ack();
    net.pending(COMMIT, "b").ack();
    assertTrue(engine.live(id).isEmpty());
    // finished: answered from the log, still the same request only
    CompletableFuture<TxResult> later =
        engine.execute(branches("a", "b"), null, "order-7", Map.of(), false);
    assertOutcome(Outcome.OUTCOME_COMMITTED, later);
    assertEquals(id, later.join().txId());
    assertEquals(1, net.count(PREPARE, "a"));
  }

  // ---------------------------------------------------------------- outcomes

  @Test
  void getOutcomeNeverAnswersAbortedWhileCommitMayStillBeDecided() {
    CompletableFuture<TxResult> run = execute("a", "b");
    String id = net.pending(PREPARE, "a").txId;
    assertEquals(Outcome.OUTCOME_IN_PROGRESS, engine.outcome(id).join());
    net.pending(PREPARE, "a").vote(Vote.YES);
    log.hold();
    net.pending(PREPARE, "b").vote(Vote.YES);
    assertEquals(Outcome.OUTCOME_IN_PROGRESS, engine.outcome(id).join(), "COMMIT being written");
    assertFalse(run.isDone(), "nobody hears COMMIT before it is durable");
    log.release();
    assertEquals(Outcome.OUTCOME_COMMITTED, engine.outcome(id).join());
    assertEquals(Outcome.OUTCOME_COMMITTED, run.join().outcome());
    assertEquals(Outcome.OUTCOME_ABORTED, engine.outcome("never-seen").join(), "presumed abort");
  }

  // ---------------------------------------------------------------- operators

  @Test
  void anOperatorCommitAfterAFailedWriteWinsAndTheLaterAbortRetryChangesNothing() {
    CompletableFuture<TxResult> answer = execute("a", "b");
    String id = net.pending(PREPARE, "a").txId;
    net.pending(PREPARE, "a").vote(Vote.YES);
    log.failNext(1);
    net.pending(PREPARE, "b").vote(Vote.YES);
    assertOutcome(Outcome.OUTCOME_UNKNOWN, answer);

    CompletableFuture<TxResult> op = engine.operatorCommit(id);
    assertOutcome(Outcome.OUTCOME_COMMITTED, op);
    time.forward(BACKOFF_CAP); // the scheduled ABORT write: insert-if-absent finds COMMIT
    assertEquals(Decision.COMMIT, log.decisionOf(id).orElseThrow());
    assertEquals(TxState.COMMITTING, tx(id).state());
    assertEquals(0, net.count(ROLLBACK, "a"));
    net.pending(COMMIT, "a").ack();
    net.pending(COMMIT, "b").ack();
    assertEquals(TxState.COMMITTED, log.find(id).orElseThrow().state());
  }

  @Test
  void anUnknownIdThisCoordinatorCouldHaveIssuedIsAnsweredAbortedAfterATombstoneIsWritten() {
    String id = TxIds.newTxId(time.clock().millis() - 1_000);
    assertEquals(Outcome.OUTCOME_ABORTED, engine.outcome(id).join());
    Decided tombstone = decision(id);
    assertEquals(Decision.ABORT, tombstone.decision());
    assertEquals(TxState.ABORTED, tombstone.state(), "no branch is known: finished at once");
    assertEquals(Requests.TOMBSTONE_REASON, tombstone.abortReason());
    assertEquals(TxState.ABORTED, log.find(id).orElseThrow().state());
    // asked again: answered from the log, no second write
    assertEquals(Outcome.OUTCOME_ABORTED, engine.outcome(id).join());
    decision(id); // still exactly one decision record
  }

  @Test
  void idsNoCoordinatorIssuesNowAreAbortedWithoutAWrite() {
    long now = time.clock().millis();
    int before = log.written().size();
    assertEquals(Outcome.OUTCOME_ABORTED, engine.outcome("never-seen").join());
    assertEquals(
        Outcome.OUTCOME_ABORTED,
        engine.outcome(TxIds.newTxId(now + Duration.ofHours(1).toMillis())).join(),
        "from the future");
    assertEquals(
        Outcome.OUTCOME_ABORTED,
        engine.outcome(TxIds.newTxId(now - config.retention().toMillis() - 1_000)).join(),
        "older than the retention");
    assertEquals(before, log.written().size());
  }

  @Test
  void anUndecidedTransactionNoNodeRunsIsTombstonedAbortingWithItsBranches() {
    String id = TxIds.newTxId(time.clock().millis());
    log.seed(
        stored(
            id,
            TxState.PREPARING,
            null,
            row("a", 0, Vote.YES, BranchState.PREPARED),
            row("b", 1, null, BranchState.ENLISTED)));
    assertEquals(Outcome.OUTCOME_ABORTED, engine.outcome(id).join());
    StoredTransaction after = log.find(id).orElseThrow();
    assertEquals(Decision.ABORT, after.decision());
    assertEquals(
        TxState.ABORTING, after.state(), "unfinished: the liveness check resumes its rollbacks");
    assertEquals(2, after.branches().size());
  }

  /**
   * The race of spec/tla/TwoPhaseShared.tla's mutant outcome_no_tombstone, with two engines on one
   * log: the owner is still preparing when a participant asks the other node, which does not run
   * the transaction. The tombstone makes the owner's COMMIT find ABORT, and it aborts.
   */
  @Test
  void anOwnerStillPreparingFindsTheOtherNodesTombstoneAndAborts() {
    ScriptedTransport otherNet = new ScriptedTransport("a", "b", "c");
    TransactionEngine other =
        new TransactionEngine(
            config,
            log,
            log,
            otherNet,
            time.scheduler(),
            time::nanoTime,
            CoordinatorMetrics.disabled());
    CompletableFuture<TxResult> run = execute("a", "b");
    String id = net.pending(PREPARE, "a").txId;
    net.pending(PREPARE, "a").vote(Vote.YES);
    // a is in doubt and asks the other node, which answers from the log
    assertEquals(Outcome.OUTCOME_ABORTED, other.outcome(id).join());
    net.pending(PREPARE, "b").vote(Vote.YES);
    assertOutcome(Outcome.OUTCOME_ABORTED, run);
    assertEquals(Decision.ABORT, log.find(id).orElseThrow().decision());
    net.pending(ROLLBACK, "a").ack();
    net.pending(ROLLBACK, "b").ack();
    assertEquals(0, net.count(COMMIT, "a") + net.count(COMMIT, "b"), "nobody was told COMMIT");
  }

  @Test
  void anOperatorCommitIsRefusedWhereABranchHasNotVotedYesAndAnAbortIsNot() {
    CompletableFuture<TxResult> run = execute("a", "b");
    String id = net.pending(PREPARE, "a").txId;
    net.pending(PREPARE, "a").vote(Vote.YES);
    CoordinatorException e =
        assertThrows(CoordinatorException.class, () -> engine.operatorCommit(id));
    assertEquals(Kind.FAILED_PRECONDITION, e.kind());
    assertTrue(e.getMessage().contains("branch b has not voted YES"), e.getMessage());
    assertTrue(engine.operatorAbort(id, "operator: b is gone"));
    assertFalse(engine.operatorAbort(id, "twice"), "already decided");
    assertEquals(Outcome.OUTCOME_ABORTED, run.join().outcome());
    assertEquals("operator", decision(id).decidedBy());
  }

  // ---------------------------------------------------------------- recovery

  private static StoredTransaction stored(
      String id, TxState state, Decision decision, BranchRow... rows) {
    return new StoredTransaction(
        id,
        state,
        1,
        Long.MAX_VALUE / 2,
        decision,
        decision == null ? null : 2L,
        decision == null ? null : "protocol",
        decision == Decision.ABORT ? "before the crash" : null,
        null,
        null,
        Map.of(),
        List.of(rows),
        List.of());
  }

  private static BranchRow row(String p, int i, Vote vote, BranchState state) {
    return new BranchRow(p, i, "digest", vote, null, state, 0, null, null, null, null);
  }

  @Test
  void recoveryResumesACommitsPhaseTwo() {
    StoredTransaction s =
        stored(
            "tx-commit",
            TxState.COMMITTING,
            Decision.COMMIT,
            row("a", 0, Vote.YES, BranchState.COMMITTING),
            row("b", 1, Vote.YES, BranchState.COMMITTED));
    log.seed(s);
    engine.resume(s);
    assertEquals(0, net.count(COMMIT, "b"), "b acknowledged before the crash");
    assertEquals(Outcome.OUTCOME_COMMITTED, engine.outcome("tx-commit").join());
    net.pending(COMMIT, "a").ack();
    assertEquals(TxState.COMMITTED, log.find("tx-commit").orElseThrow().state());
  }

  @Test
  void recoveryAsksAOnePhaseParticipantForTheOutcome() {
    StoredTransaction s =
        stored("tx-one", TxState.ONE_PHASE, null, row("a", 0, null, BranchState.ENLISTED));
    log.seed(s);
    engine.resumeOnePhase(s);
    Call ask = net.pending(ASK_ONE_PHASE, "a");
    ask.fail("UNAVAILABLE");
    time.forward(time.nextDue());
    net.pending(ASK_ONE_PHASE, "a").decided(false, "rolled back after the coordinator restarted");
    assertEquals(Decision.ABORT, log.decisionOf("tx-one").orElseThrow());
    assertTrue(engine.live("tx-one").isEmpty());
  }

  // ---------------------------------------------------------------- liveness

  @Test
  void aCallThatNeverReturnsIsFoundStuckAndSentAgain() {
    Run run = voted(Vote.YES, Vote.YES);
    String id = run.id();
    net.pending(COMMIT, "b").ack();
    Call lost = net.pending(COMMIT, "a"); // never answers
    assertTrue(engine.stuck(0).isEmpty(), "in flight within its call timeout");
    time.forward(CALL_TIMEOUT.plusMillis(1));
    List<TransactionEngine.Stuck> stuck = engine.stuck(0);
    assertEquals(1, stuck.size(), stuck.toString());
    assertEquals(TxState.COMMITTING, stuck.get(0).state());
    engine.unstick(id);
    assertFalse(lost.answered());
    assertEquals(2, net.count(COMMIT, "a"));
    net.calls().get(net.calls().size() - 1).ack();
    assertTrue(engine.live(id).isEmpty());
  }

  // ---------------------------------------------------------------- admission

  @Test
  void noNewTransactionWhileTheLogIsUnhealthyOrTheEngineCloses() {
    log.healthy(false);
    assertEquals(
        Kind.UNAVAILABLE,
        assertThrows(CoordinatorException.class, () -> engine.begin(null, null, Map.of())).kind());
    log.healthy(true);
    assertEquals(
        Kind.NOT_FOUND,
        assertThrows(CoordinatorException.class, () -> execute("a", "nobody")).kind());
    engine.close();
    assertEquals(
        Kind.UNAVAILABLE,
        assertThrows(CoordinatorException.class, () -> engine.begin(null, null, Map.of())).kind());
  }

  @Test
  void theDeciderRefusesCommitWhileAnyBranchHasNotVotedForIt() {
    // The window a single thread cannot reach through the engine: a NO is set under the
    // transaction's lock and its abort runs after the lock is released; a YES in between must
    // not decide COMMIT.
    Backoff backoff = new Backoff(Duration.ofMillis(100), BACKOFF_CAP);
    PhaseTwo phaseTwo =
        new PhaseTwo(
            net,
            log,
            new Registry(log, log, 8),
            time.scheduler(),
            time.clock(),
            backoff,
            CALL_TIMEOUT.toMillis(),
            config.crashPoints(),
            CoordinatorMetrics.disabled());
    Decider decider =
        new Decider(
            log,
            phaseTwo,
            time.scheduler(),
            time.clock(),
            time::nanoTime,
            backoff,
            config.crashPoints(),
            config.tracing());
    Tx tx = new Tx("t", 0, 0, Long.MAX_VALUE, null, Map.of(), false);
    Branch a = new Branch("a", 0, new byte[0], "d", false);
    Branch b = new Branch("b", 1, new byte[0], "d", false);
    tx.branches.put("a", a);
    tx.branches.put("b", b);
    tx.moveTo(TxState.PREPARING);
    a.vote = Vote.YES;
    b.vote = Vote.NO;
    decider.decideCommit(tx);
    assertEquals(TxState.PREPARING, tx.state());
    assertEquals(0, log.count(Decided.class));
    b.vote = null;
    decider.decideCommit(tx);
    assertEquals(0, log.count(Decided.class), "a branch without a vote");
    b.vote = Vote.READ_ONLY;
    decider.decideCommit(tx);
    assertEquals(Decision.COMMIT, decision("t").decision());
  }

  // ---------------------------------------------------------------- the state machine's tables

  @Test
  void illegalTransitionsAreRefused() {
    Tx tx = new Tx("t", 0, 0, 0, null, Map.of(), false);
    assertThrows(IllegalStateException.class, () -> tx.moveTo(TxState.COMMITTING));
    tx.moveTo(TxState.PREPARING);
    assertThrows(IllegalStateException.class, () -> tx.moveTo(TxState.COMMITTED));
    tx.moveTo(TxState.DECIDING);
    tx.moveTo(TxState.COMMITTING);
    assertThrows(IllegalStateException.class, () -> tx.moveTo(TxState.ABORTING));
    tx.moveTo(TxState.COMMITTED);
    for (TxState s : TxState.values()) {
      assertEquals(s == TxState.COMMITTED, TxState.COMMITTED.canMoveTo(s), "final: " + s);
    }
    Branch b = new Branch("a", 0, new byte[0], "d", false);
    assertThrows(IllegalStateException.class, () -> b.moveTo(BranchState.COMMITTING));
    b.moveTo(BranchState.PREPARED);
    assertThrows(IllegalStateException.class, () -> b.moveTo(BranchState.READ_ONLY));
    b.moveTo(BranchState.ROLLING_BACK);
    assertThrows(IllegalStateException.class, () -> b.moveTo(BranchState.COMMITTED));
    b.moveTo(BranchState.ROLLED_BACK);
  }
}
