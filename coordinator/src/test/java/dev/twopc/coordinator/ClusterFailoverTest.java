package dev.twopc.coordinator;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.testing.AsyncCalls;
import dev.twopc.coordinator.testing.ForkedCoordinator;
import dev.twopc.coordinator.testing.StoreKind;
import dev.twopc.coordinator.testing.TestStore;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.Shutdown;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Three coordinator processes on one PostgreSQL log (issue 14, item 5): the node that runs a
 * transaction is killed (SIGKILL) between prepare and decision, right after the decision, and
 * during phase 2, or paused (SIGSTOP) past its lease; one of the other two fences it, claims the
 * transaction and finishes it as restart recovery would. Each test prints how long the takeover
 * took: from the kill (or pause) to the branches' outcome.
 */
class ClusterFailoverTest {
  /** Short, so that the tests are; the default is 5 s. */
  private static final Duration LEASE = Duration.ofSeconds(2);

  /** The bound a takeover must finish in here, far above what it takes, for a loaded machine. */
  private static final Duration BOUND = Duration.ofSeconds(60);

  private final List<AutoCloseable> open = new ArrayList<>();
  private TestStore store;
  private FakeParticipant p;
  private FakeParticipant q;

  @BeforeEach
  void setUp() throws Exception {
    store = closing(TestStore.create(StoreKind.POSTGRESQL));
    p = closing(FakeParticipant.start("p"));
    q = closing(FakeParticipant.start("q"));
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    open.add(c);
    return c;
  }

  private ForkedCoordinator node(String id, String crashAt) throws Exception {
    return closing(ForkedCoordinator.startNode(store, id, LEASE, crashAt, 0));
  }

  /** Three nodes on the store's log, n1 halting at {@code crashAt}; p and q register with n1. */
  private record Nodes(ForkedCoordinator n1, ForkedCoordinator n2, ForkedCoordinator n3) {}

  private Nodes threeNodes(String crashAt) throws Exception {
    Nodes nodes = new Nodes(node("n1", crashAt), node("n2", null), node("n3", null));
    p.register(nodes.n1().target());
    q.register(nodes.n1().target());
    return nodes;
  }

  /**
   * An Execute on n1 answered COMMITTED with p committed and q failing its commits: the transaction
   * is in phase 2 on n1. Returns its id.
   */
  private String inPhaseTwo(Nodes nodes) throws Exception {
    q.phase2Down(true);
    ExecuteResponse answered = execute(nodes.n1()).get(60, TimeUnit.SECONDS);
    assertEquals(dev.twopc.proto.v1.Outcome.OUTCOME_COMMITTED, answered.getOutcome());
    await().atMost(BOUND).until(() -> p.committed().size() == 1);
    String txId = p.committed().iterator().next();
    await()
        .atMost(BOUND)
        .until(() -> state(nodes.n2(), txId) == TransactionState.TRANSACTION_STATE_COMMITTING);
    return txId;
  }

  private CoordinatorGrpc.CoordinatorBlockingStub stub(ForkedCoordinator node) {
    ManagedChannel ch =
        Grpc.newChannelBuilder(node.target(), InsecureChannelCredentials.create()).build();
    closing(() -> Shutdown.now(ch));
    return CoordinatorGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** Execute on {@code node} with branches p and q, not waited for (its node may die). */
  private CompletableFuture<ExecuteResponse> execute(ForkedCoordinator node) {
    return execute(node, ExecuteRequest.newBuilder());
  }

  private CompletableFuture<ExecuteResponse> execute(
      ForkedCoordinator node, ExecuteRequest.Builder request) {
    ManagedChannel ch =
        Grpc.newChannelBuilder(node.target(), InsecureChannelCredentials.create()).build();
    closing(() -> Shutdown.now(ch));
    return AsyncCalls.execute(
        CoordinatorGrpc.newStub(ch).withDeadlineAfter(120, TimeUnit.SECONDS),
        request
            .addBranches(BranchRequest.newBuilder().setParticipant("p"))
            .addBranches(BranchRequest.newBuilder().setParticipant("q"))
            .build());
  }

  private TransactionState state(ForkedCoordinator node, String txId) {
    try {
      return stub(node)
          .getTransaction(GetTransactionRequest.newBuilder().setTxId(txId).build())
          .getState();
    } catch (StatusRuntimeException e) {
      return TransactionState.TRANSACTION_STATE_UNSPECIFIED;
    }
  }

  /** The node the log names as the transaction's owner. */
  private String owner(String txId) throws Exception {
    try (Connection c =
            DriverManager.getConnection(store.jdbcUrl(), store.user(), store.password());
        PreparedStatement ps = c.prepareStatement("SELECT owner FROM twopc_tx WHERE tx_id = ?")) {
      ps.setString(1, txId);
      try (ResultSet rs = ps.executeQuery()) {
        assertTrue(rs.next(), txId + " is in the log");
        return rs.getString(1);
      }
    }
  }

  private long epochOf(String nodeId) throws Exception {
    try (Connection c =
            DriverManager.getConnection(store.jdbcUrl(), store.user(), store.password());
        PreparedStatement ps =
            c.prepareStatement("SELECT epoch FROM twopc_node WHERE node_id = ?")) {
      ps.setString(1, nodeId);
      try (ResultSet rs = ps.executeQuery()) {
        assertTrue(rs.next(), nodeId + " is in the node table");
        return rs.getLong(1);
      }
    }
  }

  private static void report(String what, long sinceNanos) {
    System.out.printf(
        "event=takeover_measured case=%s lease_ms=%d ms=%d%n",
        what, LEASE.toMillis(), (System.nanoTime() - sinceNanos) / 1_000_000);
  }

  private static void signal(ForkedCoordinator node, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(node.pid())).start();
    assertEquals(0, kill.waitFor(), "kill -" + signal);
  }

  @Test
  void theOwnerKilledBetweenPrepareAndDecisionIsAbortedByAnother() throws Exception {
    Nodes nodes = threeNodes(null);
    ForkedCoordinator n1 = nodes.n1();
    ForkedCoordinator n2 = nodes.n2();
    ForkedCoordinator n3 = nodes.n3();
    p.behave(FakeParticipant.Behaviour.HOLD);
    CompletableFuture<ExecuteResponse> answer = execute(n1);
    await().atMost(BOUND).until(() -> q.prepared().size() == 1 && p.heldCount() == 1);
    String txId = q.prepared().iterator().next();

    n1.kill();
    await().atMost(BOUND).until(answer::isDone);
    assertTrue(answer.isCompletedExceptionally(), "its client heard no outcome, only the loss");
    long killed = System.nanoTime();
    p.releaseHeld(); // its YES goes to a dead process
    // Nothing of it is in the log: nobody can commit it, and q, in doubt, hears ABORTED
    q.resolveInDoubt(n2.target());
    report("killed_before_decision_unlogged", killed);
    assertTrue(q.rolledBack().contains(txId));
    p.resolveInDoubt(n3.target());
    assertTrue(p.prepared().isEmpty(), "p in doubt no more: " + p.prepared());
    assertTrue(p.committed().isEmpty() && q.committed().isEmpty(), "nobody committed");
    for (ForkedCoordinator n : List.of(n2, n3)) {
      assertEquals(TransactionState.TRANSACTION_STATE_ABORTED, state(n, txId));
    }
  }

  @Test
  void aKeyedTransactionWhoseOwnerDiedBeforeTheDecisionIsAbortedByAClaimer() throws Exception {
    Nodes nodes = threeNodes(null);
    ForkedCoordinator n1 = nodes.n1();
    ForkedCoordinator n2 = nodes.n2();
    ForkedCoordinator n3 = nodes.n3();
    p.behave(FakeParticipant.Behaviour.HOLD);
    // a keyed Execute's begin is in the log before its prepares are sent
    CompletableFuture<ExecuteResponse> answer =
        execute(n1, ExecuteRequest.newBuilder().setIdempotencyKey("order-1"));
    await().atMost(BOUND).until(() -> q.prepared().size() == 1 && p.heldCount() == 1);
    String txId = q.prepared().iterator().next();
    await().atMost(BOUND).until(() -> owner(txId) != null);
    assertEquals("n1", owner(txId));

    n1.kill();
    long killed = System.nanoTime();
    await().atMost(BOUND).until(() -> q.rolledBack().contains(txId));
    report("killed_before_decision_logged_begin", killed);
    await()
        .atMost(BOUND)
        .until(() -> state(n3, txId) == TransactionState.TRANSACTION_STATE_ABORTED);
    await()
        .atMost(BOUND)
        .until(() -> state(n2, txId) == TransactionState.TRANSACTION_STATE_ABORTED);
    assertTrue(List.of("n2", "n3").contains(owner(txId)), "claimed by a survivor");
    assertTrue(p.committed().isEmpty() && q.committed().isEmpty(), "nobody committed");
    await().atMost(BOUND).until(answer::isDone);
    assertTrue(answer.isCompletedExceptionally(), "its client heard the loss, not an outcome");
  }

  @Test
  void theOwnerDeadRightAfterItsCommitDecisionIsFinishedByAnother() throws Exception {
    // n1 halts itself right after the COMMIT is durable, before any phase-2 call
    Nodes nodes = threeNodes("after_decision_write:1");
    ForkedCoordinator n1 = nodes.n1();
    ForkedCoordinator n2 = nodes.n2();
    ForkedCoordinator n3 = nodes.n3();
    CompletableFuture<ExecuteResponse> answer = execute(n1);
    n1.awaitExit(60);
    long died = System.nanoTime();
    await().atMost(BOUND).until(() -> p.committed().size() == 1 && q.committed().size() == 1);
    report("killed_after_decision", died);
    String txId = p.committed().iterator().next();
    await()
        .atMost(BOUND)
        .until(() -> state(n3, txId) == TransactionState.TRANSACTION_STATE_COMMITTED);
    assertEquals(TransactionState.TRANSACTION_STATE_COMMITTED, state(n2, txId));
    assertTrue(List.of("n2", "n3").contains(owner(txId)), "claimed by a survivor");
    // it died before answering: its client heard the loss, never ABORTED
    await().atMost(BOUND).until(answer::isDone);
    assertTrue(answer.isCompletedExceptionally());
  }

  @Test
  void theOwnerKilledDuringPhaseTwoIsFinishedByAnother() throws Exception {
    Nodes nodes = threeNodes(null);
    ForkedCoordinator n1 = nodes.n1();
    ForkedCoordinator n3 = nodes.n3();
    String txId = inPhaseTwo(nodes);

    n1.kill();
    long killed = System.nanoTime();
    q.phase2Down(false);
    await().atMost(BOUND).until(() -> q.committed().contains(txId));
    report("killed_during_phase2", killed);
    await()
        .atMost(BOUND)
        .until(() -> state(n3, txId) == TransactionState.TRANSACTION_STATE_COMMITTED);
    assertTrue(List.of("n2", "n3").contains(owner(txId)), "claimed by a survivor");
  }

  @Test
  void aNodePausedPastItsLeaseIsFencedAndRejoinsWithoutItsOldWork() throws Exception {
    Nodes nodes = threeNodes(null);
    ForkedCoordinator n1 = nodes.n1();
    ForkedCoordinator n2 = nodes.n2();
    ForkedCoordinator n3 = nodes.n3();
    String txId = inPhaseTwo(nodes);
    long joined = epochOf("n1");

    signal(n1, "STOP");
    long paused = System.nanoTime();
    try {
      q.phase2Down(false);
      await().atMost(BOUND).until(() -> q.committed().contains(txId));
      report("paused_past_lease", paused);
      await()
          .atMost(BOUND)
          .until(() -> state(n2, txId) == TransactionState.TRANSACTION_STATE_COMMITTED);
      assertEquals(TransactionState.TRANSACTION_STATE_COMMITTED, state(n3, txId));
      String claimer = owner(txId);
      assertTrue(List.of("n2", "n3").contains(claimer), "claimed by a survivor: " + claimer);
      assertTrue(epochOf("n1") > joined, "n1 was fenced: a new epoch");
    } finally {
      signal(n1, "CONT");
    }
    // n1 wakes: its lease lapsed, so it drops what it ran and joins again
    n1.await("event=lease_lost node=n1", BOUND);
    await().atMost(BOUND).until(() -> n1.count("event=node_joined node=n1") >= 2);
    assertEquals(
        TransactionState.TRANSACTION_STATE_COMMITTED, state(n1, txId), "answered from the log");
    assertTrue(List.of("n2", "n3").contains(owner(txId)), "its late writes did not take it back");
    // and it serves new work
    p.behave(FakeParticipant.Behaviour.YES);
    ExecuteResponse r = execute(n1).get(60, TimeUnit.SECONDS);
    assertEquals(dev.twopc.proto.v1.Outcome.OUTCOME_COMMITTED, r.getOutcome(), r.getReason());
  }
}
