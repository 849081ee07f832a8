package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.MiniCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A participant in a forked JVM is halted at a crash point and restarted on the same files: its
 * prepared branch comes back with its locks before any call is served, and resolves to the
 * coordinator's decision. Halting right after the YES is durable also checks that the embedded
 * store's commits survive a kill (WRITE_DELAY=0).
 */
class CrashTest {
  @TempDir Path dir;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T c) {
    toClose.add(c);
    return c;
  }

  private Participant inProcess(String name, String coordinator) throws Exception {
    Participant p =
        closing(
            Participant.builder(name)
                .coordinator(coordinator)
                .dataDirectory(dir.resolve(name))
                .handler(new TestHandler())
                .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .build());
    p.start();
    return p;
  }

  private static String readyPort(ForkedParticipant f) throws InterruptedException {
    String line = f.nextLine();
    assertTrue(line.startsWith("READY port="), line);
    return line.substring("READY port=".length());
  }

  @Test
  void crashAfterDurableYesWithCoordinatorDownDuringRecoveryConvergesToAbort() throws Exception {
    Path invDir = dir.resolve("inventory");
    MiniCluster coord =
        closing(MiniCluster.start(dir.resolve("cluster"), Coordinators.inProcess()));
    String target = coord.target();
    inProcess("payments", target);

    ForkedParticipant crashing =
        closing(
            new ForkedParticipant(
                "inventory", invDir, target, "prepared", dir.resolve("inventory-1.log")));
    readyPort(crashing);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> coord.isRegistered("inventory") && coord.isRegistered("payments"));

    TransactionResult r;
    try (TransactionClient client = TransactionClient.builder().target(target).build()) {
      r =
          client.execute(
              List.of(
                  new TransactionBranch("inventory", "sku-1".getBytes(UTF_8)),
                  new TransactionBranch("payments", "acct-1".getBytes(UTF_8))));
    }
    assertEquals(ParticipantProcessMain.HALT_CODE, crashing.awaitExit());
    assertEquals(TransactionOutcome.ABORTED, r.outcome(), r.reason());
    coord.stopCoordinator();

    // Restart with the coordinator down: the branch is back, locked, before anything is served.
    ForkedParticipant restarted =
        closing(
            new ForkedParticipant("inventory", invDir, target, "", dir.resolve("inventory-2.log")));
    assertEquals(
        "RECOVERED tx=" + r.txId() + " locks=[sku-1] holders=[" + r.txId() + "] serving=false",
        restarted.nextLine());
    int port = Integer.parseInt(readyPort(restarted));
    try (ParticipantClient rpc = new ParticipantClient(port, "inventory", target)) {
      assertEquals(Vote.VOTE_NO, rpc.prepare("tx-probe", "sku-1").getVote());
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                List<PreparedBranch> b = rpc.listPrepared().getBranchesList();
                return b.size() == 1
                    && b.get(0).getTxId().equals(r.txId())
                    && b.get(0).getOutcomeQueries() >= 3
                    && b.get(0).getLastError().contains("UNAVAILABLE");
              });

      // The coordinator comes back where the branch recorded it; the participant converges.
      coord.startCoordinator();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> rpc.listPrepared().getBranchesCount() == 0);
      assertEquals(
          dev.twopc.proto.v1.Outcome.OUTCOME_ABORTED, coord.transaction(r.txId()).getOutcome());
      assertEquals(Vote.VOTE_YES, rpc.prepare("tx-probe-2", "sku-1").getVote());
      rpc.rollback("tx-probe-2");
    }
    assertEquals(0, restarted.quit());
    assertEquals(List.of(), BusinessDb.staged(invDir, "inventory", r.txId()));
    assertEquals(List.of(), BusinessDb.applied(invDir, "inventory", r.txId()));
  }

  @Test
  void crashInsideCommitRecoversTheBranchAndCommitsIt() throws Exception {
    Path invDir = dir.resolve("inventory");
    MiniCluster coord =
        closing(MiniCluster.start(dir.resolve("cluster"), Coordinators.inProcess()));
    inProcess("payments", coord.target());
    ForkedParticipant crashing =
        closing(
            new ForkedParticipant(
                "inventory", invDir, coord.target(), "commit", dir.resolve("inventory-1.log")));
    readyPort(crashing);
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> coord.isRegistered("inventory") && coord.isRegistered("payments"));

    TransactionResult r;
    try (TransactionClient client = TransactionClient.builder().target(coord.target()).build()) {
      r =
          client.execute(
              List.of(
                  new TransactionBranch("inventory", "sku-2,sku-3".getBytes(UTF_8)),
                  new TransactionBranch("payments", "acct-2".getBytes(UTF_8))));
    }
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    assertEquals(ParticipantProcessMain.HALT_CODE, crashing.awaitExit());

    ForkedParticipant restarted =
        closing(
            new ForkedParticipant(
                "inventory", invDir, coord.target(), "", dir.resolve("inventory-2.log")));
    assertEquals(
        "RECOVERED tx="
            + r.txId()
            + " locks=[sku-2, sku-3] holders=["
            + r.txId()
            + "] serving=false",
        restarted.nextLine());
    int port = Integer.parseInt(readyPort(restarted));
    try (ParticipantClient rpc = new ParticipantClient(port, "inventory", coord.target())) {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> rpc.listPrepared().getBranchesCount() == 0);
    }
    assertEquals(0, restarted.quit());
    assertEquals(List.of("sku-2", "sku-3"), BusinessDb.applied(invDir, "inventory", r.txId()));
    assertEquals(List.of(), BusinessDb.staged(invDir, "inventory", r.txId()));
  }
}
