package dev.twopc.participant.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.participant.LockUnavailableException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LockManagerTest {
  private static final long NO_WAIT = 0;
  private static final long LONG = TimeUnit.SECONDS.toNanos(10);
  private final LockManager locks = new LockManager();

  @Test
  void exclusiveLockIsReentrantAndExcludesOthers() {
    locks.acquire("t1", "a", LockManager.Mode.EXCLUSIVE, NO_WAIT);
    locks.acquire("t1", "a", LockManager.Mode.EXCLUSIVE, NO_WAIT);
    locks.acquire("t1", "a", LockManager.Mode.SHARED, NO_WAIT);
    LockUnavailableException e =
        assertThrows(
            LockUnavailableException.class,
            () -> locks.acquire("t2", "a", LockManager.Mode.SHARED, NO_WAIT));
    assertEquals("a", e.key());
    assertTrue(e.getMessage().contains("held by tx=t1"), e.getMessage());
    assertEquals(Map.of("a", LockManager.Mode.EXCLUSIVE), locks.heldBy("t1"));
  }

  @Test
  void sharedLocksCoexistAndASoleSharedHolderCanUpgrade() {
    locks.acquire("t1", "a", LockManager.Mode.SHARED, NO_WAIT);
    locks.acquire("t2", "a", LockManager.Mode.SHARED, NO_WAIT);
    assertThrows(
        LockUnavailableException.class,
        () -> locks.acquire("t1", "a", LockManager.Mode.EXCLUSIVE, NO_WAIT));
    locks.releaseAll("t2");
    locks.acquire("t1", "a", LockManager.Mode.EXCLUSIVE, NO_WAIT);
    assertEquals(List.of("t1"), locks.holders("a"));
  }

  @Test
  void releaseWakesAWaiter() throws Exception {
    locks.acquire("t1", "a", LockManager.Mode.EXCLUSIVE, NO_WAIT);
    CountDownLatch waiting = new CountDownLatch(1);
    CompletableFuture<Void> t2 =
        CompletableFuture.runAsync(
            () -> {
              waiting.countDown();
              locks.acquire("t2", "a", LockManager.Mode.EXCLUSIVE, LONG);
            });
    assertTrue(waiting.await(5, TimeUnit.SECONDS));
    locks.releaseAll("t1");
    t2.get(5, TimeUnit.SECONDS);
    assertEquals(List.of("t2"), locks.holders("a"));
    locks.releaseAll("t2");
    assertTrue(locks.owners().isEmpty());
    assertEquals(List.of(), locks.holders("a"));
  }

  @Test
  void aDeadlockLastsAtMostTheWaitBound() throws Exception {
    long bound = Duration.ofMillis(200).toNanos();
    locks.acquire("t1", "a", LockManager.Mode.EXCLUSIVE, NO_WAIT);
    locks.acquire("t2", "b", LockManager.Mode.EXCLUSIVE, NO_WAIT);
    CompletableFuture<Boolean> t1 = CompletableFuture.supplyAsync(() -> tryLock("t1", "b", bound));
    CompletableFuture<Boolean> t2 = CompletableFuture.supplyAsync(() -> tryLock("t2", "a", bound));
    // Neither releases what it holds while waiting, so both give up at the bound: never a hang.
    assertFalse(t1.get(5, TimeUnit.SECONDS));
    assertFalse(t2.get(5, TimeUnit.SECONDS));
    assertEquals(List.of("t1"), locks.holders("a"));
    assertEquals(List.of("t2"), locks.holders("b"));
  }

  private boolean tryLock(String tx, String key, long waitNanos) {
    try {
      locks.acquire(tx, key, LockManager.Mode.EXCLUSIVE, waitNanos);
      return true;
    } catch (LockUnavailableException e) {
      return false;
    }
  }

  @Test
  void restoreNeverWaits() {
    assertTrue(locks.restore("t1", "a", LockManager.Mode.SHARED));
    assertTrue(locks.restore("t2", "a", LockManager.Mode.SHARED));
    assertTrue(locks.restore("t3", "b", LockManager.Mode.EXCLUSIVE));
    assertEquals(List.of("t3"), locks.holders("b"));
  }

  @Test
  void codecRoundTripsAnyKey() {
    Map<String, LockManager.Mode> m = new java.util.LinkedHashMap<>();
    m.put("plain", LockManager.Mode.EXCLUSIVE);
    m.put("with:colon,comma\nnewline", LockManager.Mode.SHARED);
    m.put("12:34", LockManager.Mode.EXCLUSIVE);
    assertEquals(m, Codec.decodeLocks(Codec.encodeLocks(m)));
    List<byte[]> work =
        Codec.decodeWork(Codec.encodeWork(new byte[] {1, 2}, List.of(new byte[] {3}, new byte[0])));
    assertEquals(3, work.size());
    assertEquals(2, work.get(0).length);
    assertEquals(0, work.get(2).length);
  }
}
