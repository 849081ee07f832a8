package dev.twopc.participant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeCoordinator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * {@link Participant#start()} refuses stores known to lose commits that returned, accepts a safe H2
 * configuration, and the embedded SQLite store is configured as documented.
 */
class StoreSafetyTest {
  @TempDir Path dir;
  private FakeCoordinator coordinator;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void startCoordinator() throws Exception {
    coordinator = FakeCoordinator.start();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    coordinator.close();
  }

  private Participant.Builder builder(String name) {
    return Participant.builder(name).coordinator(coordinator.target()).handler(new TestHandler());
  }

  private HikariDataSource h2(String settings) {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl("jdbc:h2:file:" + dir.resolve("h2").toAbsolutePath() + settings);
    hc.setUsername("sa");
    hc.setPassword("");
    hc.setAutoCommit(false);
    HikariDataSource ds = new HikariDataSource(hc);
    toClose.add(ds);
    return ds;
  }

  private String refusal(DataSource ds) {
    Participant p = builder("refused").dataSource(ds).build();
    toClose.add(p);
    IllegalStateException e = assertThrows(IllegalStateException.class, p::start);
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertThrows(IllegalStateException.class, p::port, "must not be serving");
    return e.getMessage();
  }

  @Test
  void h2WithItsDefaultWriteDelayIsRefused() {
    String m = refusal(h2(""));
    assertTrue(m.startsWith("refusing the participant store: H2 2."), m);
    assertTrue(m.contains("WRITE_DELAY=500") && m.contains(";WRITE_DELAY=0"), m);
  }

  @Test
  void h2TwoFiveReusingSpaceIsRefused() {
    String m = refusal(h2(";WRITE_DELAY=0"));
    assertTrue(m.contains("H2 2.5.") && m.contains("REUSE_SPACE=true"), m);
    assertTrue(m.contains(";REUSE_SPACE=FALSE"), m);
  }

  @Test
  void sqliteOutsideWalModeIsRefused() {
    SQLiteConfig sc = new SQLiteConfig();
    sc.setJournalMode(SQLiteConfig.JournalMode.DELETE);
    SQLiteDataSource ds = new SQLiteDataSource(sc);
    ds.setUrl("jdbc:sqlite:" + dir.resolve("rollback-journal.db").toAbsolutePath());
    String m = refusal(ds);
    assertTrue(m.contains("SQLite 3.") && m.contains("journal_mode=delete, not WAL"), m);
  }

  @Test
  void h2WithoutWriteDelayOrSpaceReuseIsAccepted() throws Exception {
    HikariDataSource ds = h2(";WRITE_DELAY=0;REUSE_SPACE=FALSE");
    Participant p = builder("h2ok").dataSource(ds).build();
    toClose.add(p);
    p.start();
    try (ParticipantClient rpc = new ParticipantClient(p.port(), "h2ok", coordinator.target())) {
      assertEquals(Vote.VOTE_YES, rpc.prepare("tx-h2", "a").getVote());
      rpc.commit("tx-h2");
    }
    assertEquals(List.of("a"), BusinessDb.of(ds).applied("tx-h2"));
  }

  @Test
  void embeddedStoreIsWalWithFullSyncAndTheServiceReadsItsTablesThroughIt() throws Exception {
    Participant p =
        builder("orders").dataDirectory(dir).storeInitializer(TestHandler::createTables).build();
    toClose.add(p);
    p.start();
    try (ParticipantClient rpc = new ParticipantClient(p.port(), "orders", coordinator.target())) {
      assertEquals(Vote.VOTE_YES, rpc.prepare("tx-e", "o1").getVote());
    }
    assertEquals(List.of("o1"), BusinessDb.of(p.dataSource()).staged("tx-e"));
    assertEquals("wal", pragma(p.dataSource(), "journal_mode"));
    assertEquals("2", pragma(p.dataSource(), "synchronous")); // FULL
    assertEquals(String.valueOf(16 * 1024 * 1024), pragma(p.dataSource(), "journal_size_limit"));
    assertTrue(Integer.parseInt(pragma(p.dataSource(), "busy_timeout")) > 0);
    assertTrue(Files.exists(dir.resolve("orders.db")));
  }

  @Test
  void normalSyncIsTheOptOut() throws Exception {
    Participant p = builder("fast").dataDirectory(dir).embeddedSync(EmbeddedSync.NORMAL).build();
    toClose.add(p);
    p.start();
    assertEquals("1", pragma(p.dataSource(), "synchronous")); // NORMAL
  }

  @Test
  void theWalIsTruncatedByThePeriodicCheckpoint() throws Exception {
    Participant p =
        builder("ckpt")
            .dataDirectory(dir)
            .embeddedCheckpointInterval(Duration.ofMillis(50))
            .build();
    toClose.add(p);
    p.start();
    try (ParticipantClient rpc = new ParticipantClient(p.port(), "ckpt", coordinator.target())) {
      for (int i = 0; i < 20; i++) {
        assertEquals(Vote.VOTE_YES, rpc.prepare("tx-" + i, "k" + i).getVote());
        rpc.commit("tx-" + i);
      }
    }
    Path wal = dir.resolve("ckpt.db-wal");
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.size(wal) == 0);
  }

  @Test
  void badEmbeddedSettingsNameTheField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> builder("x").embeddedCheckpointInterval(Duration.ZERO).build());
    assertTrue(e.getMessage().startsWith("embeddedCheckpointInterval"), e.getMessage());
    NullPointerException n =
        assertThrows(NullPointerException.class, () -> builder("x").embeddedSync(null).build());
    assertEquals("embeddedSync", n.getMessage());
  }

  private static String pragma(DataSource ds, String name) throws Exception {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("PRAGMA " + name)) {
      rs.next();
      String v = rs.getString(1);
      c.rollback();
      return v;
    }
  }
}
