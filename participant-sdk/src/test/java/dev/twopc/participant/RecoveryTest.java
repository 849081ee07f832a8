package dev.twopc.participant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.PrepareResponse;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeCoordinator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Restart on the same store: prepared branches come back locked, and resolve as decided. On each
 * store of the {@link TestStore} matrix.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.twopc.participant.TestStore#kinds")
class RecoveryTest {
  private static final String NAME = "ledger";

  private final TestStore.Kind kind;
  @TempDir Path dir;
  private TestStore store;
  private BusinessDb db;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  RecoveryTest(TestStore.Kind kind) {
    this.kind = kind;
  }

  @BeforeEach
  void openStore() throws Exception {
    store = TestStore.open(kind, dir);
    toClose.add(store);
    db = store.business(NAME);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private Participant participant(String coordinator, ParticipantListener listener) {
    Participant p =
        store
            .configure(Participant.builder(NAME))
            .coordinator(coordinator)
            .handler(new TestHandler())
            .lockWait(Duration.ofMillis(100))
            .inDoubtAfter(Duration.ofMillis(200))
            .inDoubtCheckInterval(Duration.ofMillis(20))
            .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .listener(listener)
            .build();
    toClose.add(p);
    return p;
  }

  private <T extends AutoCloseable> T closing(T c) {
    toClose.add(c);
    return c;
  }

  @Test
  void recoveredBranchHoldsItsLocksBeforeServingAndCommitsWhenTheCoordinatorSays()
      throws Exception {
    FakeCoordinator coord = closing(FakeCoordinator.start());
    Participant first = participant(coord.target(), new ParticipantListener() {});
    first.start();
    try (ParticipantClient rpc = new ParticipantClient(first.port(), NAME, coord.target())) {
      assertEquals(Vote.VOTE_YES, rpc.prepare("tx-r", "a,b").getVote());
    }
    first.close();

    List<String> seenAtRecovery = new CopyOnWriteArrayList<>();
    Participant[] second = new Participant[1];
    second[0] =
        participant(
            coord.target(),
            new ParticipantListener() {
              @Override
              public void onRecovered(List<PreparedBranchInfo> branches) {
                branches.forEach(b -> seenAtRecovery.add(b.txId() + ":" + b.lockKeys()));
                // Not serving yet, and the locks are already held.
                assertThrows(IllegalStateException.class, () -> second[0].port());
                seenAtRecovery.add("holders(a)=" + second[0].engine().locks().holders("a"));
              }
            });
    second[0].start();
    assertEquals(List.of("tx-r:[a, b]", "holders(a)=[tx-r]"), seenAtRecovery);
    try (ParticipantClient rpc = new ParticipantClient(second[0].port(), NAME, coord.target())) {
      PrepareResponse blocked = rpc.prepare("tx-other", "a");
      assertEquals(Vote.VOTE_NO, blocked.getVote());
      await().atMost(Duration.ofSeconds(10)).until(() -> coord.outcomeQueries.get() >= 1);
      assertEquals(1, rpc.listPrepared().getBranchesCount());

      coord.outcomes.put("tx-r", Outcome.OUTCOME_COMMITTED);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> rpc.listPrepared().getBranchesCount() == 0);
      assertEquals(List.of("a", "b"), db.applied("tx-r"));
      assertTrue(second[0].engine().locks().owners().isEmpty());
      assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit("tx-r").getOutcome());
    }
  }

  @Test
  void coordinatorDownWhileRecoveringKeepsAskingAndConvergesWhenItIsBack() throws Exception {
    FakeCoordinator coord = FakeCoordinator.start();
    int coordPort = coord.port();
    String target = coord.target();
    Participant first = participant(target, new ParticipantListener() {});
    first.start();
    try (ParticipantClient rpc = new ParticipantClient(first.port(), NAME, target)) {
      assertEquals(Vote.VOTE_YES, rpc.prepare("tx-down", "k").getVote());
    }
    first.close();
    coord.close();

    Participant second = participant(target, new ParticipantListener() {});
    second.start();
    try (ParticipantClient rpc = new ParticipantClient(second.port(), NAME, target)) {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                List<PreparedBranch> b = rpc.listPrepared().getBranchesList();
                return b.size() == 1
                    && b.get(0).getOutcomeQueries() >= 3
                    && b.get(0).getLastError().contains("UNAVAILABLE");
              });
      assertEquals(Vote.VOTE_NO, rpc.prepare("tx-blocked", "k").getVote());
      assertEquals(List.of("k"), db.staged("tx-down"));

      FakeCoordinator back = closing(FakeCoordinator.startOn(coordPort));
      back.outcomes.put("tx-down", Outcome.OUTCOME_ABORTED);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> rpc.listPrepared().getBranchesCount() == 0);
      assertEquals(List.of(), db.staged("tx-down"));
      assertEquals(List.of(), db.applied("tx-down"));
      assertEquals(Vote.VOTE_YES, rpc.prepare("tx-after", "k").getVote());
      // Registered again with the coordinator that came back.
      await().atMost(Duration.ofSeconds(10)).until(() -> !back.registrations.isEmpty());
    }
  }

  @Test
  void runningParticipantAsksAboutBranchesInDoubtLongerThanTheBound() throws Exception {
    FakeCoordinator coord = closing(FakeCoordinator.start());
    Participant p = participant(coord.target(), new ParticipantListener() {});
    p.start();
    try (ParticipantClient rpc = new ParticipantClient(p.port(), NAME, coord.target())) {
      assertEquals(Vote.VOTE_YES, rpc.prepare("tx-slow", "z").getVote());
      await().atMost(Duration.ofSeconds(10)).until(() -> coord.outcomeQueries.get() >= 2);
      assertEquals(1, rpc.listPrepared().getBranchesCount());
      coord.outcomes.put("tx-slow", Outcome.OUTCOME_ABORTED);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> rpc.listPrepared().getBranchesCount() == 0);
      assertEquals(List.of(), db.staged("tx-slow"));
      // A late Prepare of the rolled-back transaction is refused.
      assertEquals(Vote.VOTE_NO, rpc.prepare("tx-slow", "z").getVote());
    }
  }

  @Test
  void commitHandlerFailingDuringRecoveryIsRetriedUntilItSucceeds() throws Exception {
    FakeCoordinator coord = closing(FakeCoordinator.start());
    TestHandler handler = new TestHandler();
    handler.commitFailuresLeft.set(3);
    Participant p =
        store
            .configure(Participant.builder(NAME))
            .coordinator(coord.target())
            .handler(handler)
            .inDoubtAfter(Duration.ofMillis(50))
            .inDoubtCheckInterval(Duration.ofMillis(20))
            .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(100))
            .build();
    toClose.add(p);
    p.start();
    coord.outcomes.put("tx-hc", Outcome.OUTCOME_COMMITTED);
    try (ParticipantClient rpc = new ParticipantClient(p.port(), NAME, coord.target())) {
      assertEquals(Vote.VOTE_YES, rpc.prepare("tx-hc", "q").getVote());
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> rpc.listPrepared().getBranchesCount() == 0);
    }
    assertEquals(4, handler.commitCalls.get());
    assertEquals(List.of("q"), db.applied("tx-hc"));
  }
}
