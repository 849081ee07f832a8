package dev.twopc.coordinator;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.testing.StoreKind;
import dev.twopc.coordinator.testing.TestStore;
import dev.twopc.coordinator.testing.TestStores;
import dev.twopc.proto.v1.AdminGetTransactionRequest;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.ListTransactionsResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.Resolution;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.FakeParticipant;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AdminAndRecoveryTest {
  @TempDir Path dir;
  @RegisterExtension final TestStores stores = new TestStores();
  private TestStore store;

  /** This test's store: one per test, the same for every coordinator the test starts. */
  private TestStore store(StoreKind kind) throws IOException {
    if (store == null) {
      store = stores.create(kind);
    }
    return store;
  }

  private static TransactionView show(CoordinatorHarness h, String tx) {
    return h.admin().getTransaction(AdminGetTransactionRequest.newBuilder().setTxId(tx).build());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void inDoubtIsListedUnsafeAbortIsRefusedAndTheTransactionCompletes(StoreKind kind)
      throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      b.phase2Down(true);
      ExecuteResponse r = h.coordinator().execute(execute(a, b));
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome());
      await()
          .until(
              () -> {
                ListTransactionsResponse l =
                    h.admin()
                        .listTransactions(
                            ListTransactionsRequest.newBuilder().setInDoubt(true).build());
                return l.getTransactionsCount() == 1
                    && l.getTransactions(0).getBranches(1).getLastError().contains("b is down");
              });
      assertEquals(
          1,
          h
              .coordinator()
              .listParticipants(ListParticipantsRequest.getDefaultInstance())
              .getParticipantsList()
              .stream()
              .filter(p -> p.getName().equals("b"))
              .findFirst()
              .orElseThrow()
              .getInDoubtBranches());

      StatusRuntimeException refused =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.admin()
                      .resolveTransaction(
                          ResolveTransactionRequest.newBuilder()
                              .setTxId(r.getTxId())
                              .setResolution(Resolution.RESOLUTION_ABORT)
                              .setReason("b looks dead")
                              .setOperator("alice")
                              .build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
      assertTrue(refused.getStatus().getDescription().contains("decided COMMIT"));
      TransactionView after = show(h, r.getTxId());
      assertEquals(Outcome.OUTCOME_COMMITTED, after.getOutcome());
      assertEquals(1, after.getOperatorActionsCount());
      assertFalse(after.getOperatorActions(0).getAccepted());
      assertEquals("alice", after.getOperatorActions(0).getOperator());

      h.admin()
          .retryTransaction(
              RetryTransactionRequest.newBuilder()
                  .setTxId(r.getTxId())
                  .setOperator("alice")
                  .build());
      b.phase2Down(false);
      await().until(() -> b.committed().contains(r.getTxId()));
      await()
          .until(
              () ->
                  h.admin()
                          .listTransactions(
                              ListTransactionsRequest.newBuilder().setInDoubt(true).build())
                          .getTransactionsCount()
                      == 0);
      assertTrue(a.rolledBack().isEmpty() && b.rolledBack().isEmpty());
      TransactionView done = show(h, r.getTxId());
      assertEquals(TransactionState.TRANSACTION_STATE_COMMITTED, done.getState());
      assertTrue(done.getTimelineList().stream().anyMatch(e -> e.getKind().equals("DECIDED")));
      assertEquals(
          2,
          done.getTimelineList().stream().filter(e -> e.getKind().equals("ACKNOWLEDGED")).count());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void operatorAbortOfUndecidedAndRefusedCommitWithoutVotes(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      String tx = h.coordinator().begin(BeginRequest.getDefaultInstance()).getTxId();
      h.coordinator().enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant("a").build());
      // tx retry works on an undecided transaction too: nothing to hurry, said and recorded.
      TransactionView retried =
          h.admin()
              .retryTransaction(
                  RetryTransactionRequest.newBuilder().setTxId(tx).setOperator("bob").build());
      assertEquals(TransactionState.TRANSACTION_STATE_ACTIVE, retried.getState());
      StatusRuntimeException noVotes =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.admin()
                      .resolveTransaction(
                          ResolveTransactionRequest.newBuilder()
                              .setTxId(tx)
                              .setResolution(Resolution.RESOLUTION_COMMIT)
                              .setReason("push it")
                              .setOperator("bob")
                              .build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, noVotes.getStatus().getCode());
      assertTrue(noVotes.getStatus().getDescription().contains("has not voted YES"));
      TransactionView v =
          h.admin()
              .resolveTransaction(
                  ResolveTransactionRequest.newBuilder()
                      .setTxId(tx)
                      .setResolution(Resolution.RESOLUTION_ABORT)
                      .setReason("client vanished")
                      .setOperator("bob")
                      .build());
      assertEquals(Outcome.OUTCOME_ABORTED, v.getOutcome());
      await().until(() -> a.rolledBack().contains(tx));
      TransactionView shown = show(h, tx);
      assertEquals(3, shown.getOperatorActionsCount());
      assertTrue(
          shown.getOperatorActions(0).getReason().contains("nothing to retry"),
          shown.getOperatorActions(0).getReason());
      assertTrue(shown.getOperatorActions(2).getAccepted());
      assertTrue(shown.getAbortReason().contains("client vanished"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void listingPagesThroughManyTransactions(StoreKind kind) throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      FakeParticipant a = h.participant("a");
      for (int i = 0; i < 250; i++) {
        h.coordinator().execute(execute(a));
      }
      Set<String> seen = new HashSet<>();
      String token = "";
      int pages = 0;
      await()
          .until(
              () ->
                  h.admin()
                          .listTransactions(
                              ListTransactionsRequest.newBuilder().setPageSize(1000).build())
                          .getTransactionsCount()
                      == 250);
      do {
        ListTransactionsResponse page =
            h.admin()
                .listTransactions(
                    ListTransactionsRequest.newBuilder()
                        .setPageSize(100)
                        .setPageToken(token)
                        .build());
        page.getTransactionsList().forEach(t -> seen.add(t.getTxId()));
        token = page.getNextPageToken();
        pages++;
      } while (!token.isEmpty());
      assertEquals(250, seen.size());
      assertEquals(3, pages);
      assertEquals(
          0,
          h.admin()
              .listTransactions(
                  ListTransactionsRequest.newBuilder()
                      .addStates(TransactionState.TRANSACTION_STATE_ABORTED)
                      .build())
              .getTransactionsCount());
      assertEquals(
          0,
          h.admin()
              .listTransactions(
                  ListTransactionsRequest.newBuilder()
                      .setOlderThan(com.google.protobuf.Duration.newBuilder().setSeconds(3600))
                      .build())
              .getTransactionsCount());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void restartResumesCommitsAndAbortsUndecided(StoreKind kind) throws Exception {
    String committing;
    String active;
    FakeParticipant a;
    FakeParticipant b;
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      a = h.participant("a");
      b = h.participant("b");
      b.phase2Down(true);
      committing = h.coordinator().execute(execute(a, b)).getTxId();
      active = h.coordinator().begin(BeginRequest.getDefaultInstance()).getTxId();
      h.coordinator()
          .enlist(EnlistRequest.newBuilder().setTxId(active).setParticipant("a").build());
      h.cluster.restart(); // the participants keep running
      assertEquals(new RecoverySummary(1, 0, 1, 0), h.server().recoverySummary());
      await().until(() -> a.rolledBack().contains(active));
      b.phase2Down(false);
      await().until(() -> b.committed().contains(committing) && a.committed().contains(committing));
      await()
          .until(
              () ->
                  h.coordinator()
                          .getTransaction(
                              GetTransactionRequest.newBuilder().setTxId(committing).build())
                          .getState()
                      == TransactionState.TRANSACTION_STATE_COMMITTED);
      assertEquals(
          Outcome.OUTCOME_ABORTED,
          h.coordinator()
              .getTransaction(GetTransactionRequest.newBuilder().setTxId(active).build())
              .getOutcome());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void anAllReadOnlyCommitStaysCommittedAcrossARestart(StoreKind kind) throws Exception {
    // Nothing to commit anywhere, but the client was told COMMITTED: before, no decision was
    // written, so recovery aborted the keyed one and the unkeyed one had no record at all.
    String keyed;
    String unkeyed;
    FakeParticipant a;
    FakeParticipant b;
    try (CoordinatorHarness h = new CoordinatorHarness(store(kind))) {
      a = h.participant("a");
      b = h.participant("b");
      a.behave(FakeParticipant.Behaviour.READ_ONLY);
      b.behave(FakeParticipant.Behaviour.READ_ONLY);
      ExecuteResponse k =
          h.coordinator()
              .execute(execute(a, b).toBuilder().setIdempotencyKey("read-only-1").build());
      ExecuteResponse u = h.coordinator().execute(execute(a, b));
      assertEquals(Outcome.OUTCOME_COMMITTED, k.getOutcome());
      assertEquals(Outcome.OUTCOME_COMMITTED, u.getOutcome());
      keyed = k.getTxId();
      unkeyed = u.getTxId();
      h.cluster.restart();
      for (String id : List.of(keyed, unkeyed)) {
        assertEquals(
            Outcome.OUTCOME_COMMITTED,
            h.coordinator()
                .getTransaction(GetTransactionRequest.newBuilder().setTxId(id).build())
                .getOutcome(),
            id);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void finishedTransactionsArePrunedAfterRetention(StoreKind kind) throws Exception {
    try (CoordinatorHarness h =
        new CoordinatorHarness(
            store(kind),
            c ->
                c.retention(Duration.ofMillis(1))
                    .pruneInterval(Duration.ofMillis(100))
                    .pruneBatchSize(7))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      String tx = null;
      for (int i = 0; i < 20; i++) {
        tx =
            h.coordinator()
                .execute(execute(a, b).toBuilder().setWaitForCompletion(true).build())
                .getTxId();
      }
      String last = tx;
      await()
          .until(
              () ->
                  h.admin()
                          .listTransactions(ListTransactionsRequest.getDefaultInstance())
                          .getTransactionsCount()
                      == 0);
      StatusRuntimeException gone =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  h.coordinator()
                      .getTransaction(GetTransactionRequest.newBuilder().setTxId(last).build()));
      assertEquals(Status.Code.NOT_FOUND, gone.getStatus().getCode());
    }
  }

  @Test
  void healthAndReflectionAreServed() throws Exception {
    try (CoordinatorHarness h = new CoordinatorHarness(dir)) {
      HealthCheckResponse health =
          HealthGrpc.newBlockingStub(h.channel())
              .check(HealthCheckRequest.newBuilder().setService("twopc.v1.Coordinator").build());
      assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
      var reflection = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(h.channel());
      java.util.concurrent.CompletableFuture<java.util.List<String>> names =
          new java.util.concurrent.CompletableFuture<>();
      var requests =
          reflection.serverReflectionInfo(
              new io.grpc.stub.StreamObserver<io.grpc.reflection.v1.ServerReflectionResponse>() {
                @Override
                public void onNext(io.grpc.reflection.v1.ServerReflectionResponse r) {
                  names.complete(
                      r.getListServicesResponse().getServiceList().stream()
                          .map(io.grpc.reflection.v1.ServiceResponse::getName)
                          .toList());
                }

                @Override
                public void onError(Throwable t) {
                  names.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {}
              });
      requests.onNext(
          io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
      assertTrue(
          names
              .get()
              .containsAll(
                  java.util.List.of(
                      "twopc.v1.Coordinator", "twopc.v1.Admin", "grpc.health.v1.Health")),
          names.get().toString());
      requests.onCompleted();
    }
  }
}
