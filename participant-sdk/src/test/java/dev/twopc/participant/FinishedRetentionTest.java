package dev.twopc.participant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeClock;
import dev.twopc.testing.FakeCoordinator;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finished transaction ids are remembered for the retention, then pruned. */
class FinishedRetentionTest {
  @TempDir Path dir;

  @Test
  void finishedIdsArePrunedAfterTheRetention() throws Exception {
    FakeClock time = new FakeClock();
    try (FakeCoordinator coord = FakeCoordinator.start();
        Participant p =
            Participant.builder("pruned")
                .coordinator(coord.target())
                .dataDirectory(dir)
                .handler(new TestHandler())
                .clock(time.clock())
                .finishedRetention(Duration.ofHours(1))
                .pruneInterval(Duration.ofMillis(50))
                .build()) {
      p.start();
      try (ParticipantClient rpc = new ParticipantClient(p.port(), "pruned", coord.target())) {
        rpc.rollback("tx-old");
        assertEquals(Vote.VOTE_NO, rpc.prepare("tx-old", "a").getVote());
        assertEquals(1, finishedRows());
        time.forward(Duration.ofHours(2));
        rpc.rollback("tx-new");
        await().atMost(Duration.ofSeconds(10)).until(() -> finishedRows() == 1);
        // The recent one is still remembered.
        assertEquals(Vote.VOTE_NO, rpc.prepare("tx-new", "a").getVote());
      }
    }
  }

  private long finishedRows() throws SQLException {
    try (Connection c = DriverManager.getConnection(BusinessDb.url(dir, "pruned"), "sa", "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM TWOPC_FINISHED_BRANCH")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
