package dev.twopc.coordinator.internal.log.jdbc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.log.DecisionLog.DecisionResult;
import dev.twopc.coordinator.internal.log.LogRecord;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.log.LogStore;
import dev.twopc.coordinator.internal.log.NodeLeases;
import dev.twopc.coordinator.internal.log.Owner;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.testing.Records;
import dev.twopc.coordinator.testing.StoreKind;
import dev.twopc.coordinator.testing.TestStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Ownership on one PostgreSQL log shared by two nodes, each with its own store (pool): leases on
 * the database's clock, fencing of a lapsed node, claims that split the work, and owner-only writes
 * that a fenced node's late writes cannot change.
 */
class NodeLeasesTest {
  private TestStore store;
  private LogStore a;
  private LogStore b;
  private NodeLeases leasesA;
  private NodeLeases leasesB;

  @BeforeEach
  void open() throws Exception {
    store = TestStore.create(StoreKind.POSTGRESQL);
    a = LogStore.open(store.config(Durability.FSYNC));
    b = LogStore.open(store.config(Durability.FSYNC));
    leasesA = a.leases().orElseThrow();
    leasesB = b.leases().orElseThrow();
  }

  @AfterEach
  void close() throws Exception {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private static long now() {
    return System.currentTimeMillis();
  }

  private void write(LogStore s, LogRecord... records) {
    s.write(List.of(records), Durability.FSYNC);
  }

  @Test
  void aFencedNodesLateWritesMatchNoRowAndItsLeaseIsNeverRenewed() {
    Owner nodeA = leasesA.join("a", "a:1", 300);
    Owner nodeB = leasesB.join("b", "b:1", 60_000);
    write(a, Records.executeCommitted("tx-1", now(), "a", "p", "q"));
    assertEquals(List.of(), leasesB.claim(nodeB, 10), "a's lease holds: nothing to claim");

    await().atMost(Duration.ofSeconds(30)).until(() -> leasesB.fenceLapsed().contains("a"));
    assertFalse(leasesA.renew(nodeA, null, 300), "a fenced lease is not renewed");
    List<StoredTransaction> claimed = leasesB.claim(nodeB, 10);
    assertEquals(List.of("tx-1"), claimed.stream().map(StoredTransaction::txId).toList());
    assertEquals(Decision.COMMIT, claimed.get(0).decision());

    // a, paused past its lease, wakes and writes what it was doing: nothing changes
    long t = now();
    write(
        a,
        new BranchUpdated("tx-1", "p", BranchState.COMMITTED, 1, null, t, t),
        new Finished(
            "tx-1",
            TxState.COMMITTED,
            t,
            List.of(new BranchUpdated("tx-1", "q", BranchState.COMMITTED, 1, null, t, t))));
    StoredTransaction after = b.find("tx-1").orElseThrow();
    assertNull(after.finishedAt(), "a's end of a transaction b owns is not written");
    assertTrue(
        after.branches().stream().allMatch(r -> r.state() == BranchState.COMMITTING),
        "a's phase-2 progress is not written: " + after.branches());
    assertEquals(
        List.of("tx-1"), leasesB.owned(nodeB).stream().map(StoredTransaction::txId).toList());

    // b's own writes land
    write(
        b,
        new Finished(
            "tx-1",
            TxState.COMMITTED,
            t,
            List.of(
                new BranchUpdated("tx-1", "p", BranchState.COMMITTED, 1, null, t, t),
                new BranchUpdated("tx-1", "q", BranchState.COMMITTED, 1, null, t, t))));
    assertTrue(b.find("tx-1").orElseThrow().finished());

    // a rejoins under a new epoch and renews from there
    Owner again = leasesA.join("a", "a:1", 60_000);
    assertTrue(again.epoch() > nodeA.epoch());
    assertTrue(leasesA.renew(again, "a:2", 60_000));
    assertEquals(
        "a:2",
        leasesB.nodes().stream().filter(n -> n.nodeId().equals("a")).findFirst().get().address());
  }

  @Test
  void aRestartedNodeClaimsItsOwnEarlierWorkAtOnce() {
    Owner first = leasesA.join("a", "a:1", 60_000);
    write(a, new Begun("tx-2", now(), now() + 30_000, null, Map.of(), List.of(), TxState.ACTIVE));
    assertEquals(List.of(), leasesA.claim(first, 10), "its own current epoch's rows");
    Owner restarted = leasesA.join("a", "a:1", 60_000);
    assertEquals(
        List.of("tx-2"),
        leasesA.claim(restarted, 10).stream().map(StoredTransaction::txId).toList(),
        "no lease to wait for: the earlier epoch's rows are free");
    assertEquals(List.of(), leasesB.claim(leasesB.join("b", "b:1", 60_000), 10));
  }

  @Test
  void twoNodesClaimingAtOnceSplitTheWorkWithoutOverlap() throws Exception {
    Owner dead = leasesA.join("dead", "d:1", 60_000);
    List<LogRecord> batch = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      batch.add(
          new Begun(
              "tx-" + i, now() + i, now() + 30_000, null, Map.of(), List.of(), TxState.ACTIVE));
    }
    a.write(batch, Durability.FSYNC);
    leasesA.release(dead);
    await().atMost(Duration.ofSeconds(30)).until(() -> leasesA.fenceLapsed().contains("dead"));

    Owner x = leasesA.join("x", "x:1", 60_000);
    Owner y = leasesB.join("y", "y:1", 60_000);
    Set<String> byX = ConcurrentHashMap.newKeySet();
    Set<String> byY = ConcurrentHashMap.newKeySet();
    CompletableFuture<Void> cx = CompletableFuture.runAsync(() -> drain(leasesA, x, byX));
    CompletableFuture<Void> cy = CompletableFuture.runAsync(() -> drain(leasesB, y, byY));
    cx.get();
    cy.get();
    Set<String> both = new HashSet<>(byX);
    both.retainAll(byY);
    assertEquals(Set.of(), both, "no transaction claimed twice");
    assertEquals(300, byX.size() + byY.size());
  }

  private static void drain(NodeLeases leases, Owner self, Set<String> into) {
    List<StoredTransaction> got;
    do {
      got = leases.claim(self, 7);
      got.forEach(t -> into.add(t.txId()));
    } while (!got.isEmpty());
  }

  @Test
  void anotherNodesTombstoneDoesNotFailTheOwnersBatch() {
    Owner nodeA = leasesA.join("a", "a:1", 60_000);
    leasesB.join("b", "b:1", 60_000);
    // b was asked for the outcome of tx-t before a wrote anything of it: ABORT, insert-if-absent
    Decided tombstone =
        new Decided(
            "tx-t",
            Decision.ABORT,
            TxState.ABORTED,
            now(),
            "outcome",
            "no decision when a participant asked",
            List.of(),
            new Begun("tx-t", now(), now(), null, Map.of(), List.of(), TxState.ACTIVE),
            false);
    assertEquals(
        new DecisionResult(Decision.ABORT, true),
        b.write(List.of(tombstone), Durability.FSYNC).get(0));

    // a's COMMIT of tx-t shares a batch with another transaction's: the batch stands, tx-t aborts
    List<Object> results =
        a.write(
            List.of(
                Records.executeCommitted("tx-t", now(), "a", "p"),
                Records.executeCommitted("tx-other", now(), "a", "p")),
            Durability.FSYNC);
    assertEquals(new DecisionResult(Decision.ABORT, false), results.get(0));
    assertEquals(new DecisionResult(Decision.COMMIT, true), results.get(1));
    assertEquals(Decision.ABORT, a.find("tx-t").orElseThrow().decision());
    assertEquals(
        List.of("tx-other"), leasesA.owned(nodeA).stream().map(StoredTransaction::txId).toList());
  }
}
