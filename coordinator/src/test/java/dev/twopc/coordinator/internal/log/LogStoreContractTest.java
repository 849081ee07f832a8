package dev.twopc.coordinator.internal.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.log.DecisionLog.DecisionResult;
import dev.twopc.coordinator.internal.log.LogReader.Cursor;
import dev.twopc.coordinator.internal.log.LogReader.Filter;
import dev.twopc.coordinator.internal.log.LogReader.Page;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogRecord.Enlisted;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.log.LogRecord.OperatorActed;
import dev.twopc.coordinator.internal.log.LogRecord.Prune;
import dev.twopc.coordinator.internal.log.LogRecord.Registered;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import dev.twopc.coordinator.testing.StoreKind;
import dev.twopc.coordinator.testing.TestStore;
import dev.twopc.coordinator.testing.TestStores;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What every {@link LogStore} must do, the same over every {@link StoreKind}: each record type
 * written and read back through each {@link LogReader} method.
 */
class LogStoreContractTest {
  @RegisterExtension final TestStores stores = new TestStores();
  private final List<LogStore> open = new ArrayList<>();

  @AfterEach
  void closeStores() {
    open.forEach(LogStore::close);
    open.clear();
  }

  private LogStore open(TestStore s) throws IOException {
    LogStore store = LogStore.open(s.config(Durability.FSYNC));
    open.add(store);
    return store;
  }

  private LogStore fresh(StoreKind kind) throws IOException {
    return open(stores.create(kind));
  }

  private static List<Object> write(LogStore store, LogRecord... records) {
    return store.write(Arrays.asList(records), Durability.FSYNC);
  }

  private static BranchRow branch(String p, int idx, BranchState state) {
    return new BranchRow(p, idx, "digest-" + p, null, null, state, 0, null, null, null, null);
  }

  private static BranchRow voted(String p, int idx, BranchState state, long at) {
    return new BranchRow(p, idx, "digest-" + p, Vote.YES, null, state, 1, null, null, null, at);
  }

  private static Begun begun(
      String tx, long created, long deadline, String key, TxState state, BranchRow... branches) {
    return new Begun(tx, created, deadline, key, Map.of(), List.of(branches), state);
  }

  private static Decided decided(
      String tx,
      Decision decision,
      TxState state,
      long at,
      Begun begun,
      boolean begunAppended,
      BranchRow... branches) {
    return new Decided(
        tx,
        decision,
        state,
        at,
        "coordinator",
        decision == Decision.ABORT ? "because" : null,
        List.of(branches),
        begun,
        begunAppended);
  }

  private static StoredTransaction get(LogStore store, String tx) {
    return store.find(tx).orElseThrow(() -> new AssertionError(tx + " not in the log"));
  }

  private static Filter all(long now, int limit) {
    return new Filter(null, false, null, now, null, limit);
  }

  private static List<String> ids(List<StoredTransaction> txs) {
    return txs.stream().map(StoredTransaction::txId).toList();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void begunEnlistedAndDecidedReadBackAndTheFirstDecisionStays(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    Map<String, String> labels = Map.of("order", "42", "with space", "a&b=c", "ünï", "ç☃");
    assertEquals(
        Arrays.asList((Object) null),
        write(store, new Begun("tx-1", 1_000, 31_000, "key-1", labels, List.of(), TxState.ACTIVE)));
    write(
        store,
        new Enlisted("tx-1", branch("a", 0, BranchState.ENLISTED)),
        new Enlisted("tx-1", branch("b", 1, BranchState.ENLISTED)));
    // enlisting again replaces the branch
    BranchRow b2 =
        new BranchRow(
            "b", 1, "digest-b2", null, null, BranchState.ENLISTED, 0, null, null, null, null);
    write(store, new Enlisted("tx-1", b2));

    StoredTransaction t = get(store, "tx-1");
    assertEquals(
        new StoredTransaction(
            "tx-1",
            TxState.ACTIVE,
            1_000,
            31_000,
            null,
            null,
            null,
            null,
            null,
            "key-1",
            labels,
            List.of(branch("a", 0, BranchState.ENLISTED), b2),
            List.of()),
        t);
    assertEquals(Optional.empty(), store.decisionOf("tx-1"));
    assertEquals(Optional.of("tx-1"), store.txIdForKey("key-1"));
    assertEquals(Optional.empty(), store.txIdForKey("key-2"));
    assertEquals(Optional.empty(), store.find("tx-2"));
    assertEquals(Optional.empty(), store.decisionOf("tx-2"));

    BranchRow a = voted("a", 0, BranchState.COMMITTING, 1_500);
    BranchRow b = voted("b", 1, BranchState.COMMITTING, 1_600);
    List<Object> r =
        write(store, decided("tx-1", Decision.COMMIT, TxState.COMMITTING, 2_000, null, true, a, b));
    assertEquals(List.of(new DecisionResult(Decision.COMMIT, true)), r);
    // a second decision changes nothing and answers the first
    assertEquals(
        List.of(new DecisionResult(Decision.COMMIT, false)),
        write(
            store,
            decided(
                "tx-1",
                Decision.ABORT,
                TxState.ABORTING,
                3_000,
                null,
                true,
                voted("a", 0, BranchState.ROLLING_BACK, 1),
                voted("b", 1, BranchState.ROLLING_BACK, 1))));

    assertEquals(
        new StoredTransaction(
            "tx-1",
            TxState.COMMITTING,
            1_000,
            31_000,
            Decision.COMMIT,
            2_000L,
            "coordinator",
            null,
            null,
            "key-1",
            labels,
            List.of(a, b),
            List.of()),
        get(store, "tx-1"));
    assertEquals(Optional.of(Decision.COMMIT), store.decisionOf("tx-1"));
    assertEquals(Map.of("a", 1, "b", 1), store.inDoubtBranchesByParticipant());
    assertEquals(List.of("tx-1"), ids(store.unfinished()));
    assertEquals(0, store.countFinished());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void aFreshDecisionInsertsItsBegun(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    // one-phase commit that needs no phase 2: inserted finished at once
    Begun one =
        begun(
            "tx-final",
            100,
            10_100,
            "k-final",
            TxState.ONE_PHASE,
            branch("a", 0, BranchState.ENLISTED));
    BranchRow done = voted("a", 0, BranchState.COMMITTED, 150);
    assertEquals(
        List.of(new DecisionResult(Decision.COMMIT, true)),
        write(
            store, decided("tx-final", Decision.COMMIT, TxState.COMMITTED, 200, one, false, done)));
    assertEquals(
        new StoredTransaction(
            "tx-final",
            TxState.COMMITTED,
            100,
            10_100,
            Decision.COMMIT,
            200L,
            "coordinator",
            null,
            200L,
            "k-final",
            Map.of(),
            List.of(done),
            List.of()),
        get(store, "tx-final"));
    assertEquals(Optional.of("tx-final"), store.txIdForKey("k-final"));
    assertEquals(1, store.countFinished());
    assertEquals(List.of(), store.unfinished());

    // its begin was appended but never written (begunAppended): still inserted
    Begun lost =
        begun(
            "tx-lost",
            300,
            10_300,
            null,
            TxState.PREPARING,
            branch("a", 0, BranchState.ENLISTED),
            branch("b", 1, BranchState.ENLISTED));
    BranchRow ra = voted("a", 0, BranchState.ROLLING_BACK, 350);
    BranchRow rb =
        new BranchRow(
            "b",
            1,
            "digest-b",
            Vote.NO,
            "out of stock",
            BranchState.ROLLED_BACK,
            0,
            null,
            null,
            null,
            360L);
    assertEquals(
        List.of(new DecisionResult(Decision.ABORT, true)),
        write(
            store, decided("tx-lost", Decision.ABORT, TxState.ABORTING, 400, lost, true, ra, rb)));
    assertEquals(
        new StoredTransaction(
            "tx-lost",
            TxState.ABORTING,
            300,
            10_300,
            Decision.ABORT,
            400L,
            "coordinator",
            "because",
            null,
            null,
            Map.of(),
            List.of(ra, rb),
            List.of()),
        get(store, "tx-lost"));

    // begin and decision in one batch
    Begun same =
        begun(
            "tx-same", 500, 10_500, null, TxState.PREPARING, branch("a", 0, BranchState.ENLISTED));
    BranchRow sa = voted("a", 0, BranchState.COMMITTING, 550);
    assertEquals(
        Arrays.asList(null, new DecisionResult(Decision.COMMIT, true)),
        write(
            store,
            same,
            decided("tx-same", Decision.COMMIT, TxState.COMMITTING, 600, same, true, sa)));
    assertEquals(List.of(sa), get(store, "tx-same").branches());
    assertEquals(List.of("tx-lost", "tx-same"), ids(store.unfinished()));

    // no begin anywhere: refused
    assertThrows(
        LogStoreException.class,
        () -> write(store, decided("tx-nobody", Decision.ABORT, TxState.ABORTING, 1, null, true)));
    assertEquals(Optional.empty(), store.find("tx-nobody"));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void branchUpdatesAndTheFinishReadBack(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    Begun b =
        begun(
            "tx",
            10,
            1_000,
            null,
            TxState.PREPARING,
            branch("a", 0, BranchState.ENLISTED),
            branch("b", 1, BranchState.ENLISTED));
    write(
        store,
        b,
        decided(
            "tx",
            Decision.COMMIT,
            TxState.COMMITTING,
            20,
            null,
            true,
            voted("a", 0, BranchState.COMMITTING, 15),
            voted("b", 1, BranchState.COMMITTING, 16)));
    write(
        store,
        new BranchUpdated("tx", "a", BranchState.COMMITTING, 3, "a is down", 30L, null),
        new BranchUpdated("tx", "b", BranchState.COMMITTED, 1, null, 25L, 26L));
    StoredTransaction t = get(store, "tx");
    assertEquals(
        new BranchRow(
            "a",
            0,
            "digest-a",
            Vote.YES,
            null,
            BranchState.COMMITTING,
            3,
            "a is down",
            30L,
            null,
            15L),
        t.branches().get(0));
    assertEquals(
        new BranchRow(
            "b", 1, "digest-b", Vote.YES, null, BranchState.COMMITTED, 1, null, 25L, 26L, 16L),
        t.branches().get(1));
    assertEquals(Map.of("a", 1), store.inDoubtBranchesByParticipant());

    write(
        store,
        new Finished(
            "tx",
            TxState.COMMITTED,
            40,
            List.of(new BranchUpdated("tx", "a", BranchState.COMMITTED, 4, null, 39L, 40L))));
    t = get(store, "tx");
    assertEquals(TxState.COMMITTED, t.state());
    assertEquals(40L, t.finishedAt());
    assertTrue(t.finished());
    assertEquals(
        new BranchRow(
            "a", 0, "digest-a", Vote.YES, null, BranchState.COMMITTED, 4, null, 39L, 40L, 15L),
        t.branches().get(0));
    assertEquals(Optional.of(Decision.COMMIT), store.decisionOf("tx"));
    assertEquals(1, store.countFinished());
    assertEquals(List.of(), store.unfinished());
    assertEquals(Map.of(), store.inDoubtBranchesByParticipant());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void operatorActionsReadBackInOrder(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    write(
        store, begun("tx", 10, 1_000, null, TxState.ACTIVE, branch("a", 0, BranchState.ENLISTED)));
    OperatorActed refused =
        new OperatorActed("tx", 20, "ABORT", "alice", "b looks dead", false, "decided COMMIT");
    OperatorActed accepted = new OperatorActed("tx", 30, "RETRY", "bob", "try again", true, null);
    assertEquals(Arrays.asList(null, null), write(store, refused, accepted));
    assertEquals(List.of(refused, accepted), get(store, "tx").actions());
    Page page = store.list(all(100, 10));
    assertEquals(List.of(refused, accepted), page.transactions().get(0).actions());
    assertEquals(
        List.of(branch("a", 0, BranchState.ENLISTED)), page.transactions().get(0).branches());
    assertEquals(List.of(refused, accepted), store.unfinished().get(0).actions());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void registrationsUpdateInPlace(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    assertEquals(List.of(), store.participants());
    assertEquals(List.of(false), write(store, new Registered("b", "host-b:1", 10)));
    assertEquals(
        List.of(false, true),
        write(store, new Registered("a", "host-a:1", 20), new Registered("a", "host-a:2", 30)));
    assertEquals(List.of(true), write(store, new Registered("b", "host-b:2", 40)));
    assertEquals(
        List.of(
            new StoredParticipant("a", "host-a:2", 20, 30),
            new StoredParticipant("b", "host-b:2", 10, 40)),
        store.participants());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void pruneDeletesOnlyFinishedBeforeTheCutoffInBatches(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    List<LogRecord> setup = new ArrayList<>();
    long[] finishedAt = {10, 20, 30, 40, 50, 100};
    for (int i = 0; i < finishedAt.length; i++) {
      String tx = "tx-" + i;
      Begun b =
          begun(tx, i, 1_000, "key-" + i, TxState.PREPARING, branch("a", 0, BranchState.ENLISTED));
      setup.add(b);
      setup.add(
          decided(
              tx,
              Decision.COMMIT,
              TxState.COMMITTING,
              finishedAt[i] - 1,
              null,
              true,
              voted("a", 0, BranchState.COMMITTING, 1)));
      setup.add(new OperatorActed(tx, finishedAt[i] - 1, "RETRY", "op", "r", true, null));
      setup.add(
          new Finished(
              tx,
              TxState.COMMITTED,
              finishedAt[i],
              List.of(
                  new BranchUpdated(tx, "a", BranchState.COMMITTED, 1, null, 1L, finishedAt[i]))));
    }
    // unfinished, and older than every cutoff: never pruned
    setup.add(
        begun(
            "tx-open", 0, 1_000, "key-open", TxState.ACTIVE, branch("a", 0, BranchState.ENLISTED)));
    store.write(setup, Durability.FSYNC);
    assertEquals(6, store.countFinished());

    assertEquals(List.of(3), write(store, new Prune(45, 3)));
    assertEquals(3, store.countFinished());
    for (int i = 0; i < 3; i++) {
      assertEquals(Optional.empty(), store.find("tx-" + i));
      assertEquals(Optional.empty(), store.txIdForKey("key-" + i));
      assertEquals(Optional.empty(), store.decisionOf("tx-" + i));
    }
    assertTrue(store.find("tx-3").isPresent());
    assertEquals(List.of(1), write(store, new Prune(45, 3)));
    assertEquals(List.of(0), write(store, new Prune(45, 3)));
    assertEquals(2, store.countFinished());
    assertEquals(
        Set.of("tx-4", "tx-5", "tx-open"),
        Set.copyOf(ids(store.list(all(2_000, 100)).transactions())));
    assertEquals(List.of("tx-open"), ids(store.unfinished()));
    assertEquals(Optional.of("tx-open"), store.txIdForKey("key-open"));
    // a pruned key is free again
    write(store, begun("tx-new", 60, 1_000, "key-0", TxState.ACTIVE));
    assertEquals(Optional.of("tx-new"), store.txIdForKey("key-0"));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void unfinishedIsOldestFirst(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    write(
        store,
        begun("tx-c", 300, 1_000, null, TxState.ACTIVE, branch("a", 0, BranchState.ENLISTED)));
    write(
        store,
        begun("tx-a", 100, 1_000, null, TxState.ACTIVE),
        begun("tx-b", 200, 1_000, null, TxState.ONE_PHASE, branch("z", 0, BranchState.ENLISTED)));
    write(
        store,
        begun("tx-done", 50, 1_000, null, TxState.PREPARING),
        decided("tx-done", Decision.ABORT, TxState.ABORTED, 60, null, true));
    List<StoredTransaction> u = store.unfinished();
    assertEquals(List.of("tx-a", "tx-b", "tx-c"), ids(u));
    assertEquals(List.of(branch("z", 0, BranchState.ENLISTED)), u.get(1).branches());
    assertEquals(List.of(branch("a", 0, BranchState.ENLISTED)), u.get(2).branches());
  }

  /** One transaction of each state, and a clock at 10 000. */
  private static void sevenStates(LogStore store) {
    write(store, begun("t1", 1_000, 5_000, null, TxState.ACTIVE));
    write(store, begun("t2", 2_000, 100_000, null, TxState.ACTIVE));
    write(store, begun("t3", 3_000, 4_000, null, TxState.PREPARING));
    write(
        store,
        begun("t4", 4_000, 100_000, null, TxState.PREPARING),
        decided("t4", Decision.COMMIT, TxState.COMMITTING, 4_100, null, true));
    write(
        store,
        begun("t5", 5_000, 100_000, null, TxState.PREPARING),
        decided("t5", Decision.ABORT, TxState.ABORTING, 5_100, null, true));
    write(
        store,
        begun("t6", 6_000, 100_000, null, TxState.PREPARING),
        decided("t6", Decision.COMMIT, TxState.COMMITTED, 6_100, null, true));
    write(store, begun("t7", 7_000, 8_000, null, TxState.ONE_PHASE));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void listIsNewestFirstAndFilters(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    sevenStates(store);
    long now = 10_000;
    assertEquals(
        List.of("t7", "t6", "t5", "t4", "t3", "t2", "t1"),
        ids(store.list(all(now, 100)).transactions()));
    assertNull(store.list(all(now, 100)).next());
    assertEquals(
        List.of("t2", "t1"),
        ids(
            store
                .list(new Filter(List.of(TxState.ACTIVE), false, null, now, null, 100))
                .transactions()));
    assertEquals(
        List.of("t6"),
        ids(
            store
                .list(new Filter(List.of(TxState.COMMITTED), false, null, now, null, 100))
                .transactions()));
    assertEquals(
        List.of("t6", "t4"),
        ids(
            store
                .list(
                    new Filter(
                        List.of(TxState.COMMITTING, TxState.COMMITTED),
                        false,
                        null,
                        now,
                        null,
                        100))
                .transactions()));
    assertEquals(
        List.of(),
        ids(
            store
                .list(new Filter(List.of(TxState.ABORTED), false, null, now, null, 100))
                .transactions()));
    // in doubt: decided and not finished, or undecided past the deadline
    assertEquals(
        List.of("t7", "t5", "t4", "t3", "t1"),
        ids(store.list(new Filter(null, true, null, now, null, 100)).transactions()));
    assertEquals(
        List.of("t5", "t4"),
        ids(store.list(new Filter(null, true, null, 1_000, null, 100)).transactions()));
    assertEquals(
        List.of("t3"),
        ids(
            store
                .list(new Filter(List.of(TxState.PREPARING), true, null, now, null, 100))
                .transactions()));
    // created before (inclusive)
    assertEquals(
        List.of("t3", "t2", "t1"),
        ids(store.list(new Filter(null, false, 3_000L, now, null, 100)).transactions()));
    assertEquals(
        List.of("t4", "t3", "t1"),
        ids(store.list(new Filter(null, true, 4_000L, now, null, 100)).transactions()));
    assertEquals(
        List.of("t2", "t1"),
        ids(
            store
                .list(new Filter(List.of(TxState.ACTIVE), false, 2_500L, now, null, 100))
                .transactions()));
    assertEquals(
        List.of(), ids(store.list(new Filter(null, false, 999L, now, null, 100)).transactions()));
    // a page and the cursor after it
    Page first = store.list(all(now, 2));
    assertEquals(List.of("t7", "t6"), ids(first.transactions()));
    assertEquals(new Cursor(6_000, "t6"), first.next());
    Page second = store.list(new Filter(null, false, null, now, first.next(), 4));
    assertEquals(List.of("t5", "t4", "t3", "t2"), ids(second.transactions()));
    Page third = store.list(new Filter(null, false, null, now, second.next(), 4));
    assertEquals(List.of("t1"), ids(third.transactions()));
    assertNull(third.next());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void cursorPagesThroughEqualCreationTimes(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    List<LogRecord> setup = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 9; i >= 0; i--) {
      expected.add("tx-" + i);
    }
    for (int i = 0; i < 10; i++) {
      // seven share one creation time, three share an older one; all in doubt (late)
      setup.add(begun("tx-" + i, i < 3 ? 400 : 500, 450, null, TxState.ACTIVE));
    }
    store.write(setup, Durability.FSYNC);
    for (boolean inDoubt : new boolean[] {false, true}) {
      for (int pageSize : new int[] {1, 3, 7, 10}) {
        List<String> seen = new ArrayList<>();
        Cursor after = null;
        int pages = 0;
        do {
          Page p =
              store.list(
                  new Filter(
                      inDoubt ? null : List.of(TxState.ACTIVE),
                      inDoubt,
                      null,
                      1_000,
                      after,
                      pageSize));
          seen.addAll(ids(p.transactions()));
          after = p.next();
          pages++;
          assertTrue(pages <= 10, "paging does not end");
        } while (after != null);
        assertEquals(expected, seen, "inDoubt=" + inDoubt + " pageSize=" + pageSize);
        assertEquals((10 + pageSize - 1) / pageSize, pages);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void aDuplicateIdempotencyKeyFailsTheWrite(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    write(store, begun("tx-1", 10, 1_000, "order-42", TxState.ACTIVE));
    assertThrows(
        LogStoreException.class,
        () -> write(store, begun("tx-2", 20, 1_000, "order-42", TxState.ACTIVE)));
    assertThrows(
        LogStoreException.class,
        () ->
            write(
                store,
                decided(
                    "tx-3",
                    Decision.COMMIT,
                    TxState.COMMITTED,
                    30,
                    begun("tx-3", 30, 1_000, "order-42", TxState.ONE_PHASE),
                    false)));
    // a batch is all or nothing
    assertThrows(
        LogStoreException.class,
        () ->
            write(
                store,
                begun("tx-4", 40, 1_000, "fresh", TxState.ACTIVE),
                begun("tx-5", 50, 1_000, "fresh", TxState.ACTIVE)));
    for (String tx : List.of("tx-2", "tx-3", "tx-4", "tx-5")) {
      assertEquals(Optional.empty(), store.find(tx), tx);
    }
    assertEquals(Optional.of("tx-1"), store.txIdForKey("order-42"));
    assertEquals(Optional.empty(), store.txIdForKey("fresh"));
    assertEquals(List.of("tx-1"), ids(store.list(all(100, 10)).transactions()));
    // the store still works
    write(store, begun("tx-6", 60, 1_000, "fresh", TxState.ACTIVE));
    assertEquals(Optional.of("tx-6"), store.txIdForKey("fresh"));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void everythingSurvivesACloseAndReopen(StoreKind kind) throws Exception {
    TestStore s = stores.create(kind);
    LogStore store = LogStore.open(s.config(Durability.FSYNC));
    sevenStates(store);
    write(
        store,
        new Registered("a", "host-a:1", 10),
        new OperatorActed("t4", 4_200, "RETRY", "op", "why not", true, null),
        begun("t8", 8_000, 9_000, "key-8", TxState.ACTIVE, branch("a", 0, BranchState.ENLISTED)));
    List<StoredTransaction> before = store.list(all(10_000, 100)).transactions();
    List<StoredTransaction> unfinishedBefore = store.unfinished();
    store.close();

    LogStore again = open(s);
    assertEquals(before, again.list(all(10_000, 100)).transactions());
    assertEquals(unfinishedBefore, again.unfinished());
    for (StoredTransaction t : before) {
      assertEquals(Optional.of(t), again.find(t.txId()));
    }
    assertEquals(1, again.countFinished());
    assertEquals(Optional.of("t8"), again.txIdForKey("key-8"));
    assertEquals(Optional.of(Decision.COMMIT), again.decisionOf("t4"));
    assertEquals(List.of(new StoredParticipant("a", "host-a:1", 10, 10)), again.participants());
    // and it goes on writing where it was
    write(again, new Finished("t4", TxState.COMMITTED, 9_500, List.of()), new Prune(9_000, 10));
    assertEquals(1, again.countFinished());
    assertEquals(Optional.empty(), again.find("t6"));
  }

  /**
   * The largest values the API lets in, and participant or error text of any length (a vote's
   * reason, a phase-2 error, an abort reason quoting them): the write succeeds, data comes back
   * whole, and free text at least its first 1000 characters (an operator's name 127).
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreKind.class)
  void theLargestValuesTheApiAllowsAreWritten(StoreKind kind) throws Exception {
    LogStore store = fresh(kind);
    Map<String, String> labels = new java.util.TreeMap<>();
    for (int i = 0; i < 32; i++) {
      // 32 labels of 64-character keys and 256-character values, non-ASCII and reserved chars
      labels.put(String.format("%02d", i) + "k".repeat(61) + "é", "v☃&=%😀".repeat(51) + "x");
    }
    String txId = "t".repeat(128);
    String key = "k".repeat(255) + "😀".substring(0, 1);
    String text = "ü😀 long participant text; ".repeat(400); // 10 800 chars
    String operator = "o".repeat(1024);
    BranchRow row =
        new BranchRow(
            "p".repeat(64),
            0,
            "d".repeat(64),
            Vote.NO,
            text,
            BranchState.ROLLED_BACK,
            1,
            text,
            1L,
            2L,
            3L);
    Begun b =
        new Begun(txId, 10, 1_000, key.substring(0, 255), labels, List.of(), TxState.PREPARING);
    write(
        store,
        b,
        new Decided(
            txId,
            Decision.ABORT,
            TxState.ABORTING,
            20,
            "protocol",
            "participant p voted NO: " + text,
            List.of(row),
            b,
            true),
        new OperatorActed(txId, 30, "ABORT", operator, "r".repeat(1024), false, text),
        new BranchUpdated(txId, row.participant(), BranchState.ROLLED_BACK, 2, text, 4L, 5L),
        new Registered("p".repeat(64), "h".repeat(253) + ":99", 40));
    StoredTransaction t = get(store, txId);
    assertEquals(labels, t.labels());
    assertEquals(key.substring(0, 255), t.idempotencyKey());
    assertEquals(Optional.of(txId), store.txIdForKey(key.substring(0, 255)));
    assertClipped("participant p voted NO: " + text, t.abortReason(), 1000);
    BranchRow back = t.branches().get(0);
    assertClipped(text, back.voteReason(), 1000);
    assertClipped(text, back.lastError(), 1000);
    OperatorActed a = t.actions().get(0);
    assertClipped(operator, a.operator(), 127);
    assertEquals("r".repeat(1024), a.reason());
    assertClipped(text, a.refusal(), 1000);
    assertEquals("h".repeat(253) + ":99", store.participants().get(0).address());
  }

  /** Stored whole, or cut to at least {@code kept} characters (never half a character). */
  private static void assertClipped(String written, String read, int kept) {
    // A cut value ends in the ellipsis Limits.text puts there; the rest is the value's start.
    String body =
        read != null && read.length() < written.length() && read.endsWith("\u2026")
            ? read.substring(0, read.length() - 1)
            : read;
    assertTrue(
        body != null
            && written.startsWith(body)
            && read.length() >= Math.min(written.length(), kept),
        () ->
            "read back "
                + (read == null ? "null" : read.length() + " chars")
                + " of "
                + written.length());
    assertFalse(Character.isHighSurrogate(read.charAt(read.length() - 1)));
  }

  @Test
  void anOldH2LogInTheDataDirectoryIsRefused(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("twopc.mv.db"), "H2 0.1 log");
    IOException e =
        assertThrows(
            IOException.class,
            () -> LogStore.open(CoordinatorConfig.builder().dataDir(dir).build()));
    String m = e.getMessage();
    assertFalse(m.contains("\n"), m);
    assertTrue(m.contains("H2") && m.contains("--jdbc-url"), m);
    assertFalse(Files.exists(dir.resolve("log")), "nothing was created beside the old log");
  }
}
