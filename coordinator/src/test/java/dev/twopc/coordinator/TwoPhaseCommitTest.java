package dev.twopc.coordinator;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.twopc.coordinator.testing.StoreKind;
import dev.twopc.coordinator.testing.TestStore;
import dev.twopc.coordinator.testing.TestStores;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BranchState;
import dev.twopc.proto.v1.CommitRequest;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.RollbackRequest;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.FakeParticipant.Behaviour;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TwoPhaseCommitTest {
  @RegisterExtension final TestStores stores = new TestStores();
  private TestStore store;

  /** This test's store: one per test, the same for every coordinator the test starts. */
  private TestStore store(StoreKind kind) throws IOException {
    if (store == null) {
      store = stores.create(kind);
    }
    return store;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void allYesCommitsEveryBranch(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      FakeParticipant c = h.participant("c");
      ExecuteResponse r = h.coordinator().execute(execute(a, b, c));
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome());
      await()
          .until(
              () ->
                  a.committed().contains(r.getTxId())
                      && b.committed().contains(r.getTxId())
                      && c.committed().contains(r.getTxId()));
      await()
          .until(
              () ->
                  h.coordinator()
                          .getTransaction(
                              GetTransactionRequest.newBuilder().setTxId(r.getTxId()).build())
                          .getState()
                      == TransactionState.TRANSACTION_STATE_COMMITTED);
      assertEquals(Outcome.OUTCOME_COMMITTED, outcome(h, r.getTxId()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void oneNoAbortsAndRollsBackTheOthers(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      FakeParticipant c = h.participant("c");
      b.behave(Behaviour.NO);
      ExecuteResponse r = h.coordinator().execute(execute(a, b, c));
      assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
      assertTrue(r.getReason().contains("b voted NO"), r.getReason());
      await()
          .until(
              () -> a.rolledBack().contains(r.getTxId()) && c.rolledBack().contains(r.getTxId()));
      assertTrue(a.committed().isEmpty() && b.committed().isEmpty() && c.committed().isEmpty());
      assertEquals(Outcome.OUTCOME_ABORTED, outcome(h, r.getTxId()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void prepareTimeoutAbortsAndRollsBack(StoreKind kind) throws Exception {
    try (CoordinatorHarness h =
        new CoordinatorHarness(store(kind), b -> b.prepareTimeout(Duration.ofMillis(300)))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant slow = h.participant("slow");
      slow.behave(Behaviour.HANG);
      ExecuteResponse r = h.coordinator().execute(execute(a, slow));
      assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
      assertTrue(r.getReason().contains("DEADLINE_EXCEEDED"), r.getReason());
      await()
          .until(
              () ->
                  a.rolledBack().contains(r.getTxId()) && slow.rolledBack().contains(r.getTxId()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void prepareErrorAborts(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant bad = h.participant("bad");
      bad.behave(Behaviour.ERROR);
      ExecuteResponse r = h.coordinator().execute(execute(a, bad));
      assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
      await().until(() -> a.rolledBack().contains(r.getTxId()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void readOnlyBranchesLeavePhaseTwo(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant ro = h.participant("ro");
      ro.behave(Behaviour.READ_ONLY);
      ExecuteResponse r = h.coordinator().execute(execute(a, ro));
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome());
      await().until(() -> a.committed().contains(r.getTxId()));
      await()
          .until(
              () ->
                  h.coordinator()
                          .getTransaction(
                              GetTransactionRequest.newBuilder().setTxId(r.getTxId()).build())
                          .getState()
                      == TransactionState.TRANSACTION_STATE_COMMITTED);
      assertFalse(ro.messages().contains("commit " + r.getTxId()));
      assertFalse(ro.messages().contains("rollback " + r.getTxId()));

      FakeParticipant ro2 = h.participant("ro2");
      ro2.behave(Behaviour.READ_ONLY);
      ExecuteResponse all = h.coordinator().execute(execute(ro, ro2));
      assertEquals(Outcome.OUTCOME_COMMITTED, all.getOutcome());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void singleBranchUsesOnePhaseCommit(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      ExecuteResponse r = h.coordinator().execute(execute(a));
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome());
      assertEquals(List.of("commit1p " + r.getTxId()), a.messages());
      a.behave(Behaviour.NO);
      ExecuteResponse refused = h.coordinator().execute(execute(a));
      assertEquals(Outcome.OUTCOME_ABORTED, refused.getOutcome());
      await()
          .until(
              () ->
                  h.coordinator()
                          .getTransaction(
                              GetTransactionRequest.newBuilder().setTxId(refused.getTxId()).build())
                          .getState()
                      == TransactionState.TRANSACTION_STATE_ABORTED);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void onePhaseFailureIsUnknownThenRetriedToAnAnswer(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      a.failCommits(2);
      ExecuteResponse r = h.coordinator().execute(execute(a));
      assertEquals(Outcome.OUTCOME_UNKNOWN, r.getOutcome());
      await().until(() -> a.committed().contains(r.getTxId()));
      await()
          .until(
              () ->
                  h.coordinator()
                          .getTransaction(
                              GetTransactionRequest.newBuilder().setTxId(r.getTxId()).build())
                          .getOutcome()
                      == Outcome.OUTCOME_COMMITTED);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void phaseTwoIsRetriedUntilAcknowledgedAndParked(StoreKind kind) throws Exception {
    try (CoordinatorHarness h =
        new CoordinatorHarness(store(kind), b -> b.parkAfter(Duration.ofMillis(50)))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      b.phase2Down(true);
      ExecuteResponse r = h.coordinator().execute(execute(a, b));
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome());
      await()
          .until(
              () -> {
                TransactionView v =
                    h.admin()
                        .getTransaction(
                            dev.twopc.proto.v1.AdminGetTransactionRequest.newBuilder()
                                .setTxId(r.getTxId())
                                .build());
                return v.getParked()
                    && v.getInDoubt()
                    && v.getBranches(1).getAttempts() >= 3
                    && v.getBranches(1).getLastError().contains("UNAVAILABLE");
              });
      b.phase2Down(false);
      await().until(() -> b.committed().contains(r.getTxId()));
      await()
          .until(
              () ->
                  h.coordinator()
                          .getTransaction(
                              GetTransactionRequest.newBuilder().setTxId(r.getTxId()).build())
                          .getState()
                      == TransactionState.TRANSACTION_STATE_COMMITTED);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void duplicateCommitAndLateMessagesAreHarmless(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      String tx = h.coordinator().begin(BeginRequest.getDefaultInstance()).getTxId();
      h.coordinator().enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant("a").build());
      h.coordinator().enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant("b").build());
      // enlisting twice is a no-op
      h.coordinator().enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant("b").build());
      CommitRequest commit = CommitRequest.newBuilder().setTxId(tx).build();
      assertEquals(Outcome.OUTCOME_COMMITTED, h.coordinator().commit(commit).getOutcome());
      assertEquals(Outcome.OUTCOME_COMMITTED, h.coordinator().commit(commit).getOutcome());
      await().until(() -> a.committed().contains(tx) && b.committed().contains(tx));
      assertEquals(1, a.messages().stream().filter(m -> m.equals("prepare " + tx)).count());
      // enlist after the decision, rollback after commit: refused, nothing changes
      StatusRuntimeException late =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.coordinator()
                      .enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant("a").build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, late.getStatus().getCode());
      StatusRuntimeException rb =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () -> h.coordinator().rollback(RollbackRequest.newBuilder().setTxId(tx).build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, rb.getStatus().getCode());
      assertEquals(Outcome.OUTCOME_COMMITTED, outcome(h, tx));
    }
  }

  /**
   * Who may Enlist: a client with the branch's work as payload, or the participant itself
   * (staged=true), or both; Prepare tells the participant which. A repeat naming another payload is
   * refused instead of silently dropping that work.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void clientsAndParticipantsMayEnlistAndPrepareSaysWhichDid(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      FakeParticipant c = h.participant("c");
      String tx = h.coordinator().begin(BeginRequest.getDefaultInstance()).getTxId();
      EnlistRequest byClient =
          EnlistRequest.newBuilder()
              .setTxId(tx)
              .setParticipant("a")
              .setPayload(ByteString.copyFromUtf8("work-a"))
              .build();
      h.coordinator().enlist(byClient);
      h.coordinator().enlist(byClient); // the same again: a no-op
      h.coordinator().enlist(byClient.toBuilder().clearPayload().build()); // none: a no-op
      StatusRuntimeException other =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.coordinator()
                      .enlist(
                          byClient.toBuilder()
                              .setPayload(ByteString.copyFromUtf8("other"))
                              .build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, other.getStatus().getCode());
      assertTrue(
          other
              .getStatus()
              .getDescription()
              .contains(
                  "participant a is already enlisted"
                      + " in transaction "
                      + tx
                      + " with another payload"),
          other.getStatus().toString());
      h.coordinator()
          .enlist(
              EnlistRequest.newBuilder().setTxId(tx).setParticipant("b").setStaged(true).build());
      StatusRuntimeException none =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.coordinator()
                      .enlist(
                          EnlistRequest.newBuilder()
                              .setTxId(tx)
                              .setParticipant("b")
                              .setPayload(ByteString.copyFromUtf8("late"))
                              .build()));
      assertTrue(
          none.getStatus().getDescription().contains("without a payload"),
          none.getStatus().toString());
      // c: a client hands it work, then c's own business call enlists it too
      h.coordinator()
          .enlist(
              EnlistRequest.newBuilder()
                  .setTxId(tx)
                  .setParticipant("c")
                  .setPayload(ByteString.copyFromUtf8("work-c"))
                  .build());
      h.coordinator()
          .enlist(
              EnlistRequest.newBuilder().setTxId(tx).setParticipant("c").setStaged(true).build());
      assertEquals(
          Outcome.OUTCOME_COMMITTED,
          h.coordinator().commit(CommitRequest.newBuilder().setTxId(tx).build()).getOutcome());
      PrepareRequest pa = a.prepareRequests().get(0);
      PrepareRequest pb = b.prepareRequests().get(0);
      PrepareRequest pc = c.prepareRequests().get(0);
      assertEquals(
          List.of(true, false, "work-a"),
          List.of(pa.getEnlisted(), pa.getStaged(), pa.getPayload().toStringUtf8()));
      assertEquals(
          List.of(true, true, ""),
          List.of(pb.getEnlisted(), pb.getStaged(), pb.getPayload().toStringUtf8()));
      assertEquals(
          List.of(true, true, "work-c"),
          List.of(pc.getEnlisted(), pc.getStaged(), pc.getPayload().toStringUtf8()));
      // Execute's branches joined by no Enlist
      String ex = h.coordinator().execute(execute(a, b)).getTxId();
      PrepareRequest pe =
          a.prepareRequests().stream()
              .filter(r -> r.getTxId().equals(ex))
              .findFirst()
              .orElseThrow();
      assertEquals(List.of(false, false), List.of(pe.getEnlisted(), pe.getStaged()));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void interactiveRollbackAndCommitOfAbortedTransaction(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      String tx = h.coordinator().begin(BeginRequest.getDefaultInstance()).getTxId();
      h.coordinator().enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant("a").build());
      assertEquals(
          Outcome.OUTCOME_ABORTED,
          h.coordinator()
              .rollback(
                  RollbackRequest.newBuilder().setTxId(tx).setReason("changed my mind").build())
              .getOutcome());
      await().until(() -> a.rolledBack().contains(tx));
      StatusRuntimeException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () -> h.coordinator().commit(CommitRequest.newBuilder().setTxId(tx).build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
      // a late prepare (after the rollback) is refused by the participant
      assertEquals(Outcome.OUTCOME_ABORTED, outcome(h, tx));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void activeTransactionPastItsDeadlineIsAborted(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      String tx =
          h.coordinator()
              .begin(
                  BeginRequest.newBuilder()
                      .setTimeout(com.google.protobuf.Duration.newBuilder().setNanos(200_000_000))
                      .build())
              .getTxId();
      h.coordinator().enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant("a").build());
      await().until(() -> a.rolledBack().contains(tx));
      TransactionView v =
          h.coordinator().getTransaction(GetTransactionRequest.newBuilder().setTxId(tx).build());
      assertEquals(Outcome.OUTCOME_ABORTED, v.getOutcome());
      assertTrue(v.getAbortReason().contains("timed out"), v.getAbortReason());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void idempotencyKeyReturnsTheSameTransactionAndOutcome(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      ExecuteRequest req = execute(a, b).toBuilder().setIdempotencyKey("order-42").build();
      ExecuteResponse first = h.coordinator().execute(req);
      ExecuteResponse again = h.coordinator().execute(req);
      assertEquals(first.getTxId(), again.getTxId());
      assertEquals(Outcome.OUTCOME_COMMITTED, again.getOutcome());
      await()
          .until(
              () ->
                  h.coordinator()
                          .getTransaction(
                              GetTransactionRequest.newBuilder().setTxId(first.getTxId()).build())
                          .getState()
                      == TransactionState.TRANSACTION_STATE_COMMITTED);
      ExecuteResponse later = h.coordinator().execute(req);
      assertEquals(first.getTxId(), later.getTxId());
      assertEquals(Outcome.OUTCOME_COMMITTED, later.getOutcome());
      assertEquals(1, a.messages().stream().filter(m -> m.startsWith("prepare")).count());

      // a keyed single branch still runs both phases, so a retry can never apply it twice
      ExecuteRequest single = execute(a).toBuilder().setIdempotencyKey("single").build();
      ExecuteResponse s1 = h.coordinator().execute(single);
      assertEquals(s1.getTxId(), h.coordinator().execute(single).getTxId());
      assertTrue(a.messages().contains("prepare " + s1.getTxId()));

      String begun =
          h.coordinator().begin(BeginRequest.newBuilder().setIdempotencyKey("k").build()).getTxId();
      assertEquals(
          begun,
          h.coordinator()
              .begin(BeginRequest.newBuilder().setIdempotencyKey("k").build())
              .getTxId());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void idempotencyKeyWithADifferentRequestIsRefusedAtOnceNamingTheKey(StoreKind kind)
      throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      ExecuteRequest req = execute(a, b).toBuilder().setIdempotencyKey("order-7").build();
      ExecuteResponse first = h.coordinator().execute(req);
      assertEquals(Outcome.OUTCOME_COMMITTED, first.getOutcome());

      // Other branches, another payload: refused, naming the key; nothing new is prepared.
      for (ExecuteRequest other :
          List.of(
              execute(a).toBuilder().setIdempotencyKey("order-7").build(),
              req.toBuilder()
                  .setBranches(
                      1,
                      req.getBranches(1).toBuilder()
                          .setPayload(ByteString.copyFromUtf8("other work")))
                  .build())) {
        StatusRuntimeException e =
            assertThrows(StatusRuntimeException.class, () -> h.coordinator().execute(other));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertTrue(
            e.getStatus().getDescription().contains("order-7"), e.getStatus().getDescription());
      }
      await()
          .until(
              () ->
                  h.coordinator()
                          .getTransaction(
                              GetTransactionRequest.newBuilder().setTxId(first.getTxId()).build())
                          .getState()
                      == TransactionState.TRANSACTION_STATE_COMMITTED);
      // Also once it finished (answered from the log), and the same request still gets its answer.
      StatusRuntimeException late =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.coordinator()
                      .execute(execute(b, a).toBuilder().setIdempotencyKey("order-7").build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, late.getStatus().getCode());
      assertEquals(first.getTxId(), h.coordinator().execute(req).getTxId());
      assertEquals(1, a.messages().stream().filter(m -> m.startsWith("prepare")).count());

      // A key held by an open interactive transaction: an Execute with it answers at once,
      // (before this, it waited until that transaction timed out).
      String begun =
          h.coordinator()
              .begin(
                  BeginRequest.newBuilder()
                      .setIdempotencyKey("cart-1")
                      .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(600))
                      .build())
              .getTxId();
      StatusRuntimeException open =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.coordinator()
                      .withDeadlineAfter(20, java.util.concurrent.TimeUnit.SECONDS)
                      .execute(execute(a).toBuilder().setIdempotencyKey("cart-1").build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, open.getStatus().getCode());
      assertTrue(
          open.getStatus().getDescription().contains(begun), open.getStatus().getDescription());
      // and a Begin with an Execute's key is refused too
      StatusRuntimeException begin =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.coordinator()
                      .begin(BeginRequest.newBuilder().setIdempotencyKey("order-7").build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, begin.getStatus().getCode());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void getTransactionByKeyAndPresumedAbortForAnIdWithNoRecord(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      ExecuteResponse r =
          h.coordinator().execute(execute(a, b).toBuilder().setIdempotencyKey("pay-9").build());
      TransactionView byKey =
          h.coordinator()
              .getTransaction(
                  GetTransactionRequest.newBuilder().setIdempotencyKey("pay-9").build());
      assertEquals(r.getTxId(), byKey.getTxId());
      assertEquals(Outcome.OUTCOME_COMMITTED, byKey.getOutcome());

      StatusRuntimeException none =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.coordinator()
                      .getTransaction(
                          GetTransactionRequest.newBuilder()
                              .setIdempotencyKey("never-used")
                              .build()));
      assertEquals(Status.Code.NOT_FOUND, none.getStatus().getCode());
      assertTrue(none.getStatus().getDescription().contains("never-used"));

      // An id of this coordinator's form, issued now, that the log has no record of: presumed
      // abort answers ABORTED instead of NOT_FOUND.
      String recent =
          new java.util.UUID((System.currentTimeMillis() << 16) | 0x7123L, 0x8000000000000042L)
              .toString();
      TransactionView presumed =
          h.coordinator()
              .getTransaction(GetTransactionRequest.newBuilder().setTxId(recent).build());
      assertEquals(Outcome.OUTCOME_ABORTED, presumed.getOutcome());
      assertTrue(presumed.getAbortReason().contains("presumed aborted"));
      // Older than the retention (7 days by default), or not an id it issues: NOT_FOUND.
      String old =
          new java.util.UUID(
                  ((System.currentTimeMillis() - Duration.ofDays(8).toMillis()) << 16) | 0x7123L,
                  0x8000000000000042L)
              .toString();
      for (String id : List.of(old, "not-a-uuid")) {
        StatusRuntimeException e =
            assertThrows(
                StatusRuntimeException.class,
                () ->
                    h.coordinator()
                        .getTransaction(GetTransactionRequest.newBuilder().setTxId(id).build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), id);
      }
      StatusRuntimeException both =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.coordinator()
                      .getTransaction(
                          GetTransactionRequest.newBuilder()
                              .setTxId(r.getTxId())
                              .setIdempotencyKey("pay-9")
                              .build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, both.getStatus().getCode());
    }
  }

  @ParameterizedTest(name = "{0}")
  // On the PostgreSQL log this caught a NO branch answered COMMITTED: a YES arriving between a
  // NO's vote and its abort took the transaction to COMMIT (TransactionEngine.decideCommit).
  @EnumSource(StoreKind.class)
  void manyConcurrentTransactionsAreIndependent(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      FakeParticipant no = h.participant("no");
      no.behave(Behaviour.NO);
      ExecutorService pool = Executors.newFixedThreadPool(16);
      try {
        List<CompletableFuture<ExecuteResponse>> futures = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
          ExecuteRequest req = i % 4 == 0 ? execute(a, b, no) : execute(a, b);
          futures.add(CompletableFuture.supplyAsync(() -> h.coordinator().execute(req), pool));
        }
        for (int i = 0; i < futures.size(); i++) {
          ExecuteResponse r = futures.get(i).get();
          assertEquals(
              i % 4 == 0 ? Outcome.OUTCOME_ABORTED : Outcome.OUTCOME_COMMITTED,
              r.getOutcome(),
              r.getReason());
        }
        await()
            .until(
                () ->
                    a.committed().size() == 300
                        && b.committed().size() == 300
                        && a.rolledBack().size() == 100
                        && b.rolledBack().size() == 100);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void waitForCompletionAnswersAfterEveryAcknowledgement(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      b.failCommits(3);
      ExecuteResponse r =
          h.coordinator().execute(execute(a, b).toBuilder().setWaitForCompletion(true).build());
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome());
      assertTrue(b.committed().contains(r.getTxId()));
      TransactionView v =
          h.coordinator()
              .getTransaction(GetTransactionRequest.newBuilder().setTxId(r.getTxId()).build());
      assertEquals(BranchState.BRANCH_STATE_COMMITTED, v.getBranches(1).getState());
      assertEquals(4, v.getBranches(1).getAttempts());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void unknownTransactionIsPresumedAborted(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      assertEquals(Outcome.OUTCOME_ABORTED, outcome(h, "never-heard-of-it"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void payloadReachesTheParticipant(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      h.participant("a");
      FakeParticipant b = h.participant("b");
      b.phase2Down(true);
      ExecuteRequest req =
          ExecuteRequest.newBuilder()
              .addBranches(
                  dev.twopc.proto.v1.BranchRequest.newBuilder()
                      .setParticipant("a")
                      .setPayload(ByteString.copyFromUtf8("sku=1")))
              .addBranches(dev.twopc.proto.v1.BranchRequest.newBuilder().setParticipant("b"))
              .build();
      ExecuteResponse r = h.coordinator().execute(req);
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome());
      assertTrue(b.prepared().contains(r.getTxId()));
    }
  }

  private static Outcome outcome(CoordinatorHarness h, String tx) {
    return h.coordinator()
        .getOutcome(GetOutcomeRequest.newBuilder().setTxId(tx).setParticipant("a").build())
        .getOutcome();
  }
}
