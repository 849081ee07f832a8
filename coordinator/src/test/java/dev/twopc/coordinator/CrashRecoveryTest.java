package dev.twopc.coordinator;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.testing.Clients;
import dev.twopc.coordinator.testing.ForkedCoordinator;
import dev.twopc.coordinator.testing.StoreKind;
import dev.twopc.coordinator.testing.TestStore;
import dev.twopc.coordinator.testing.TestStores;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.testing.FakeParticipant;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The coordinator runs in its own JVM and is halted at a named crash point (as a kill -9 or a power
 * cut would stop it), then restarted on the same files. Afterwards no transaction may be committed
 * at one branch and rolled back at another, every COMMITTED the client heard must survive, and
 * every branch must converge.
 */
class CrashRecoveryTest {
  @RegisterExtension final TestStores stores = new TestStores();
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private TestStore store;

  @AfterEach
  void cleanUp() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  /**
   * Every case here forks two JVMs, so the JDBC stores run only for the decisive ones: a decision
   * that was written survives, and no acknowledged commit is lost to kill -9.
   */
  static Stream<Arguments> killDashNineCases() {
    return Stream.concat(
        Stream.of(Arguments.of(StoreKind.ROCKSDB, "process")),
        Arrays.stream(StoreKind.values()).map(k -> Arguments.of(k, "fsync")));
  }

  /** The store of this test (the first fork of a test makes it, a restart reuses it). */
  private ForkedCoordinator fork(StoreKind kind, String crashAt, String durability, int port)
      throws Exception {
    if (store == null) {
      store = stores.create(kind);
    }
    ForkedCoordinator c = ForkedCoordinator.start(store, crashAt, durability, port);
    toClose.add(c);
    return c;
  }

  private FakeParticipant participant(String name, ForkedCoordinator c) throws Exception {
    FakeParticipant p = FakeParticipant.start(name);
    toClose.add(p);
    p.register(c.target());
    return p;
  }

  private ManagedChannel channel(ForkedCoordinator c) {
    ManagedChannel ch = Clients.channel(c.target());
    toClose.add(ch::shutdownNow);
    return ch;
  }

  private static CoordinatorGrpc.CoordinatorBlockingStub stub(ManagedChannel ch) {
    return CoordinatorGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  @Test
  void crashBeforeTheDecisionWriteAbortsEverywhere() throws Exception {
    StoreKind kind = StoreKind.ROCKSDB; // nothing of it reaches the log: the same on any store
    ForkedCoordinator first = fork(kind, "before_decision_write:1", "fsync", 0);
    FakeParticipant a = participant("a", first);
    FakeParticipant b = participant("b", first);
    assertThrows(StatusRuntimeException.class, () -> stub(channel(first)).execute(execute(a, b)));
    assertEquals(137, first.awaitExit(30));
    String tx = a.prepared().iterator().next();

    ForkedCoordinator second = fork(kind, null, "fsync", first.port());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              a.resolveInDoubt(second.target());
              b.resolveInDoubt(second.target());
              return a.prepared().isEmpty() && b.prepared().isEmpty();
            });
    assertTrue(a.rolledBack().contains(tx) && b.rolledBack().contains(tx));
    assertTrue(a.committed().isEmpty() && b.committed().isEmpty());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void crashRightAfterTheDecisionWriteCommitsEverywhere(StoreKind kind) throws Exception {
    ForkedCoordinator first = fork(kind, "after_decision_write:1", "fsync", 0);
    FakeParticipant a = participant("a", first);
    FakeParticipant b = participant("b", first);
    assertThrows(StatusRuntimeException.class, () -> stub(channel(first)).execute(execute(a, b)));
    assertEquals(137, first.awaitExit(30));
    String tx = a.prepared().iterator().next();
    assertTrue(a.committed().isEmpty(), "nobody was told before the crash");

    ForkedCoordinator second = fork(kind, null, "fsync", first.port());
    // recovery resumes phase 2 by itself: no participant has to ask
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> a.committed().contains(tx) && b.committed().contains(tx));
    ManagedChannel ch = channel(second);
    await()
        .until(
            () ->
                stub(ch)
                        .getTransaction(GetTransactionRequest.newBuilder().setTxId(tx).build())
                        .getState()
                    == TransactionState.TRANSACTION_STATE_COMMITTED);
    assertTrue(second.isAlive());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void crashAfterOneOfThreeCommitsFinishesTheOthers(StoreKind kind) throws Exception {
    ForkedCoordinator first = fork(kind, "after_commit_ack:1", "fsync", 0);
    FakeParticipant a = participant("a", first);
    FakeParticipant b = participant("b", first);
    FakeParticipant c = participant("c", first);
    b.phase2Down(true); // so exactly one of three commits before the halt
    c.phase2Down(true);
    ManagedChannel ch = channel(first);
    try {
      ExecuteResponse r = stub(ch).execute(execute(a, b, c));
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome());
    } catch (StatusRuntimeException raced) {
      // the halt may come before the answer reaches us: then the answer is UNKNOWN
    }
    assertEquals(137, first.awaitExit(30));
    Set<String> all = new HashSet<>(a.prepared());
    all.addAll(b.prepared());
    all.addAll(c.prepared());
    all.addAll(a.committed());
    assertEquals(1, all.size());
    String tx = all.iterator().next();
    int committedBefore =
        (a.committed().contains(tx) ? 1 : 0)
            + (b.committed().contains(tx) ? 1 : 0)
            + (c.committed().contains(tx) ? 1 : 0);
    assertEquals(1, committedBefore, "crashed after 1 of 3 commits");

    b.phase2Down(false);
    c.phase2Down(false);
    fork(kind, null, "fsync", first.port());
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                a.committed().contains(tx)
                    && b.committed().contains(tx)
                    && c.committed().contains(tx));
    assertTrue(a.rolledBack().isEmpty() && b.rolledBack().isEmpty() && c.rolledBack().isEmpty());
  }

  /**
   * The durability test: clients run transactions; the coordinator is killed with SIGKILL right in
   * the stream. Every transaction a client was told COMMITTED must be COMMITTED after the restart
   * and committed at both branches. H2 with its default write delay fails this (the acknowledged
   * decisions are still in memory when the process dies).
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("killDashNineCases")
  void killDashNineLosesNoAcknowledgedCommit(StoreKind kind, String durability) throws Exception {
    ForkedCoordinator first = fork(kind, null, durability, 0);
    FakeParticipant a = participant("a", first);
    FakeParticipant b = participant("b", first);
    ManagedChannel ch = channel(first);
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService clients = Executors.newFixedThreadPool(8);
    List<Future<?>> running = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      running.add(
          clients.submit(
              () -> {
                while (!stop.get()) {
                  try {
                    ExecuteResponse r = stub(ch).execute(execute(a, b));
                    if (r.getOutcome() == Outcome.OUTCOME_COMMITTED) {
                      acknowledged.add(r.getTxId());
                    }
                  } catch (StatusRuntimeException e) {
                    return; // UNKNOWN: the coordinator is gone
                  }
                }
              }));
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= 300);
    first.kill();
    stop.set(true);
    clients.shutdown();
    assertTrue(clients.awaitTermination(30, TimeUnit.SECONDS));
    for (Future<?> f : running) {
      f.get(); // a client that failed other than by losing the coordinator fails the test
    }
    Set<String> heard = Set.copyOf(acknowledged);

    ForkedCoordinator second = fork(kind, null, durability, first.port());
    ManagedChannel ch2 = channel(second);
    for (String tx : heard) {
      assertEquals(
          Outcome.OUTCOME_COMMITTED,
          stub(ch2).getOutcome(GetOutcomeRequest.newBuilder().setTxId(tx).build()).getOutcome(),
          "acknowledged commit lost: " + tx);
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              a.resolveInDoubt(second.target());
              b.resolveInDoubt(second.target());
              return a.prepared().isEmpty() && b.prepared().isEmpty();
            });
    assertTrue(a.committed().containsAll(heard) && b.committed().containsAll(heard));
    // atomicity: no transaction committed at one branch and rolled back at the other
    for (String tx : a.committed()) {
      assertFalse(b.rolledBack().contains(tx), tx);
    }
    for (String tx : b.committed()) {
      assertFalse(a.rolledBack().contains(tx), tx);
    }
  }
}
