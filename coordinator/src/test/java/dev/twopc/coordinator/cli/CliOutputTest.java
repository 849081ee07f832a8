package dev.twopc.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.twopc.proto.v1.Branch;
import dev.twopc.proto.v1.BranchState;
import dev.twopc.proto.v1.ListParticipantsResponse;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.OperatorAction;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.proto.v1.Resolution;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.TimelineEvent;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.proto.v1.Vote;
import io.grpc.Status;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Output shapes and error mapping against a scripted coordinator, so every field and status is
 * covered deterministically.
 */
class CliOutputTest {
  private static final Instant T0 = Instant.parse("2025-01-02T03:04:05.678Z");
  private ScriptedCoordinator coordinator;

  @BeforeEach
  void start() throws Exception {
    coordinator = new ScriptedCoordinator();
  }

  @AfterEach
  void stop() throws Exception {
    coordinator.close();
  }

  @Test
  void listPrintsAnAlignedTableWithinOneHundredTwentyColumns() {
    coordinator.transactions =
        List.of(
            inDoubt("tx-1"),
            TransactionView.newBuilder()
                .setTxId("x".repeat(100))
                .setState(TransactionState.TRANSACTION_STATE_COMMITTED)
                .setAge(Duration.newBuilder().setSeconds(2 * 86_400 + 3600))
                .addBranches(
                    Branch.newBuilder()
                        .setParticipant("p")
                        .setAttempts(1)
                        .setLastError("E".repeat(300)))
                .build());
    Cli.Result r = Cli.against(coordinator.target(), "tx", "list");
    assertEquals(0, r.exitCode(), r.toString());
    List<String> lines = r.outLines();
    assertEquals(3, lines.size(), r.out());
    assertTrue(
        lines.get(0).matches("TX ID +STATE +AGE +BRANCHES +ATTEMPTS +PARKED +LAST ERROR"),
        lines.get(0));
    // the long id widens its column to the cap, so this error is cut too
    assertTrue(
        lines.get(1).matches("tx-1 +COMMITTING +3m12s +2 +7 +yes +payments: UNAVAIL.*\\.\\.\\."),
        lines.get(1));
    assertTrue(lines.get(2).startsWith("x".repeat(37) + "...  COMMITTED   2d01h"), lines.get(2));
    assertTrue(lines.get(2).endsWith("E..."), lines.get(2));
    for (String line : lines) {
      assertTrue(line.length() <= 120, line.length() + ": " + line);
    }
    int stateColumn = lines.get(0).indexOf("STATE");
    assertEquals(stateColumn, lines.get(1).indexOf("COMMITTING"));
    assertEquals(stateColumn, lines.get(2).indexOf("COMMITTED"));
  }

  @Test
  void listSendsTheFiltersAndSaysWhenNothingMatches() {
    Cli.Result r =
        Cli.against(
            coordinator.target(),
            "tx",
            "list",
            "--in-doubt",
            "--state",
            "committing,aborting",
            "--state",
            "TRANSACTION_STATE_ACTIVE",
            "--older-than",
            "90s");
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals("no transactions in doubt\n", r.out());
    ListTransactionsRequest req = coordinator.listRequests.get(0);
    assertTrue(req.getInDoubt());
    assertEquals(
        List.of(
            TransactionState.TRANSACTION_STATE_COMMITTING,
            TransactionState.TRANSACTION_STATE_ABORTING,
            TransactionState.TRANSACTION_STATE_ACTIVE),
        req.getStatesList());
    assertEquals(90, req.getOlderThan().getSeconds());
    assertEquals(100, req.getPageSize());
  }

  @Test
  void listPagesUpToTheLimit() throws Exception {
    List<TransactionView> many = new ArrayList<>();
    for (int i = 0; i < 2500; i++) {
      many.add(
          TransactionView.newBuilder()
              .setTxId("tx-" + i)
              .setState(TransactionState.TRANSACTION_STATE_COMMITTED)
              .build());
    }
    coordinator.transactions = many;

    Cli.Result all = Cli.against(coordinator.target(), "tx", "list", "--limit", "5000", "--json");
    assertEquals(0, all.exitCode(), all.toString());
    List<String> lines = all.outLines();
    assertEquals(2500, lines.size());
    assertEquals("tx-2499", parse(lines.get(2499)).getTxId());
    assertEquals(List.of(1000, 1000, 1000), pageSizes());

    coordinator.listRequests.clear();
    Cli.Result some = Cli.against(coordinator.target(), "tx", "list", "--limit", "1200");
    assertEquals(0, some.exitCode(), some.toString());
    assertEquals(1 + 1200 + 1, some.outLines().size());
    assertTrue(some.out().endsWith("(first 1200 shown; more match: raise --limit)\n"), some.out());
    assertEquals(List.of(1000, 200), pageSizes());
  }

  @Test
  void listJsonIsOneProto3ObjectPerLine() throws Exception {
    coordinator.transactions = List.of(inDoubt("tx-1"), inDoubt("tx-2"));
    Cli.Result r = Cli.against(coordinator.target(), "tx", "list", "--json");
    assertEquals(0, r.exitCode(), r.toString());
    List<String> lines = r.outLines();
    assertEquals(2, lines.size());
    assertEquals(inDoubt("tx-1"), parse(lines.get(0)));
    String line = lines.get(0);
    assertTrue(
        line.startsWith("{\"txId\":\"tx-1\",\"state\":\"TRANSACTION_STATE_COMMITTING\""), line);
    assertTrue(line.contains("\"createdAt\":\"2025-01-02T03:04:05.678Z\""), line);
    assertTrue(line.contains("\"lastError\":\"UNAVAILABLE: connection refused\""), line);
    assertTrue(line.contains("\"age\":\"192s\""), line);
    // fields without presence are always there, so scripts need no defaults; unset times are not
    assertTrue(
        line.contains("\"idempotencyKey\":\"\"") && line.contains("\"abortReason\":\"\""), line);
    assertFalse(line.contains("finishedAt"), line);
  }

  @Test
  void showPrintsBranchesTimelineAndOperatorActions() {
    coordinator.transaction = inDoubt("tx-1");
    Cli.Result r = Cli.against(coordinator.target(), "tx", "show", "tx-1");
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(List.of("tx-1"), coordinator.getRequests);
    String out = r.out();
    for (String expected :
        new String[] {
          "Transaction tx-1  [IN DOUBT, PARKED]",
          "state            COMMITTING (outcome COMMITTED)",
          "age              3m12s",
          "created          2025-01-02T03:04:05.678Z",
          "labels           order=o-17",
          "Branches (2)",
          "  orders  localhost:7101",
          "    vote YES   state COMMITTED   attempts 1   parked no",
          "  payments  localhost:7102",
          "    vote YES   state COMMITTING   attempts 7   parked yes",
          "    last error    UNAVAILABLE: connection refused",
          "    last attempt  2025-01-02T03:07:05.678Z",
          "Timeline",
          "Operator actions",
          "ABORT by alice: REFUSED",
          "reason: payments is gone",
          "refusal: COMMIT was decided",
        }) {
      assertTrue(out.contains(expected), "missing '" + expected + "' in\n" + out);
    }
    assertTrue(out.matches("(?s).*\\n  2025-01-02T03:04:05.718Z +DECIDED +- +COMMIT\\n.*"), out);
    assertTrue(
        out.matches("(?s).*\\n  2025-01-02T03:04:05.708Z +PREPARED +payments +YES\\n.*"), out);
  }

  @Test
  void showJsonRoundTrips() throws Exception {
    coordinator.transaction = inDoubt("tx-1");
    Cli.Result r = Cli.against(coordinator.target(), "tx", "show", "tx-1", "--json");
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(1, r.outLines().size());
    assertEquals(inDoubt("tx-1"), parse(r.out()));
  }

  @Test
  void resolveSendsOperatorReasonAndResolution() {
    coordinator.transaction =
        TransactionView.newBuilder()
            .setTxId("tx-9")
            .setState(TransactionState.TRANSACTION_STATE_ABORTING)
            .setOutcome(Outcome.OUTCOME_ABORTED)
            .build();
    Cli.Result r =
        Cli.against(
            coordinator.target(), "tx", "abort", "tx-9", "--reason", " stuck since the outage ");
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(
        "ABORT of tx-9 accepted (operator "
            + System.getProperty("user.name")
            + "): state ABORTING, outcome ABORTED\n",
        r.out());
    ResolveTransactionRequest req = coordinator.resolveRequests.get(0);
    assertEquals("tx-9", req.getTxId());
    assertEquals(Resolution.RESOLUTION_ABORT, req.getResolution());
    assertEquals("stuck since the outage", req.getReason());
    assertEquals(System.getProperty("user.name"), req.getOperator());

    Cli.Result c = Cli.against(coordinator.target(), "tx", "commit", "tx-9", "--reason", "ok");
    assertEquals(0, c.exitCode(), c.toString());
    assertEquals(Resolution.RESOLUTION_COMMIT, coordinator.resolveRequests.get(1).getResolution());
  }

  @Test
  void retrySaysWhatIsLeft() {
    coordinator.transaction = inDoubt("tx-1");
    Cli.Result r = Cli.against(coordinator.target(), "tx", "retry", "tx-1");
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(
        "retry requested for tx-1: state COMMITTING, 1 branch(es) not yet acknowledged\n", r.out());
    assertEquals(System.getProperty("user.name"), coordinator.retryRequests.get(0).getOperator());
  }

  @Test
  void participantsTableAndJson() throws Exception {
    Instant now = Instant.now();
    coordinator.participants =
        ListParticipantsResponse.newBuilder()
            .addParticipants(
                ParticipantInfo.newBuilder()
                    .setName("orders")
                    .setAddress("localhost:7101")
                    .setLastSeen(ts(now.minusSeconds(75)))
                    .setRegisteredAt(ts(T0)))
            .addParticipants(
                ParticipantInfo.newBuilder()
                    .setName("payments")
                    .setAddress("localhost:7102")
                    .setInDoubtBranches(3)
                    .setLastError("UNAVAILABLE: connection refused"))
            .build();
    Cli.Result r = Cli.against(coordinator.target(), "participants");
    assertEquals(0, r.exitCode(), r.toString());
    List<String> lines = r.outLines();
    assertTrue(lines.get(0).matches("NAME +ADDRESS +LAST SEEN +IN DOUBT +LAST ERROR"), r.out());
    assertTrue(lines.get(1).matches("orders +localhost:7101 +1m1[5-9]s ago +0"), lines.get(1));
    assertTrue(
        lines.get(2).matches("payments +localhost:7102 +never +3 +UNAVAILABLE: connection refused"),
        lines.get(2));

    Cli.Result j = Cli.against(coordinator.target(), "participants", "--json");
    assertEquals(0, j.exitCode(), j.toString());
    assertEquals(2, j.outLines().size());
    ParticipantInfo.Builder p = ParticipantInfo.newBuilder();
    JsonFormat.parser().merge(j.outLines().get(1), p);
    assertEquals(coordinator.participants.getParticipants(1), p.build());
    assertTrue(j.outLines().get(0).contains("\"registeredAt\":\"2025-01-02T03:04:05.678Z\""));
  }

  @Test
  void statusesMapToExitCodesWithOneLine() {
    record Case(Status status, int exit, String err) {}
    String t = coordinator.target();
    for (Case c :
        new Case[] {
          new Case(
              Status.NOT_FOUND.withDescription("unknown transaction tx-1"),
              4,
              "twopc: unknown transaction tx-1\n"),
          new Case(
              Status.FAILED_PRECONDITION.withDescription("COMMIT was decided"),
              5,
              "twopc: refused: COMMIT was decided\n"),
          new Case(
              Status.INVALID_ARGUMENT.withDescription("malformed id"),
              2,
              "twopc: invalid argument: malformed id\n"),
          new Case(
              Status.UNAVAILABLE.withDescription("decision log\nunavailable"),
              3,
              "twopc: coordinator at " + t + " is unavailable: decision log unavailable\n"),
          new Case(
              Status.INTERNAL.withDescription("boom"),
              1,
              "twopc: coordinator at " + t + " failed: INTERNAL: boom\n"),
        }) {
      coordinator.failure = c.status();
      Cli.Result r = Cli.against(t, "tx", "abort", "tx-1", "--reason", "r");
      assertEquals(c.exit(), r.exitCode(), r.toString());
      assertEquals(c.err(), r.err());
      assertEquals("", r.out());
    }
  }

  @Test
  void aSilentCoordinatorHitsTheDeadline() {
    coordinator.silent = true;
    Cli.Result r =
        Cli.run("tx", "show", "tx-1", "--coordinator", coordinator.target(), "--timeout", "300ms");
    assertEquals(3, r.exitCode(), r.toString());
    assertEquals(
        "twopc: no answer from coordinator at "
            + coordinator.target()
            + " within 300ms (raise --timeout?)\n",
        r.err());
    assertFalse(r.err().contains("\tat "));
  }

  private List<Integer> pageSizes() {
    List<Integer> sizes = new ArrayList<>();
    for (ListTransactionsRequest req : coordinator.listRequests) {
      sizes.add(req.getPageSize());
    }
    return sizes;
  }

  private static TransactionView parse(String json) throws InvalidProtocolBufferException {
    TransactionView.Builder b = TransactionView.newBuilder();
    JsonFormat.parser().merge(json, b);
    return b.build();
  }

  static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  /** A COMMIT-decided transaction whose payments branch keeps failing. */
  static TransactionView inDoubt(String id) {
    return TransactionView.newBuilder()
        .setTxId(id)
        .setState(TransactionState.TRANSACTION_STATE_COMMITTING)
        .setOutcome(Outcome.OUTCOME_COMMITTED)
        .setCreatedAt(ts(T0))
        .setDeadline(ts(T0.plusSeconds(30)))
        .setDecidedAt(ts(T0.plusMillis(40)))
        .setAge(Duration.newBuilder().setSeconds(192))
        .setInDoubt(true)
        .setParked(true)
        .putLabels("order", "o-17")
        .addBranches(
            Branch.newBuilder()
                .setParticipant("orders")
                .setAddress("localhost:7101")
                .setVote(Vote.VOTE_YES)
                .setState(BranchState.BRANCH_STATE_COMMITTED)
                .setAttempts(1)
                .setLastAttemptAt(ts(T0.plusMillis(50)))
                .setAcknowledgedAt(ts(T0.plusMillis(60))))
        .addBranches(
            Branch.newBuilder()
                .setParticipant("payments")
                .setAddress("localhost:7102")
                .setVote(Vote.VOTE_YES)
                .setState(BranchState.BRANCH_STATE_COMMITTING)
                .setAttempts(7)
                .setLastError("UNAVAILABLE: connection refused")
                .setParked(true)
                .setLastAttemptAt(ts(T0.plusSeconds(180)))
                .setNextAttemptAt(ts(T0.plusSeconds(210))))
        .addTimeline(TimelineEvent.newBuilder().setAt(ts(T0)).setKind("BEGUN"))
        .addTimeline(
            TimelineEvent.newBuilder()
                .setAt(ts(T0.plusMillis(30)))
                .setKind("PREPARED")
                .setParticipant("payments")
                .setDetail("YES"))
        .addTimeline(
            TimelineEvent.newBuilder()
                .setAt(ts(T0.plusMillis(40)))
                .setKind("DECIDED")
                .setDetail("COMMIT"))
        .addOperatorActions(
            OperatorAction.newBuilder()
                .setAt(ts(T0.plusSeconds(190)))
                .setAction("ABORT")
                .setOperator("alice")
                .setReason("payments is gone")
                .setAccepted(false)
                .setRefusal("COMMIT was decided"))
        .build();
  }
}
