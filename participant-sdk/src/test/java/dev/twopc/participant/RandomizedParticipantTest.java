package dev.twopc.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeCoordinator;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Many transactions on overlapping keys with random outcomes, duplicates, handler failures and
 * restarts, checked against a model after every step: no key is held by a finished transaction, no
 * prepared branch is lost, votes and outcomes are the ones the model predicts. Reproduce a failure
 * with {@code -Dtwopc.test.seed=N} (the seed is in the failure message). On each store of the
 * {@link TestStore} matrix.
 */
@ParameterizedClass(name = "{0}")
@MethodSource("dev.twopc.participant.TestStore#kinds")
class RandomizedParticipantTest {
  private static final String NAME = "random";
  private static final int STEPS = 400;

  private final TestStore.Kind kind;
  @TempDir Path dir;
  private TestStore store;
  private BusinessDb db;

  private enum Fate {
    PREPARED,
    COMMITTED,
    ROLLED_BACK,
    VOTED_NO
  }

  private final TreeMap<String, Set<String>> prepared = new TreeMap<>();
  private final Map<String, Fate> fates = new HashMap<>();
  private final Map<String, Set<String>> committedKeys = new HashMap<>();
  private final TestHandler handler = new TestHandler();
  private FakeCoordinator coordinator;
  private Participant participant;
  private ParticipantClient rpc;
  private int next;

  RandomizedParticipantTest(TestStore.Kind kind) {
    this.kind = kind;
  }

  @BeforeEach
  void openStore() throws Exception {
    store = TestStore.open(kind, dir);
    db = store.business(NAME);
  }

  @AfterEach
  void closeStore() throws Exception {
    if (store != null) {
      store.close();
    }
  }

  @Test
  void locksAndPendingMapStayConsistentUnderRandomHistories() throws Exception {
    long seed = Long.getLong("twopc.test.seed", System.nanoTime());
    Random random = new Random(seed);
    List<String> history = new ArrayList<>();
    coordinator = FakeCoordinator.start();
    try {
      startParticipant();
      for (int step = 0; step < STEPS; step++) {
        String op = step(random);
        history.add(op);
        check();
      }
    } catch (Throwable t) {
      int from = Math.max(0, history.size() - 15);
      throw new AssertionError(
          "randomized participant test failed with seed="
              + seed
              + " (rerun with -Dtwopc.test.seed="
              + seed
              + "); last steps: "
              + history.subList(from, history.size()),
          t);
    } finally {
      if (rpc != null) {
        rpc.close();
      }
      if (participant != null) {
        participant.close();
      }
      coordinator.close();
    }
  }

  private void startParticipant() throws Exception {
    participant =
        store
            .configure(Participant.builder(NAME))
            .coordinator(coordinator.target())
            .handler(handler)
            .lockWait(Duration.ZERO)
            .inDoubtAfter(Duration.ofHours(1))
            .build();
    participant.start();
    rpc = new ParticipantClient(participant.port(), NAME, coordinator.target());
  }

  private String step(Random r) throws Exception {
    int dice = r.nextInt(100);
    if (dice < 35) {
      return prepareNew(r);
    } else if (dice < 45) {
      return duplicatePrepare(r);
    } else if (dice < 63) {
      return commit(r);
    } else if (dice < 75) {
      return rollback(r);
    } else if (dice < 80) {
      return repeatPhaseTwo(r);
    } else if (dice < 85) {
      return flakyCommit(r);
    } else if (dice < 92) {
      return onePhase(r);
    } else if (dice < 96) {
      return rollbackUnknownThenLatePrepare();
    } else {
      rpc.close();
      participant.close();
      startParticipant();
      return "restart";
    }
  }

  private Set<String> randomKeys(Random r) {
    Set<String> keys = new TreeSet<>();
    int n = 1 + r.nextInt(3);
    for (int i = 0; i < n; i++) {
      keys.add("k" + r.nextInt(6));
    }
    return keys;
  }

  private boolean free(Set<String> keys) {
    return prepared.values().stream().noneMatch(held -> held.stream().anyMatch(keys::contains));
  }

  private String prepareNew(Random r) {
    String tx = "tx-" + next++;
    Set<String> keys = randomKeys(r);
    int twist = r.nextInt(20);
    String payload = String.join(",", keys) + (twist == 0 ? ",!fail" : twist == 1 ? ",!no" : "");
    boolean yes = twist > 1 && free(keys);
    var resp = rpc.prepare(tx, payload);
    assertEquals(yes ? Vote.VOTE_YES : Vote.VOTE_NO, resp.getVote(), tx + " " + payload);
    if (yes) {
      prepared.put(tx, keys);
      fates.put(tx, Fate.PREPARED);
    } else {
      fates.put(tx, Fate.VOTED_NO);
    }
    return "prepare " + tx + " " + payload + " -> " + resp.getVote();
  }

  private String pick(Random r, Set<String> from) {
    List<String> list = new ArrayList<>(from);
    return list.isEmpty() ? null : list.get(r.nextInt(list.size()));
  }

  private String duplicatePrepare(Random r) {
    String tx = pick(r, fates.keySet());
    if (tx == null) {
      return "noop";
    }
    Fate f = fates.get(tx);
    Vote expected = f == Fate.PREPARED || f == Fate.COMMITTED ? Vote.VOTE_YES : Vote.VOTE_NO;
    assertEquals(expected, rpc.prepare(tx, "k0").getVote(), "duplicate prepare of " + tx + " " + f);
    return "dup-prepare " + tx + " (" + f + ")";
  }

  private String commit(Random r) {
    String tx = pick(r, prepared.keySet());
    if (tx == null) {
      return "noop";
    }
    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit(tx).getOutcome());
    committedKeys.put(tx, prepared.remove(tx));
    fates.put(tx, Fate.COMMITTED);
    return "commit " + tx;
  }

  private String rollback(Random r) {
    String tx = pick(r, prepared.keySet());
    if (tx == null) {
      return "noop";
    }
    rpc.rollback(tx);
    prepared.remove(tx);
    fates.put(tx, Fate.ROLLED_BACK);
    return "rollback " + tx;
  }

  private String repeatPhaseTwo(Random r) {
    String tx = pick(r, fates.keySet());
    if (tx == null) {
      return "noop";
    }
    switch (fates.get(tx)) {
      case COMMITTED -> assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit(tx).getOutcome());
      case ROLLED_BACK, VOTED_NO -> rpc.rollback(tx);
      case PREPARED -> {
        return "noop";
      }
    }
    return "repeat-phase2 " + tx + " (" + fates.get(tx) + ")";
  }

  private String flakyCommit(Random r) {
    String tx = pick(r, prepared.keySet());
    if (tx == null) {
      return "noop";
    }
    handler.commitFailuresLeft.set(1);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> rpc.commit(tx));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    return "flaky-commit " + tx + " (still prepared)";
  }

  private String onePhase(Random r) {
    String tx = "tx-" + next++;
    Set<String> keys = randomKeys(r);
    boolean ok = free(keys);
    var resp = rpc.commitOnePhase(tx, String.join(",", keys));
    assertEquals(ok ? Outcome.OUTCOME_COMMITTED : Outcome.OUTCOME_ABORTED, resp.getOutcome());
    fates.put(tx, ok ? Fate.COMMITTED : Fate.VOTED_NO);
    if (ok) {
      committedKeys.put(tx, keys);
    }
    return "one-phase " + tx + " " + keys + " -> " + resp.getOutcome();
  }

  private String rollbackUnknownThenLatePrepare() {
    String tx = "tx-" + next++;
    rpc.rollback(tx);
    assertEquals(Vote.VOTE_NO, rpc.prepare(tx, "k9").getVote());
    fates.put(tx, Fate.ROLLED_BACK);
    return "rollback-unknown+late-prepare " + tx;
  }

  private void check() {
    List<PreparedBranch> listed = rpc.listPrepared().getBranchesList();
    assertEquals(
        prepared.keySet(),
        listed.stream().map(PreparedBranch::getTxId).collect(Collectors.toCollection(TreeSet::new)),
        "pending map");
    for (PreparedBranch b : listed) {
      assertEquals(
          prepared.get(b.getTxId()),
          new TreeSet<>(b.getLockKeysList()),
          "recorded locks of " + b.getTxId());
    }
    var locks = participant.engine().locks();
    assertTrue(
        prepared.keySet().containsAll(locks.owners()),
        "locks held by finished transactions: owners="
            + locks.owners()
            + " prepared="
            + prepared.keySet());
    prepared.forEach(
        (tx, keys) -> {
          for (String k : keys) {
            assertEquals(List.of(tx), locks.holders(k), "holder of " + k);
          }
        });
  }

  @Test
  void committedWorkIsAppliedExactlyOnce() throws Exception {
    // A shorter independent history whose end state is checked in the business tables.
    long seed = Long.getLong("twopc.test.seed", System.nanoTime());
    Random random = new Random(seed);
    coordinator = FakeCoordinator.start();
    try {
      startParticipant();
      for (int i = 0; i < 120; i++) {
        step(random);
      }
      for (String tx : new ArrayList<>(prepared.keySet())) {
        rpc.commit(tx);
        committedKeys.put(tx, prepared.remove(tx));
      }
      for (Map.Entry<String, Set<String>> e : committedKeys.entrySet()) {
        assertEquals(
            new ArrayList<>(e.getValue()),
            db.applied(e.getKey()),
            "seed=" + seed + " tx=" + e.getKey());
        assertEquals(List.of(), db.staged(e.getKey()), "seed=" + seed);
      }
    } finally {
      if (rpc != null) {
        rpc.close();
      }
      participant.close();
      coordinator.close();
    }
  }
}
