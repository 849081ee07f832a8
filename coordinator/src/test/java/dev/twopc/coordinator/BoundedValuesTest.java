package dev.twopc.coordinator;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.internal.Limits;
import dev.twopc.proto.v1.AdminGetTransactionRequest;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.Branch;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.OperatorAction;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.proto.v1.Resolution;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.proto.v1.RollbackRequest;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.FakeParticipant;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * No write fails because of a value: over-long and awkward text (surrogate pairs at the cut, CJK,
 * NUL) pushed through every RPC that stores text is stored bounded and valid, the transaction
 * completes, the coordinator stays SERVING, and innocent transactions sent at the same moment all
 * commit. Runs on the default embedded store.
 *
 * <p>Addresses, idempotency keys and labels are identifier-like: too long (or, for a key, holding
 * control characters) is INVALID_ARGUMENT with a one-line description.
 */
class BoundedValuesTest {
  private static final int INNOCENTS = 20;

  @TempDir Path dir;
  private CoordinatorHarness h;
  private FakeParticipant hostile;
  private FakeParticipant other;
  private FakeParticipant c;
  private FakeParticipant d;
  private ExecutorService pool;

  @BeforeEach
  void start() throws Exception {
    h = new CoordinatorHarness(dir, b -> store(b.phase2BackoffCap(Duration.ofMillis(50))));
    hostile = h.participant("hostile");
    other = h.participant("other");
    c = h.participant("c");
    d = h.participant("d");
    pool = Executors.newFixedThreadPool(INNOCENTS + 1);
  }

  /** The decision log under test: the default embedded store. */
  CoordinatorConfig.Builder store(CoordinatorConfig.Builder b) {
    return b;
  }

  @AfterEach
  void stop() {
    pool.shutdownNow();
    h.close();
  }

  /** Text of {@code n} chars cycling through ASCII, CJK, an emoji (a pair) and NUL. */
  private static String awkward(int n) {
    String unit = "a漢😀\u0000b";
    StringBuilder sb = new StringBuilder(n + unit.length());
    while (sb.length() < n) {
      sb.append(unit);
    }
    return sb.toString();
  }

  /** Short enough to fit, bounded, valid UTF-16, no NUL. */
  private static void assertBounded(String what, String s, int max) {
    assertTrue(s.length() <= max, what + " is " + s.length() + " chars, over " + max);
    assertFalse(s.indexOf('\u0000') >= 0, what + " holds NUL");
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (Character.isHighSurrogate(ch)) {
        assertTrue(
            i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)),
            what + ": unpaired high surrogate at " + i);
        i++;
      } else {
        assertFalse(Character.isLowSurrogate(ch), what + ": unpaired low surrogate at " + i);
      }
    }
  }

  /** Bounded, and cut: a value that was longer than its limit is shown cut, not dropped. */
  private static void assertCut(String what, String s, int max) {
    assertBounded(what, s, max);
    assertTrue(s.length() >= max - 2 && s.endsWith("…"), what + " was not cut: " + s.length());
  }

  private static void expectInvalid(String inMessage, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
    String desc = e.getStatus().getDescription();
    assertTrue(desc != null && desc.contains(inMessage), "description: " + desc);
    assertTrue(desc.length() < 200, "short: " + desc);
    assertFalse(
        desc.contains("\n")
            || desc.contains("Exception")
            || desc.contains("SQL")
            || desc.contains("\u0000"),
        "one line, no class names or SQL: " + desc);
  }

  private TransactionView view(String txId) {
    return h.admin().getTransaction(AdminGetTransactionRequest.newBuilder().setTxId(txId).build());
  }

  private TransactionView listed(String txId) {
    return h
        .admin()
        .listTransactions(ListTransactionsRequest.newBuilder().setPageSize(1000).build())
        .getTransactionsList()
        .stream()
        .filter(t -> t.getTxId().equals(txId))
        .findFirst()
        .orElseThrow(() -> new AssertionError(txId + " is not listed"));
  }

  private static Branch branch(TransactionView v, String participant) {
    return v.getBranchesList().stream()
        .filter(b -> b.getParticipant().equals(participant))
        .findFirst()
        .orElseThrow();
  }

  /**
   * Runs {@code hostileCall} and {@value #INNOCENTS} ordinary two-branch transactions released at
   * the same moment; every innocent commits, and the coordinator is still SERVING.
   */
  private <T> T alongsideInnocents(Supplier<T> hostileCall) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<ExecuteResponse>> innocents = new ArrayList<>();
    for (int i = 0; i < INNOCENTS; i++) {
      innocents.add(
          CompletableFuture.supplyAsync(
              () -> {
                released(go);
                return h.coordinator().execute(execute(c, d));
              },
              pool));
    }
    CompletableFuture<T> result =
        CompletableFuture.supplyAsync(
            () -> {
              released(go);
              return hostileCall.get();
            },
            pool);
    go.countDown();
    for (CompletableFuture<ExecuteResponse> f : innocents) {
      ExecuteResponse r = f.get(30, TimeUnit.SECONDS);
      assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome(), r.getReason());
    }
    assertServing();
    try {
      return result.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
  }

  private static void released(CountDownLatch go) {
    try {
      go.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void assertServing() {
    var health = HealthGrpc.newBlockingStub(h.channel()).withDeadlineAfter(5, TimeUnit.SECONDS);
    for (String service : new String[] {"", "twopc.v1.Coordinator", "twopc.v1.Admin"}) {
      assertEquals(
          ServingStatus.SERVING,
          health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus(),
          service);
    }
  }

  @Test
  void noVoteWithAHugeReasonAborts() throws Exception {
    hostile.behave(FakeParticipant.Behaviour.NO);
    hostile.noReason(awkward(70_000));
    ExecuteResponse r = alongsideInnocents(() -> h.coordinator().execute(execute(hostile, other)));
    assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
    assertCut("the reason answered", r.getReason(), Limits.REASON);
    assertTrue(
        r.getReason().startsWith("participant hostile voted NO: a漢😀\uFFFDb"),
        r.getReason().substring(0, 40));
    await().until(() -> other.rolledBack().contains(r.getTxId()));
    await().until(() -> view(r.getTxId()).getState() == TransactionState.TRANSACTION_STATE_ABORTED);
    for (TransactionView v : List.of(view(r.getTxId()), listed(r.getTxId()))) {
      assertCut("abort_reason", v.getAbortReason(), Limits.REASON);
      assertCut("vote_reason", branch(v, "hostile").getVoteReason(), Limits.REASON);
    }
  }

  @Test
  void onePhaseRefusalWithAHugeReasonAborts() throws Exception {
    hostile.behave(FakeParticipant.Behaviour.NO);
    hostile.noReason("😀".repeat(40_000));
    ExecuteResponse r = alongsideInnocents(() -> h.coordinator().execute(execute(hostile)));
    assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
    assertCut("the reason answered", r.getReason(), Limits.REASON);
    await().until(() -> view(r.getTxId()).getState() == TransactionState.TRANSACTION_STATE_ABORTED);
    TransactionView v = view(r.getTxId());
    assertCut("abort_reason", v.getAbortReason(), Limits.REASON);
    assertCut("vote_reason", branch(v, "hostile").getVoteReason(), Limits.REASON);
  }

  @Test
  void phaseTwoFailingWithAHugeErrorStillCommits() throws Exception {
    // gRPC carries the description in a header (8 KiB by default): mostly ASCII, with pairs,
    // CJK and NUL where "UNAVAILABLE: " + description is cut.
    String error = "e".repeat(1005) + "😀".repeat(10) + "漢\u0000" + "e".repeat(4000);
    hostile.downReason(error);
    hostile.phase2Down(true);
    ExecuteResponse r = alongsideInnocents(() -> h.coordinator().execute(execute(hostile, other)));
    assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome(), r.getReason());
    await().until(() -> !branch(view(r.getTxId()), "hostile").getLastError().isEmpty());
    assertCut("last_error", branch(view(r.getTxId()), "hostile").getLastError(), Limits.LAST_ERROR);
    assertCut(
        "last_error listed",
        branch(listed(r.getTxId()), "hostile").getLastError(),
        Limits.LAST_ERROR);
    ParticipantInfo p =
        h
            .coordinator()
            .listParticipants(ListParticipantsRequest.getDefaultInstance())
            .getParticipantsList()
            .stream()
            .filter(i -> i.getName().equals("hostile"))
            .findFirst()
            .orElseThrow();
    assertCut("participant last_error", p.getLastError(), Limits.LAST_ERROR);

    // An operator with a huge name asks for a retry: recorded, bounded.
    alongsideInnocents(
        () ->
            h.admin()
                .retryTransaction(
                    RetryTransactionRequest.newBuilder()
                        .setTxId(r.getTxId())
                        .setOperator(awkward(5_000))
                        .build()));
    // The retry's record is appended, not awaited, before RetryTransaction answers.
    await().until(() -> view(r.getTxId()).getOperatorActionsCount() == 1);
    assertCut("operator", view(r.getTxId()).getOperatorActions(0).getOperator(), Limits.OPERATOR);

    hostile.phase2Down(false);
    await().until(() -> hostile.committed().contains(r.getTxId()));
    await()
        .until(() -> view(r.getTxId()).getState() == TransactionState.TRANSACTION_STATE_COMMITTED);
    TransactionView done = listed(r.getTxId());
    assertCut("operator listed", done.getOperatorActions(0).getOperator(), Limits.OPERATOR);
    assertServing();
  }

  @Test
  void operatorResolutionWithHugeReasonAndName() throws Exception {
    String tx = h.coordinator().begin(BeginRequest.getDefaultInstance()).getTxId();
    TransactionView v =
        alongsideInnocents(
            () ->
                h.admin()
                    .resolveTransaction(
                        ResolveTransactionRequest.newBuilder()
                            .setTxId(tx)
                            .setResolution(Resolution.RESOLUTION_ABORT)
                            .setReason(awkward(70_000))
                            .setOperator("運用者😀".repeat(2_000))
                            .build()));
    assertEquals(Outcome.OUTCOME_ABORTED, v.getOutcome());
    await().until(() -> view(tx).getState() == TransactionState.TRANSACTION_STATE_ABORTED);
    for (TransactionView shown : List.of(view(tx), listed(tx))) {
      assertCut("abort_reason", shown.getAbortReason(), Limits.REASON);
      assertTrue(shown.getAbortReason().startsWith("operator: a漢😀\uFFFDb"));
      OperatorAction a = shown.getOperatorActions(0);
      assertTrue(a.getAccepted());
      assertCut("operator", a.getOperator(), Limits.OPERATOR);
      assertCut("reason", a.getReason(), Limits.REASON);
    }

    // Refused (COMMIT after ABORT): the refusal is recorded with the same bounded values.
    StatusRuntimeException refused =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                h.admin()
                    .resolveTransaction(
                        ResolveTransactionRequest.newBuilder()
                            .setTxId(tx)
                            .setResolution(Resolution.RESOLUTION_COMMIT)
                            .setReason("\u0000".repeat(10_000))
                            .setOperator("x".repeat(10_000))
                            .build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, refused.getStatus().getCode());
    OperatorAction a = view(tx).getOperatorActions(1);
    assertFalse(a.getAccepted());
    assertCut("operator", a.getOperator(), Limits.OPERATOR);
    assertCut("reason", a.getReason(), Limits.REASON);
    assertBounded("refusal", a.getRefusal(), Limits.REFUSAL);
    assertServing();
  }

  @Test
  void clientRollbackWithAHugeReason() throws Exception {
    String tx = h.coordinator().begin(BeginRequest.getDefaultInstance()).getTxId();
    var r =
        alongsideInnocents(
            () ->
                h.coordinator()
                    .rollback(
                        RollbackRequest.newBuilder()
                            .setTxId(tx)
                            .setReason(awkward(70_000))
                            .build()));
    assertEquals(Outcome.OUTCOME_ABORTED, r.getOutcome());
    await().until(() -> view(tx).getState() == TransactionState.TRANSACTION_STATE_ABORTED);
    assertCut("abort_reason", view(tx).getAbortReason(), Limits.REASON);
    assertCut("abort_reason listed", listed(tx).getAbortReason(), Limits.REASON);
  }

  @Test
  void hugeAddressIsRefusedInOneLine() throws Exception {
    expectInvalid(
        "address is longer than 256",
        () ->
            alongsideInnocents(
                () ->
                    h.coordinator()
                        .registerParticipant(
                            RegisterParticipantRequest.newBuilder()
                                .setName("huge")
                                .setAddress("h".repeat(5_000) + ":7000")
                                .build())));
    expectInvalid(
        "address must be host:port",
        () ->
            h.coordinator()
                .registerParticipant(
                    RegisterParticipantRequest.newBuilder()
                        .setName("odd")
                        .setAddress(awkward(200) + ":7000")
                        .build()));
    expectInvalid(
        "name must be 1-64",
        () ->
            h.coordinator()
                .registerParticipant(
                    RegisterParticipantRequest.newBuilder()
                        .setName("n".repeat(5_000))
                        .setAddress("127.0.0.1:7000")
                        .build()));
    // At the limit it is stored as given.
    String longest = "h".repeat(Limits.ADDRESS - 5) + ":7000";
    h.coordinator()
        .registerParticipant(
            RegisterParticipantRequest.newBuilder().setName("longest").setAddress(longest).build());
    assertEquals(
        longest,
        h
            .coordinator()
            .listParticipants(ListParticipantsRequest.getDefaultInstance())
            .getParticipantsList()
            .stream()
            .filter(i -> i.getName().equals("longest"))
            .findFirst()
            .orElseThrow()
            .getAddress());
    assertServing();
  }

  @Test
  void labelsAreBoundedSoTheirEncodedFormFits() throws Exception {
    expectInvalid(
        "label keys must be 1-64",
        () ->
            alongsideInnocents(
                () ->
                    h.coordinator()
                        .execute(
                            ExecuteRequest.newBuilder(execute(c))
                                .putLabels("k".repeat(5_000), "v")
                                .build())));
    expectInvalid(
        "label keys must be 1-64",
        () ->
            h.coordinator()
                .execute(
                    ExecuteRequest.newBuilder(execute(c)).putLabels("k", awkward(70_000)).build()));
    Map<String, String> wide = new HashMap<>();
    for (int i = 0; i < Limits.LABELS; i++) {
      wide.put(i + "漢".repeat(Limits.LABEL_KEY - 2), "😀".repeat(Limits.LABEL_VALUE / 2));
    }
    expectInvalid(
        "URL-encoded, over the limit of 8192",
        () -> h.coordinator().begin(BeginRequest.newBuilder().putAllLabels(wide).build()));
    expectInvalid(
        "idempotency_key must not hold control characters",
        () ->
            h.coordinator()
                .execute(
                    ExecuteRequest.newBuilder(execute(c)).setIdempotencyKey("k\u0000").build()));

    // Within the limits, awkward labels are stored exactly and the transaction commits.
    Map<String, String> labels =
        Map.of(
            "漢字", "😀\u0000値", "emoji😀", awkward(200), "a b&c=d%", "x".repeat(Limits.LABEL_VALUE));
    ExecuteResponse r =
        alongsideInnocents(
            () ->
                h.coordinator()
                    .execute(
                        ExecuteRequest.newBuilder(execute(c, d))
                            .putAllLabels(labels)
                            .setIdempotencyKey("key-漢😀")
                            .build()));
    assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome(), r.getReason());
    await()
        .until(() -> view(r.getTxId()).getState() == TransactionState.TRANSACTION_STATE_COMMITTED);
    assertEquals(labels, view(r.getTxId()).getLabelsMap());
    assertEquals(labels, listed(r.getTxId()).getLabelsMap());
    assertEquals("key-漢😀", view(r.getTxId()).getIdempotencyKey());
  }
}
