package dev.twopc.coordinator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.testing.AsyncCalls;
import dev.twopc.coordinator.testing.InProcessCoordinator;
import dev.twopc.coordinator.testing.StoreKind;
import dev.twopc.coordinator.testing.TestStore;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.CommitRequest;
import dev.twopc.proto.v1.CommitResponse;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.RollbackRequest;
import dev.twopc.proto.v1.RollbackResponse;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.Shutdown;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * GetOutcome on a coordinator that does not run the transaction, with two coordinators on one
 * PostgreSQL log (issue 14, item 2): the owner is still preparing when a participant in doubt asks
 * the other node. That node writes an ABORT tombstone before it answers ABORTED, so the owner's
 * COMMIT finds ABORT and the transaction aborts everywhere; without the tombstone the owner would
 * commit the branch that was told ABORTED (spec/tla/TwoPhaseShared.tla, mutant
 * outcome_no_tombstone). Over real gRPC and a real PostgreSQL.
 */
class SharedLogOutcomeTest {
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    open.add(c);
    return c;
  }

  private int nodes;

  private CoordinatorServer node(TestStore store) throws Exception {
    CoordinatorConfig.Builder b =
        store
            .apply(InProcessCoordinator.defaults(Files.createTempDirectory("twopc-node-"), 0))
            .nodeId("node-" + ++nodes) // one store's configs share its directory, and so an id
            .prepareTimeout(Duration.ofSeconds(60))
            // each node's liveness check looks only at what it owns: often, to show that
            .livenessCheckInterval(Duration.ofMillis(200));
    return closing(CoordinatorServer.start(b.build()));
  }

  private CoordinatorGrpc.CoordinatorBlockingStub stub(CoordinatorServer node) {
    ManagedChannel ch =
        Grpc.newChannelBuilder(node.target(), InsecureChannelCredentials.create()).build();
    closing(() -> Shutdown.now(ch));
    return CoordinatorGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @Test
  void anOwnerStillPreparingFindsTheOtherNodesTombstoneAndAborts() throws Exception {
    TestStore store = closing(TestStore.create(StoreKind.POSTGRESQL));
    CoordinatorServer other = node(store);
    CoordinatorServer owner = node(store);
    FakeParticipant a = closing(FakeParticipant.start("a"));
    FakeParticipant b = closing(FakeParticipant.start("b"));
    a.register(owner.target());
    b.register(owner.target());
    b.behave(FakeParticipant.Behaviour.HOLD);

    ManagedChannel ch =
        Grpc.newChannelBuilder(owner.target(), InsecureChannelCredentials.create()).build();
    closing(() -> Shutdown.now(ch));
    CompletableFuture<ExecuteResponse> answer =
        AsyncCalls.execute(
            CoordinatorGrpc.newStub(ch),
            ExecuteRequest.newBuilder()
                .addBranches(BranchRequest.newBuilder().setParticipant("a"))
                .addBranches(BranchRequest.newBuilder().setParticipant("b"))
                .build());
    await().atMost(Duration.ofSeconds(30)).until(() -> a.prepared().size() == 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> b.heldCount() == 1);
    String txId = a.prepared().iterator().next();

    // a is in doubt and asks the node that does not run the transaction
    assertEquals(
        Outcome.OUTCOME_ABORTED,
        stub(other)
            .getOutcome(GetOutcomeRequest.newBuilder().setTxId(txId).setParticipant("a").build())
            .getOutcome());
    a.resolveInDoubt(other.target());
    assertTrue(a.rolledBack().contains(txId));

    // b votes YES at last: the owner's COMMIT finds the tombstone's ABORT
    b.releaseHeld();
    ExecuteResponse r = answer.get(30, TimeUnit.SECONDS);
    // The owner inserts an unkeyed transaction's row with its decision, insert-if-absent: it
    // finds the tombstone's row and the ABORT in it.
    assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome(), r.getReason());
    await().atMost(Duration.ofSeconds(30)).until(() -> b.rolledBack().contains(txId));
    assertTrue(a.committed().isEmpty() && b.committed().isEmpty(), "nobody committed");

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                stub(owner)
                        .getOutcome(GetOutcomeRequest.newBuilder().setTxId(txId).build())
                        .getOutcome()
                    == Outcome.OUTCOME_ABORTED);
    for (CoordinatorServer node : List.of(owner, other)) {
      TransactionView v =
          stub(node).getTransaction(GetTransactionRequest.newBuilder().setTxId(txId).build());
      assertEquals(Outcome.OUTCOME_ABORTED, v.getOutcome());
      assertTrue(
          v.getAbortReason().contains("ABORT written so that it can never commit"), v.toString());
    }
  }

  @Test
  void aRollbackOnTheOtherNodeAbortsWhatTheOwnerRunsAndItsCommitIsRefused() throws Exception {
    TestStore store = closing(TestStore.create(StoreKind.POSTGRESQL));
    CoordinatorServer owner = node(store);
    CoordinatorServer other = node(store);
    FakeParticipant a = closing(FakeParticipant.start("a"));
    a.register(owner.target());
    // keyed: the begin record is written (lazily) before anything else happens to it
    String txId =
        stub(owner).begin(BeginRequest.newBuilder().setIdempotencyKey("cart-9").build()).getTxId();
    stub(owner).enlist(EnlistRequest.newBuilder().setTxId(txId).setParticipant("a").build());
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () ->
                stub(other)
                        .getTransaction(GetTransactionRequest.newBuilder().setTxId(txId).build())
                        .getState()
                    == TransactionState.TRANSACTION_STATE_ACTIVE);

    RollbackResponse rolledBack =
        stub(other)
            .rollback(RollbackRequest.newBuilder().setTxId(txId).setReason("cart emptied").build());
    assertEquals(Outcome.OUTCOME_ABORTED, rolledBack.getOutcome());

    // The owner still runs it: its Commit prepares, and the COMMIT it writes finds the ABORT
    CommitResponse committed = stub(owner).commit(CommitRequest.newBuilder().setTxId(txId).build());
    assertEquals(Outcome.OUTCOME_ABORTED, committed.getOutcome(), committed.getReason());
    await().atMost(Duration.ofSeconds(30)).until(() -> a.rolledBack().contains(txId));
    assertTrue(a.committed().isEmpty());
    TransactionView v =
        stub(owner).getTransaction(GetTransactionRequest.newBuilder().setTxId(txId).build());
    assertEquals(Outcome.OUTCOME_ABORTED, v.getOutcome());
    assertTrue(v.getAbortReason().contains("cart emptied"), v.toString());
  }

  @Test
  void aNodeWithoutAnIdKeepsTheOneMadeUpInItsDataDirectoryAcrossRestarts() throws Exception {
    TestStore store = closing(TestStore.create(StoreKind.POSTGRESQL));
    java.nio.file.Path dir = Files.createTempDirectory("twopc-node-");
    String first;
    try (CoordinatorServer node =
        CoordinatorServer.start(
            store.apply(InProcessCoordinator.defaults(dir, 0)).dataDir(dir).build())) {
      first = node.nodeId().orElseThrow();
    }
    try (CoordinatorServer again =
        CoordinatorServer.start(
            store.apply(InProcessCoordinator.defaults(dir, 0)).dataDir(dir).build())) {
      assertEquals(first, again.nodeId().orElseThrow());
      assertEquals(first, Files.readString(dir.resolve("node-id")).strip());
    }
    try (CoordinatorServer other = node(store)) {
      assertTrue(!first.equals(other.nodeId().orElseThrow()), "another directory, another id");
    }
  }
}
