package dev.twopc.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.MiniCluster;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The testing module's forked launcher: a real {@code twopc coordinator} process, killed -9. */
class ForkedClusterTest {
  @TempDir Path dir;

  @Test
  void aCommitSurvivesKillMinus9OfAForkedCoordinatorAndARestartOnItsPort() throws Exception {
    try (MiniCluster cluster = MiniCluster.start(dir, MiniCluster.forked())) {
      FakeParticipant a = cluster.participant("a");
      FakeParticipant b = cluster.participant("b");
      int port = cluster.coordinator().port();
      ExecuteResponse r = cluster.stub().execute(TestCoordinator.executeRequest(true, a, b));
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome(), r.getReason());

      cluster.crashAndRestart();
      assertEquals(port, cluster.coordinator().port());
      assertEquals(
          Outcome.OUTCOME_COMMITTED,
          cluster
              .stub()
              .getTransaction(GetTransactionRequest.newBuilder().setTxId(r.getTxId()).build())
              .getOutcome());
    }
  }
}
