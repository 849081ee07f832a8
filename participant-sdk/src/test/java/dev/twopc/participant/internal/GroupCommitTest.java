package dev.twopc.participant.internal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit on the embedded store's real single-connection SQLite pool: members queued behind
 * one that has the connection share one COMMIT; a member's rollback or close touches only its own
 * work; a transaction the database ended under the members fails them all, and the next batch
 * starts clean.
 */
class GroupCommitTest {
  @TempDir Path dir;
  private ScheduledExecutorService scheduler;
  private ExecutorService threads;
  private EmbeddedStore store;

  /** COMMITs the real connection received. */
  private final AtomicInteger commits = new AtomicInteger();

  @BeforeEach
  void open() throws SQLException {
    scheduler = Executors.newSingleThreadScheduledExecutor();
    threads = Executors.newCachedThreadPool();
    store = EmbeddedStore.open(dir, "g", true, Duration.ofHours(1), scheduler);
    try (Connection c = store.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE T (K VARCHAR(16) PRIMARY KEY)");
      c.commit();
    }
  }

  @AfterEach
  void close() {
    threads.shutdownNow();
    store.close();
    scheduler.shutdownNow();
  }

  /** When set, the real connection's COMMIT throws this instead of committing. */
  private volatile Throwable commitFailure;

  /** The store's pool, counting the COMMITs its connection receives. */
  private DataSource counting() {
    DataSource pool = store.dataSource();
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (self, m, args) -> {
              Object r = m.invoke(pool, args);
              if (!m.getName().equals("getConnection")) {
                return r;
              }
              Connection real = (Connection) r;
              return Proxy.newProxyInstance(
                  Connection.class.getClassLoader(),
                  new Class<?>[] {Connection.class},
                  (s2, m2, a2) -> {
                    if (m2.getName().equals("commit")) {
                      commits.incrementAndGet();
                      Throwable f = commitFailure;
                      if (f != null) {
                        throw f;
                      }
                    }
                    try {
                      return m2.invoke(real, a2);
                    } catch (InvocationTargetException e) {
                      throw e.getCause();
                    }
                  });
            });
  }

  private static void insert(Connection c, String key) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("INSERT INTO T VALUES ('" + key + "')");
    }
  }

  /** The keys a fresh connection sees committed. */
  private Set<String> committed() throws SQLException {
    Set<String> out = new TreeSet<>();
    try (Connection c = store.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT K FROM T")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      c.rollback();
    }
    return out;
  }

  /** Starts {@code n} members that each wait for the connection, then run {@code work}. */
  private List<Future<?>> queue(GroupCommit group, int n, MemberWork work) {
    int before = group.waiting();
    List<Future<?>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int id = i;
      out.add(
          threads.submit(
              () -> {
                try (Connection c = group.begin()) {
                  work.run(id, c);
                }
                return null;
              }));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> group.waiting() == before + n);
    return out;
  }

  /** Batch bounds a busy machine cannot reach in a test: only the queue decides the batch. */
  private static GroupCommit unbounded(DataSource pool) {
    return new GroupCommit(pool, Duration.ofSeconds(30), Integer.MAX_VALUE, Long.MAX_VALUE);
  }

  /** The holder's commit, from another thread: it returns once its batch is durable. */
  private Future<?> commitLater(Connection holder) {
    return threads.submit(
        () -> {
          holder.commit();
          return null;
        });
  }

  /** A member that writes {@code prefix + id} and commits. */
  private static MemberWork writes(String prefix) {
    return (id, c) -> {
      insert(c, prefix + id);
      c.commit();
    };
  }

  /** A batch after a failed one commits: the connection was given back fit for use. */
  private void assertTheNextBatchCommits(GroupCommit group, String key) throws SQLException {
    try (Connection c = group.begin()) {
      insert(c, key);
      c.commit();
    }
    assertTrue(committed().contains(key), key + " committed after the failure");
  }

  interface MemberWork {
    void run(int id, Connection c) throws Exception;
  }

  @Test
  void membersQueuedBehindTheHolderShareOneCommit() throws Exception {
    GroupCommit group = unbounded(counting());
    Connection holder = group.begin();
    insert(holder, "h");
    List<Future<?>> members = queue(group, 20, writes("m"));
    Future<?> holderCommit = commitLater(holder);
    holderCommit.get(30, TimeUnit.SECONDS);
    for (Future<?> f : members) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertEquals(1, commits.get(), "21 members, one COMMIT");
    Set<String> keys = committed();
    assertEquals(21, keys.size());
    assertTrue(keys.contains("h") && keys.contains("m0") && keys.contains("m19"));

    // A lone member commits at once, in a batch of its own.
    try (Connection c = group.begin()) {
      insert(c, "alone");
      c.commit();
    }
    assertEquals(2, commits.get());
    assertTrue(committed().contains("alone"));
  }

  @Test
  void aMembersRollbackOrCloseUndoesOnlyItsOwnWork() throws Exception {
    GroupCommit group = unbounded(counting());
    Connection holder = group.begin();
    insert(holder, "h");
    List<Future<?>> members =
        queue(
            group,
            3,
            (id, c) -> {
              switch (id) {
                case 0 -> {
                  insert(c, "yes");
                  c.commit();
                }
                case 1 -> { // votes NO after writing: its work undone, its refusal recorded
                  insert(c, "undone");
                  c.rollback();
                  insert(c, "refusal");
                  c.commit();
                }
                default -> insert(c, "discarded"); // closed without a commit
              }
            });
    Future<?> holderCommit = commitLater(holder);
    holderCommit.get(30, TimeUnit.SECONDS);
    for (Future<?> f : members) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertEquals(Set.of("h", "refusal", "yes"), committed());
    assertEquals(1, commits.get());
  }

  @Test
  void anEndedMembersConnectionRefusesUseAndKeepsTheTransactionOpen() throws Exception {
    GroupCommit group = new GroupCommit(store.dataSource(), Duration.ofSeconds(30));
    Connection c = group.begin();
    assertFalse(c.getAutoCommit());
    c.setAutoCommit(false);
    SQLException auto = assertThrows(SQLException.class, () -> c.setAutoCommit(true));
    assertEquals("25000", auto.getSQLState());
    insert(c, "k");
    c.commit();
    assertTrue(c.isClosed());
    SQLException used = assertThrows(SQLException.class, () -> insert(c, "late"));
    assertEquals("08003", used.getSQLState());
    c.rollback(); // nothing of its own is left: a no-op
    c.close();
    assertEquals(Set.of("k"), committed());
  }

  @Test
  void aTransactionTheDatabaseEndedFailsEveryMemberAndTheNextBatchStartsClean() throws Exception {
    GroupCommit group = new GroupCommit(store.dataSource(), Duration.ofSeconds(30));
    Connection holder = group.begin();
    insert(holder, "lost");
    List<Future<?>> members =
        queue(
            group,
            1,
            (id, c) -> {
              // Ends the shared transaction behind the SDK's back (as SQLite does by itself on some
              // errors): the holder's work is gone, and this member's savepoint with it.
              try (Statement s = c.createStatement()) {
                s.execute("ROLLBACK");
              }
              c.commit();
            });
    Future<?> holderCommit = commitLater(holder);
    ExecutionException h =
        assertThrows(ExecutionException.class, () -> holderCommit.get(30, TimeUnit.SECONDS));
    assertInstanceOf(SQLException.class, h.getCause());
    ExecutionException m =
        assertThrows(ExecutionException.class, () -> members.get(0).get(30, TimeUnit.SECONDS));
    assertInstanceOf(SQLException.class, m.getCause());
    assertFalse(committed().contains("lost"), "a failed member's work is not durable");

    // The failed connection was dropped: the next batch commits normally.
    assertTheNextBatchCommits(group, "after");
    try (Connection c = group.begin()) {
      insert(c, "undone");
      c.rollback();
      c.commit();
    }
    assertEquals(Set.of("after"), committed());
  }

  @Test
  @Timeout(60)
  void aMemberWaitsForTheConnectionOnlyAsLongAsItIsTold() throws Exception {
    GroupCommit group = new GroupCommit(store.dataSource(), Duration.ofMillis(200));
    try (Connection holder = group.begin()) {
      long start = System.nanoTime();
      SQLTransientConnectionException e =
          assertThrows(SQLTransientConnectionException.class, group::begin);
      assertTrue(
          System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(200),
          "it waited its 200 ms first");
      assertEquals("08001", e.getSQLState());
      assertEquals(0, group.waiting());
      insert(holder, "k");
      holder.commit();
    }
    assertEquals(Set.of("k"), committed());
  }

  @Test
  void aCommitThatThrowsAnythingTellsNoMemberItsWorkIsDurable() throws Exception {
    GroupCommit group = unbounded(counting());
    List<Throwable> failures =
        List.of(new IllegalStateException("driver bug"), new StackOverflowError("at COMMIT"));
    for (Throwable failure : failures) {
      Connection holder = group.begin();
      insert(holder, "h");
      List<Future<?>> members = queue(group, 2, writes("m"));
      commitFailure = failure;
      for (Future<?> f : List.of(commitLater(holder), members.get(0), members.get(1))) {
        ExecutionException e =
            assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        // The members are told the batch failed; the Error itself reaches the one that ended it.
        assertTrue(
            e.getCause() instanceof SQLException || e.getCause() == failure,
            "not told its work is durable: " + e.getCause());
      }
      commitFailure = null;
      assertFalse(committed().contains("h"), "nothing of the failed batch is durable");
      assertTheNextBatchCommits(group, "after " + failure.getClass().getSimpleName());
    }
  }

  @Test
  void anInterruptedWaiterStillTakesItsTurnAndKeepsTheInterrupt() throws Exception {
    GroupCommit group = new GroupCommit(counting(), Duration.ofSeconds(30));
    Connection holder = group.begin();
    insert(holder, "h");
    CompletableFuture<Thread> waiterThread = new CompletableFuture<>();
    Future<Boolean> waiter =
        threads.submit(
            () -> {
              waiterThread.complete(Thread.currentThread());
              try (Connection c = group.begin()) {
                boolean interrupted = Thread.interrupted(); // kept for the caller; cleared to go on
                insert(c, "m");
                c.commit();
                return interrupted;
              }
            });
    await().atMost(Duration.ofSeconds(30)).until(() -> group.waiting() == 1);
    waiterThread.get().interrupt();
    holder.commit();
    assertTrue(waiter.get(30, TimeUnit.SECONDS), "the interrupt is kept for the caller");
    assertEquals(Set.of("h", "m"), committed());
    assertEquals(1, commits.get(), "the interrupted waiter still joined the holder's batch");
  }

  @Test
  void theBatchStopsGrowingOnceItsFirstMemberHasWaitedItsBound() throws Exception {
    long bound = 20;
    GroupCommit group =
        new GroupCommit(
            counting(),
            Duration.ofSeconds(30),
            Integer.MAX_VALUE,
            TimeUnit.MILLISECONDS.toNanos(bound));
    Connection holder = group.begin();
    insert(holder, "h");
    List<Future<?>> members =
        queue(
            group,
            2,
            (id, c) -> {
              // Each keeps the connection past the bound: the holder, who committed first, has
              // waited that long when the first of them gives it back.
              await()
                  .pollDelay(Duration.ofMillis(2 * bound))
                  .atMost(Duration.ofSeconds(30))
                  .until(() -> true);
              insert(c, "m" + id);
              c.commit();
            });
    commitLater(holder).get(30, TimeUnit.SECONDS);
    for (Future<?> f : members) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertEquals(Set.of("h", "m0", "m1"), committed());
    assertEquals(2, commits.get(), "the second member's work went into a batch of its own");
  }

  @Test
  void readersCountTowardsTheSessionBound() throws Exception {
    GroupCommit group = new GroupCommit(counting(), Duration.ofSeconds(30), 2, Long.MAX_VALUE);
    Connection holder = group.begin();
    insert(holder, "h");
    // Queued in this order (the condition's queue is first come, first served): a reader, which
    // takes a turn and commits nothing, then a writer.
    List<Future<?>> queued = new ArrayList<>(queue(group, 1, (id, c) -> c.rollback()));
    queued.addAll(
        queue(
            group,
            1,
            (id, c) -> {
              insert(c, "w");
              c.commit();
            }));
    commitLater(holder).get(30, TimeUnit.SECONDS);
    for (Future<?> f : queued) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertEquals(Set.of("h", "w"), committed());
    // The holder and the reader use up the 2 turns: the writer's work is a batch of its own.
    assertEquals(2, commits.get());
  }
}
