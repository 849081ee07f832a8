package dev.twopc.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.proto.v1.OperatorAction;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeParticipant;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each command against a real coordinator over gRPC with its H2 log, and real participants. */
class TxCommandsTest {
  @TempDir static Path data;
  static TestCoordinator coordinator;
  static FakeParticipant alpha;
  static FakeParticipant beta;

  @BeforeAll
  static void start() throws Exception {
    coordinator = TestCoordinator.start(data);
    alpha = coordinator.participant("alpha");
    beta = coordinator.participant("beta");
  }

  @AfterAll
  static void stop() throws Exception {
    alpha.close();
    beta.close();
    coordinator.close();
  }

  private static Cli.Result twopc(String... args) {
    return Cli.against(coordinator.target(), args);
  }

  @Test
  void listShowsCommittedTransactionsAsTableAndJson() {
    String tx = coordinator.executeAndWait(alpha, beta).getTxId();

    Cli.Result table = twopc("tx", "list", "--state", "committed");
    assertEquals(0, table.exitCode(), table.toString());
    assertTrue(table.outLines().get(0).startsWith("TX ID"), table.out());
    String row =
        table.outLines().stream()
            .filter(l -> l.startsWith(tx))
            .findFirst()
            .orElseThrow(() -> new AssertionError(tx + " not listed:\n" + table.out()));
    assertTrue(
        row.matches(java.util.regex.Pattern.quote(tx) + " +COMMITTED +\\d+(ms|s) +2 +1 *"), row);

    Cli.Result json = twopc("tx", "list", "--json", "--state", "COMMITTED");
    assertEquals(0, json.exitCode(), json.toString());
    TransactionView view =
        Protos.txs(json).stream().filter(t -> t.getTxId().equals(tx)).findFirst().orElseThrow();
    assertEquals(TransactionState.TRANSACTION_STATE_COMMITTED, view.getState());
    assertEquals(2, view.getBranchesCount());
    assertFalse(view.getInDoubt());

    Cli.Result none = twopc("tx", "list", "--in-doubt");
    assertEquals(0, none.exitCode(), none.toString());
    assertFalse(none.out().contains(tx), none.out());
  }

  @Test
  void severalNodesAreTriedInOrderAndTheFirstThatConnectsAnswers() throws Exception {
    String tx = coordinator.executeAndWait(alpha, beta).getTxId();
    String dead = "127.0.0.1:" + CliUsageTest.freePort();
    Cli.Result r = Cli.against(dead + "," + coordinator.target(), "tx", "show", tx);
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(r.out().contains(tx), r.out());

    Cli.Result none = Cli.against(dead + "," + dead, "tx", "show", tx);
    assertEquals(3, none.exitCode(), none.toString());
    assertTrue(none.err().startsWith("twopc: cannot reach coordinator at " + dead), none.err());

    Cli.Result bad = Cli.against(coordinator.target() + ",", "tx", "show", tx);
    assertEquals(2, bad.exitCode(), bad.toString());
  }

  @Test
  void showPrintsBranchesAndTimeline() {
    String tx = coordinator.executeAndWait(alpha, beta).getTxId();

    Cli.Result r = twopc("tx", "show", tx);
    assertEquals(0, r.exitCode(), r.toString());
    String out = r.out();
    assertTrue(out.startsWith("Transaction " + tx + "\n"), out);
    assertTrue(out.contains("state            COMMITTED (outcome COMMITTED)"), out);
    assertTrue(out.contains("Branches (2)\n  alpha  " + alpha.address()), out);
    assertTrue(out.contains("  beta  " + beta.address()), out);
    assertTrue(out.contains("vote YES   state COMMITTED   attempts 1   parked no"), out);
    assertTrue(out.contains("Timeline\n  AT"), out);
    assertTrue(out.contains("DECIDED"), out);
    assertTrue(out.contains("Operator actions\n  (none)"), out);

    Cli.Result json = twopc("tx", "show", tx, "--json");
    assertEquals(0, json.exitCode(), json.toString());
    assertEquals(1, json.outLines().size());
    TransactionView view = Protos.tx(json.out());
    assertEquals(tx, view.getTxId());
    assertEquals(Outcome.OUTCOME_COMMITTED, view.getOutcome());
    assertEquals(
        List.of("alpha", "beta"),
        view.getBranchesList().stream()
            .map(b -> b.getParticipant())
            .sorted()
            .collect(Collectors.toList()));
    assertTrue(view.getBranchesList().stream().allMatch(b -> b.getVote() == Vote.VOTE_YES));
    assertTrue(view.getTimelineCount() > 0);
  }

  @Test
  void unknownTransactionExitsFour() {
    for (String[] cmd :
        new String[][] {
          {"tx", "show", "no-such-tx"},
          {"tx", "show", "no-such-tx", "--json"},
          {"tx", "retry", "no-such-tx"},
          {"tx", "commit", "no-such-tx", "--reason", "r"},
          {"tx", "abort", "no-such-tx", "--reason", "r"}
        }) {
      Cli.Result r = twopc(cmd);
      assertEquals(4, r.exitCode(), r.toString());
      assertTrue(r.err().startsWith("twopc: ") && r.err().contains("no-such-tx"), r.err());
      assertEquals(1, r.err().split("\\R").length, r.err());
      assertEquals("", r.out());
    }
  }

  @Test
  void malformedIdIsABadArgument() {
    Cli.Result r = twopc("tx", "show", "not a valid id!");
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.err().startsWith("twopc: invalid argument: "), r.err());
  }

  @Test
  void commitWithoutEveryYesIsRefusedAndAbortIsAcceptedBothRecorded() {
    String tx = coordinator.begin(alpha);

    Cli.Result commit = twopc("tx", "commit", tx, "--reason", "looks done");
    assertEquals(5, commit.exitCode(), commit.toString());
    assertTrue(commit.err().startsWith("twopc: refused: "), commit.err());
    assertTrue(commit.err().contains("alpha"), commit.err());
    assertEquals("", commit.out());

    Cli.Result abort = twopc("tx", "abort", tx, "--reason", "client went away");
    assertEquals(0, abort.exitCode(), abort.toString());
    assertTrue(
        abort
            .out()
            .startsWith(
                "ABORT of "
                    + tx
                    + " accepted (operator "
                    + System.getProperty("user.name")
                    + "): state ABORT"),
        abort.out());

    TransactionView view = Protos.tx(twopc("tx", "show", tx, "--json").out());
    assertEquals(Outcome.OUTCOME_ABORTED, view.getOutcome());
    List<OperatorAction> actions = view.getOperatorActionsList();
    assertEquals(2, actions.size(), actions.toString());
    assertEquals("COMMIT", actions.get(0).getAction());
    assertFalse(actions.get(0).getAccepted());
    assertEquals("looks done", actions.get(0).getReason());
    assertFalse(actions.get(0).getRefusal().isEmpty());
    assertEquals("ABORT", actions.get(1).getAction());
    assertTrue(actions.get(1).getAccepted());
    assertEquals(System.getProperty("user.name"), actions.get(1).getOperator());

    Cli.Result shown = twopc("tx", "show", tx);
    assertTrue(
        shown.out().contains("COMMIT by " + System.getProperty("user.name") + ": REFUSED"),
        shown.out());
    assertTrue(shown.out().contains("reason: client went away"), shown.out());
  }

  @Test
  void participantsListsWhoIsRegistered() {
    Cli.Result r = twopc("participants");
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(
        r.outLines().get(0).matches("NAME +ADDRESS +LAST SEEN +IN DOUBT +LAST ERROR"), r.out());
    assertTrue(
        r.outLines().stream()
            .anyMatch(l -> l.matches("alpha +" + alpha.address() + " +(\\S+ ago|never) +0")),
        r.out());

    Cli.Result json = twopc("participants", "--json");
    assertEquals(0, json.exitCode(), json.toString());
    ParticipantInfo b =
        Protos.participants(json).stream()
            .filter(p -> p.getName().equals("beta"))
            .findFirst()
            .orElseThrow();
    assertEquals(beta.address(), b.getAddress());
    assertTrue(b.hasRegisteredAt());
  }
}
