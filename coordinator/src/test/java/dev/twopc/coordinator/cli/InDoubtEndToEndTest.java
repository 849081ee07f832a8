package dev.twopc.coordinator.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.proto.v1.Branch;
import dev.twopc.proto.v1.OperatorAction;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.FakeParticipant;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's story: a participant fails during phase 2, the CLI shows the transaction in doubt
 * with that participant's error, an unsafe abort is refused and changes nothing, the participant
 * comes back and the transaction completes on its own.
 */
class InDoubtEndToEndTest {
  @TempDir Path data;
  TestCoordinator coordinator;
  FakeParticipant alpha;
  FakeParticipant beta;

  @BeforeEach
  void start() throws Exception {
    coordinator = TestCoordinator.start(data);
    alpha = coordinator.participant("alpha");
    beta = coordinator.participant("beta");
  }

  @AfterEach
  void stop() throws Exception {
    alpha.close();
    beta.close();
    coordinator.close();
  }

  private Cli.Result twopc(String... args) {
    return Cli.against(coordinator.target(), args);
  }

  private Optional<TransactionView> inDoubt(String tx) {
    Cli.Result r = twopc("tx", "list", "--in-doubt", "--json");
    assertEquals(0, r.exitCode(), r.toString());
    return Protos.txs(r).stream().filter(t -> t.getTxId().equals(tx)).findFirst();
  }

  @Test
  void failingParticipantShowsInDoubtThenCompletes() {
    beta.phase2Down(true);
    String tx = coordinator.execute(alpha, beta).getTxId();

    // in doubt, with beta's error, in both forms
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                inDoubt(tx)
                    .map(t -> branch(t, "beta").getLastError().contains("beta is down"))
                    .orElse(false));
    TransactionView view = inDoubt(tx).orElseThrow();
    assertEquals(TransactionState.TRANSACTION_STATE_COMMITTING, view.getState());
    assertTrue(view.getInDoubt());
    assertTrue(branch(view, "beta").getAttempts() >= 1);
    Cli.Result table = twopc("tx", "list", "--in-doubt");
    assertEquals(0, table.exitCode(), table.toString());
    String row =
        table.outLines().stream()
            .filter(l -> l.startsWith(tx))
            .findFirst()
            .orElseThrow(() -> new AssertionError(table.out()));
    assertTrue(
        row.matches(".* COMMITTING +\\S+ +2 +[1-9]\\d* +(yes)? +beta: .*beta is down.*"), row);

    // the other views agree
    Cli.Result show = twopc("tx", "show", tx);
    assertTrue(show.out().contains("[IN DOUBT]"), show.out());
    assertTrue(
        show.out().contains("last error    ") && show.out().contains("beta is down"), show.out());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              ParticipantInfo b =
                  Protos.participants(twopc("participants", "--json")).stream()
                      .filter(p -> p.getName().equals("beta"))
                      .findFirst()
                      .orElseThrow();
              return b.getInDoubtBranches() == 1 && b.getLastError().contains("beta is down");
            });
    Cli.Result prepared = Cli.run("participant", "in-doubt", "--address", beta.address());
    assertEquals(0, prepared.exitCode(), prepared.toString());
    assertTrue(prepared.out().contains(tx + "  beta"), prepared.out());
    assertEquals(
        List.of(tx),
        Protos.prepared(Cli.run("participant", "in-doubt", "--address", beta.address(), "--json"))
            .stream()
            .map(b -> b.getTxId())
            .toList());

    // an operator retry is fine while it is still down
    Cli.Result retry = twopc("tx", "retry", tx);
    assertEquals(0, retry.exitCode(), retry.toString());
    assertTrue(
        retry.out().startsWith("retry requested for " + tx + ": state COMMITTING"), retry.out());

    // beta comes back: the coordinator finishes by itself
    beta.phase2Down(false);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> twopc("tx", "list", "--in-doubt").out().equals("no transactions in doubt\n"));
    Cli.Result done = twopc("tx", "show", tx);
    assertTrue(done.out().contains("state            COMMITTED (outcome COMMITTED)"), done.out());
    assertTrue(alpha.committed().contains(tx) && beta.committed().contains(tx));
    assertEquals(
        "no prepared branches in doubt at " + beta.address() + "\n",
        Cli.run("participant", "in-doubt", "--address", beta.address()).out());
  }

  @Test
  void abortAfterCommitDecisionIsRefusedAndChangesNothing() {
    beta.phase2Down(true);
    String tx = coordinator.execute(alpha, beta).getTxId();
    await().atMost(Duration.ofSeconds(10)).until(() -> alpha.committed().contains(tx));
    TransactionView before = Protos.tx(twopc("tx", "show", tx, "--json").out());
    assertEquals(Outcome.OUTCOME_COMMITTED, before.getOutcome());

    Cli.Result abort = twopc("tx", "abort", tx, "--reason", "beta is broken");
    assertEquals(5, abort.exitCode(), abort.toString());
    assertEquals(1, abort.err().split("\\R").length, abort.err());
    assertTrue(abort.err().startsWith("twopc: refused: "), abort.err());
    assertTrue(abort.err().contains("COMMIT"), abort.err());
    assertEquals("", abort.out());

    TransactionView after = Protos.tx(twopc("tx", "show", tx, "--json").out());
    assertEquals(Outcome.OUTCOME_COMMITTED, after.getOutcome());
    assertEquals(TransactionState.TRANSACTION_STATE_COMMITTING, after.getState());
    assertTrue(after.getAbortReason().isEmpty(), after.getAbortReason());
    OperatorAction refused = after.getOperatorActions(after.getOperatorActionsCount() - 1);
    assertEquals("ABORT", refused.getAction());
    assertFalse(refused.getAccepted());
    assertEquals("beta is broken", refused.getReason());
    assertEquals(System.getProperty("user.name"), refused.getOperator());
    assertFalse(refused.getRefusal().isEmpty());
    assertTrue(alpha.rolledBack().isEmpty() && beta.rolledBack().isEmpty());

    beta.phase2Down(false);
    await().atMost(Duration.ofSeconds(10)).until(() -> beta.committed().contains(tx));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                Protos.tx(twopc("tx", "show", tx, "--json").out()).getState()
                    == TransactionState.TRANSACTION_STATE_COMMITTED);
  }

  private static Branch branch(TransactionView tx, String participant) {
    return tx.getBranchesList().stream()
        .filter(b -> b.getParticipant().equals(participant))
        .findFirst()
        .orElseThrow(() -> new AssertionError(participant + " not in " + tx));
  }
}
