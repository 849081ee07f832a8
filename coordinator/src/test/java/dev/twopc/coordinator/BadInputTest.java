package dev.twopc.coordinator;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.twopc.proto.v1.AdminGetTransactionRequest;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.CommitRequest;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.proto.v1.Resolution;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.proto.v1.RollbackRequest;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.WireFuzz;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every RPC answers bad input with the canonical status and a one-line description. */
class BadInputTest {
  @TempDir Path dir;
  private CoordinatorHarness h;
  private FakeParticipant a;
  private FakeParticipant b;

  @BeforeEach
  void start() throws Exception {
    h =
        new CoordinatorHarness(
            dir,
            c ->
                c.maxBranches(3)
                    .maxPayloadBytes(100)
                    .maxInboundMessageBytes(64 * 1024)
                    .maxTransactionTimeout(Duration.ofMinutes(1))
                    .defaultTransactionTimeout(Duration.ofSeconds(30)));
    a = h.participant("a");
    b = h.participant("b");
  }

  @AfterEach
  void stop() {
    h.close();
  }

  private static void expect(Status.Code code, String inMessage, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
    String d = e.getStatus().getDescription();
    assertTrue(d != null && d.contains(inMessage), "description: " + d);
    assertFalse(
        d.matches("(?s).*[\\p{Cntrl}\\u2028\\u2029].*") || d.contains("Exception"),
        "one line, no class names: " + d);
  }

  @Test
  void begin() {
    expect(
        Status.Code.INVALID_ARGUMENT,
        "timeout.nanos must be 0..999999999",
        () ->
            h.coordinator()
                .begin(
                    BeginRequest.newBuilder()
                        .setTimeout(
                            com.google.protobuf.Duration.newBuilder()
                                .setSeconds(1)
                                .setNanos(1_000_000_000))
                        .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "timeout must be positive",
        () ->
            h.coordinator()
                .begin(
                    BeginRequest.newBuilder()
                        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(-1))
                        .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "over the maximum",
        () ->
            h.coordinator()
                .begin(
                    BeginRequest.newBuilder()
                        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(3600))
                        .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "idempotency_key",
        () ->
            h.coordinator()
                .begin(BeginRequest.newBuilder().setIdempotencyKey("k".repeat(300)).build()));
  }

  @Test
  void enlistCommitRollback() {
    expect(
        Status.Code.INVALID_ARGUMENT,
        "tx_id is required",
        () -> h.coordinator().enlist(EnlistRequest.newBuilder().setParticipant("a").build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "tx_id may only hold",
        () ->
            h.coordinator()
                .enlist(EnlistRequest.newBuilder().setTxId("bad id!").setParticipant("a").build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "longer than 128",
        () -> h.coordinator().commit(CommitRequest.newBuilder().setTxId("x".repeat(129)).build()));
    expect(
        Status.Code.NOT_FOUND,
        "unknown transaction",
        () ->
            h.coordinator()
                .enlist(EnlistRequest.newBuilder().setTxId("nope").setParticipant("a").build()));
    String tx = h.coordinator().begin(BeginRequest.getDefaultInstance()).getTxId();
    expect(
        Status.Code.NOT_FOUND,
        "unknown participant 'ghost'",
        () ->
            h.coordinator()
                .enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant("ghost").build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "payload is 101 bytes",
        () ->
            h.coordinator()
                .enlist(
                    EnlistRequest.newBuilder()
                        .setTxId(tx)
                        .setParticipant("a")
                        .setPayload(ByteString.copyFrom(new byte[101]))
                        .build()));
    expect(
        Status.Code.NOT_FOUND,
        "unknown transaction",
        () -> h.coordinator().commit(CommitRequest.newBuilder().setTxId("nope").build()));
    expect(
        Status.Code.NOT_FOUND,
        "unknown transaction",
        () -> h.coordinator().rollback(RollbackRequest.newBuilder().setTxId("nope").build()));
  }

  @Test
  void executeRequests() {
    expect(
        Status.Code.INVALID_ARGUMENT,
        "at least one",
        () -> h.coordinator().execute(ExecuteRequest.getDefaultInstance()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "appears twice",
        () -> h.coordinator().execute(execute(a, a)));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "over the limit of 3",
        () ->
            h.coordinator()
                .execute(
                    ExecuteRequest.newBuilder()
                        .addBranches(BranchRequest.newBuilder().setParticipant("p1"))
                        .addBranches(BranchRequest.newBuilder().setParticipant("p2"))
                        .addBranches(BranchRequest.newBuilder().setParticipant("p3"))
                        .addBranches(BranchRequest.newBuilder().setParticipant("p4"))
                        .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "branches[1].payload",
        () ->
            h.coordinator()
                .execute(
                    ExecuteRequest.newBuilder()
                        .addBranches(BranchRequest.newBuilder().setParticipant("a"))
                        .addBranches(
                            BranchRequest.newBuilder()
                                .setParticipant("b")
                                .setPayload(ByteString.copyFrom(new byte[200])))
                        .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "branches[0].participant",
        () ->
            h.coordinator()
                .execute(
                    ExecuteRequest.newBuilder()
                        .addBranches(BranchRequest.newBuilder().setParticipant(""))
                        .build()));
    expect(
        Status.Code.NOT_FOUND,
        "unknown participant 'ghost'",
        () ->
            h.coordinator()
                .execute(
                    ExecuteRequest.newBuilder()
                        .addBranches(BranchRequest.newBuilder().setParticipant("a"))
                        .addBranches(BranchRequest.newBuilder().setParticipant("ghost"))
                        .build()));
    StatusRuntimeException big =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                h.coordinator()
                    .execute(
                        ExecuteRequest.newBuilder()
                            .addBranches(
                                BranchRequest.newBuilder()
                                    .setParticipant("a")
                                    .setPayload(ByteString.copyFrom(new byte[100_000])))
                            .build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, big.getStatus().getCode());
    // nothing reached a participant, and the coordinator still works
    assertTrue(a.messages().isEmpty() && b.messages().isEmpty());
    ExecuteResponse ok = h.coordinator().execute(execute(a, b));
    assertEquals(Outcome.OUTCOME_COMMITTED, ok.getOutcome());
  }

  @Test
  void queriesAndRegistration() {
    expect(
        Status.Code.NOT_FOUND,
        "not an id this coordinator issued",
        () ->
            h.coordinator()
                .getTransaction(GetTransactionRequest.newBuilder().setTxId("nope").build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "tx_id is required",
        () -> h.coordinator().getOutcome(GetOutcomeRequest.getDefaultInstance()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "name must be",
        () ->
            h.coordinator()
                .registerParticipant(
                    RegisterParticipantRequest.newBuilder()
                        .setName("no spaces")
                        .setAddress("localhost:1")
                        .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "address must be host:port",
        () ->
            h.coordinator()
                .registerParticipant(
                    RegisterParticipantRequest.newBuilder()
                        .setName("x")
                        .setAddress("localhost")
                        .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "port must be 1-65535",
        () ->
            h.coordinator()
                .registerParticipant(
                    RegisterParticipantRequest.newBuilder()
                        .setName("x")
                        .setAddress("localhost:70000")
                        .build()));
  }

  @Test
  void admin() {
    expect(
        Status.Code.INVALID_ARGUMENT,
        "page_size",
        () ->
            h.admin()
                .listTransactions(ListTransactionsRequest.newBuilder().setPageSize(5000).build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "page_token",
        () ->
            h.admin()
                .listTransactions(
                    ListTransactionsRequest.newBuilder().setPageToken("garbage").build()));
    expect(
        Status.Code.NOT_FOUND,
        "unknown transaction",
        () ->
            h.admin()
                .getTransaction(AdminGetTransactionRequest.newBuilder().setTxId("nope").build()));
    expect(
        Status.Code.NOT_FOUND,
        "unknown transaction",
        () ->
            h.admin()
                .retryTransaction(RetryTransactionRequest.newBuilder().setTxId("nope").build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "resolution must be",
        () ->
            h.admin()
                .resolveTransaction(
                    ResolveTransactionRequest.newBuilder()
                        .setTxId("nope")
                        .setReason("r")
                        .setOperator("o")
                        .build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "reason is required",
        () ->
            h.admin()
                .resolveTransaction(
                    ResolveTransactionRequest.newBuilder()
                        .setTxId("nope")
                        .setResolution(Resolution.RESOLUTION_ABORT)
                        .setOperator("o")
                        .build()));
    expect(
        Status.Code.NOT_FOUND,
        "unknown transaction",
        () ->
            h.admin()
                .resolveTransaction(
                    ResolveTransactionRequest.newBuilder()
                        .setTxId("nope")
                        .setResolution(Resolution.RESOLUTION_ABORT)
                        .setReason("r")
                        .setOperator("o")
                        .build()));
  }

  @Test
  void requestsThatAreNotValidProtobufAreInvalidArgument() {
    // the first field's tag, then a length past the end; then a tx_id with a lone 0xFF byte
    for (byte[] bytes :
        List.of(new byte[] {0x0A, 0x7F, 'x'}, new byte[] {0x0A, 0x01, (byte) 0xFF})) {
      WireFuzz.Reply r =
          WireFuzz.call(
              h.channel(), CoordinatorGrpc.getCommitMethod().getFullMethodName(), bytes, 10_000);
      assertEquals(Status.Code.INVALID_ARGUMENT, r.code(), r.status().toString());
      assertTrue(
          r.status().getDescription().startsWith("request is not a valid twopc.v1.CommitRequest: "),
          r.status().getDescription());
    }
    WireFuzz.Reply utf8 =
        WireFuzz.call(
            h.channel(),
            AdminGrpc.getResolveTransactionMethod().getFullMethodName(),
            new byte[] {0x1A, 0x02, (byte) 0xC0, (byte) 0x80},
            10_000);
    assertEquals(
        "request is not a valid twopc.v1.ResolveTransactionRequest: a string field is"
            + " not valid UTF-8",
        utf8.status().getDescription());
    // and the server still answers
    assertEquals(Outcome.OUTCOME_COMMITTED, h.coordinator().execute(execute(a)).getOutcome());
  }

  @Test
  void quotedTextKeepsTheDescriptionOnOneLine() {
    String tx = h.coordinator().begin(BeginRequest.getDefaultInstance()).getTxId();
    h.coordinator()
        .rollback(
            RollbackRequest.newBuilder()
                .setTxId(tx)
                .setReason("line one\nline two\r\n\tthree")
                .build());
    expect(
        Status.Code.FAILED_PRECONDITION,
        "aborted: line one line two three",
        () -> h.coordinator().commit(CommitRequest.newBuilder().setTxId(tx).build()));
    expect(
        Status.Code.INVALID_ARGUMENT,
        "address must be host:port",
        () ->
            h.coordinator()
                .registerParticipant(
                    RegisterParticipantRequest.newBuilder()
                        .setName("x")
                        .setAddress("\u2029:80")
                        .build()));
  }

  @Test
  void olderThanOutsideTheDurationRangeIsInvalid() {
    for (com.google.protobuf.Duration d :
        List.of(
            com.google.protobuf.Duration.newBuilder().setSeconds(1).setNanos(-1).build(),
            com.google.protobuf.Duration.newBuilder().setNanos(1_000_000_000).build(),
            com.google.protobuf.Duration.newBuilder().setSeconds(Long.MAX_VALUE).build())) {
      expect(
          Status.Code.INVALID_ARGUMENT,
          "older_than",
          () ->
              h.admin()
                  .listTransactions(ListTransactionsRequest.newBuilder().setOlderThan(d).build()));
    }
  }

  @Test
  void badConfigurationNamesTheField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CoordinatorConfig.builder().phase2BackoffBase(Duration.ZERO).build());
    assertTrue(e.getMessage().startsWith("phase2BackoffBase"), e.getMessage());
  }
}
