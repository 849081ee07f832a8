package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.twopc.proto.v1.BranchBatch;
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.BranchReply;
import dev.twopc.proto.v1.CommitBranchRequest;
import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.ReplyBatch;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeCoordinator;
import dev.twopc.testing.WireFuzz;
import dev.twopc.testing.WireFuzz.Reply;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded fuzzer over every RPC of the Participant service the SDK serves, as {@code
 * InputFuzzTest} is for the coordinator: mutated requests (odd and huge tx ids and names,
 * out-of-range durations, payloads that vote NO or fail) and raw bytes that are not valid protobuf
 * or hold invalid UTF-8. Each answer has the documented status for its input (never UNKNOWN,
 * INTERNAL or, with the store working, UNAVAILABLE) and a one-line description without class names,
 * SQL or traces; the participant keeps answering; the branches committed before are still committed
 * (and their rows applied) after, and a fresh branch still commits.
 *
 * <p>Replay or lengthen a run: {@code -Dtwopc.fuzz.seed=N -Dtwopc.fuzz.cases=N}. Embedded store.
 */
class ParticipantInputFuzzTest {
  private static final String NAME = "stock";
  private static final int SERVING_EVERY = 100;
  private static final long CALL_TIMEOUT_MILLIS = 15_000;
  private static final long DURATION_MAX_SECONDS = 315_576_000_000L;
  private static final Pattern TX_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final Pattern NAME_PATTERN = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** Prepare's coordinator field, when set: a gRPC target. */
  private static final Pattern TARGET = Pattern.compile("[A-Za-z0-9._:/\\[\\]%-]{1,255}");

  private static final Set<Code> INVALID = EnumSet.of(Code.INVALID_ARGUMENT);
  private static final java.util.logging.Logger PROTOBUF_ENCODER =
      java.util.logging.Logger.getLogger(com.google.protobuf.CodedOutputStream.class.getName());

  @TempDir Path dir;
  private TestStore store;
  private BusinessDb db;
  private FakeCoordinator coordinator;
  private Participant participant;
  private ManagedChannel channel;

  private long seed;
  private Random r;
  private WireFuzz fuzz;
  private final List<String> txIds = new ArrayList<>();
  private int unique;

  private int nextUnique() {
    return ++unique;
  }

  private record Rpc(
      String method,
      Message prototype,
      Supplier<Message> generate,
      Function<Message, Set<Code>> expected) {}

  @BeforeEach
  void start() throws Exception {
    PROTOBUF_ENCODER.setLevel(java.util.logging.Level.SEVERE);
    store = TestStore.open(TestStore.Kind.SQLITE, dir);
    db = store.business(NAME);
    coordinator = FakeCoordinator.start();
    participant =
        store
            .configure(Participant.builder(NAME))
            .coordinator(coordinator.target())
            .handler(new TestHandler())
            .lockWait(Duration.ofMillis(50))
            .inDoubtAfter(Duration.ofHours(1))
            .build();
    participant.start();
    channel =
        Grpc.newChannelBuilder(
                "localhost:" + participant.port(), InsecureChannelCredentials.create())
            .build();
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (participant != null) {
      participant.close();
    }
    if (coordinator != null) {
      coordinator.close();
    }
    if (store != null) {
      store.close();
    }
  }

  @Test
  void everyRpcAnswersBadInputWithItsDocumentedStatus() {
    seed = Long.getLong("twopc.fuzz.seed", new Random().nextLong());
    int cases = Integer.getInteger("twopc.fuzz.cases", 3000);
    System.out.println(
        "ParticipantInputFuzzTest seed="
            + seed
            + " cases="
            + cases
            + " (replay: -Dtwopc.fuzz.seed="
            + seed
            + " -Dtwopc.fuzz.cases="
            + cases
            + ")");
    r = new Random(seed);
    fuzz = new WireFuzz(r);

    Map<String, List<String>> committed = new LinkedHashMap<>();
    for (int i = 0; i < 3; i++) {
      String tx = "committed-" + i;
      List<String> keys = List.of("c" + i + "a", "c" + i + "b");
      assertEquals(Vote.VOTE_YES, stub().prepare(prepare(tx, String.join(",", keys))).getVote());
      assertEquals(
          Outcome.OUTCOME_COMMITTED,
          stub()
              .commit(CommitBranchRequest.newBuilder().setTxId(tx).setParticipant(NAME).build())
              .getOutcome());
      committed.put(tx, db.applied(tx));
      assertEquals(keys, committed.get(tx));
      txIds.add(tx);
    }

    List<Rpc> rpcs = rpcs();
    Map<String, Map<Code, Integer>> seen = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    int rawCases = 0;
    long t0 = System.nanoTime();
    for (int i = 0; i < cases && failures.size() < 25; i++) {
      Rpc rpc = rpcs.get(r.nextInt(rpcs.size()));
      byte[] bytes = rpc.generate().get().toByteArray();
      boolean raw = fuzz.chance(0.3);
      if (raw) {
        bytes = fuzz.mutate(bytes, rpc.prototype().getDescriptorForType());
        rawCases++;
      }
      Message parsed = WireFuzz.parse(rpc.prototype(), bytes);
      if (parsed != null && gates(parsed)) {
        continue; // "!gate" makes the test handler wait half a minute
      }
      if (rpc.method().equals(EXCHANGE)) {
        String problem = exchangeProblem(rpcs, bytes, (BranchBatch) parsed, seen);
        if (problem != null) {
          failures.add(
              "case "
                  + i
                  + " "
                  + EXCHANGE
                  + (raw ? " (raw)" : "")
                  + ": "
                  + problem
                  + "; request "
                  + request(parsed, bytes));
        }
        continue;
      }
      Set<Code> expected;
      if (parsed == null) {
        expected = INVALID;
      } else {
        expected = rpc.expected().apply(parsed);
        fuzz.noteSent(parsed);
      }
      Reply reply = WireFuzz.call(channel, rpc.method(), bytes, CALL_TIMEOUT_MILLIS);
      seen.computeIfAbsent(rpc.method().substring("twopc.v1.".length()), k -> new TreeMap<>())
          .merge(reply.code(), 1, Integer::sum);
      String problem = null;
      if (!expected.contains(reply.code())) {
        problem = "status " + reply.code() + ", expected one of " + expected;
      } else if (reply.code() != Code.OK) {
        problem = fuzz.descriptionProblem(reply.status());
        if (problem == null
            && parsed == null
            && !reply
                .status()
                .getDescription()
                .startsWith(
                    "request is not a valid "
                        + rpc.prototype().getDescriptorForType().getFullName())) {
          problem = "a malformed request's description does not name its message type";
        }
      }
      if (problem != null) {
        failures.add(
            "case "
                + i
                + " "
                + rpc.method()
                + (raw ? " (raw)" : "")
                + ": "
                + problem
                + "; got "
                + reply.code()
                + " '"
                + WireFuzz.show(String.valueOf(reply.status().getDescription()))
                + "'; request "
                + request(parsed, bytes));
      }
      if (i % SERVING_EVERY == 0) {
        assertServing("after case " + i);
      }
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println(
        "ParticipantInputFuzzTest seed="
            + seed
            + " cases="
            + cases
            + " raw="
            + rawCases
            + " in "
            + millis
            + " ms; statuses per RPC: "
            + seen);
    if (!failures.isEmpty()) {
      fail(
          "seed "
              + seed
              + ": "
              + failures.size()
              + " bad answers (replay with -Dtwopc.fuzz.seed="
              + seed
              + " -Dtwopc.fuzz.cases="
              + cases
              + "):\n  "
              + String.join("\n  ", failures));
    }

    assertServing("at the end");
    for (Map.Entry<String, List<String>> c : committed.entrySet()) {
      assertEquals(c.getValue(), db.applied(c.getKey()), "seed " + seed + ": " + c.getKey());
      assertEquals(
          Outcome.OUTCOME_COMMITTED,
          stub()
              .commit(
                  CommitBranchRequest.newBuilder().setTxId(c.getKey()).setParticipant(NAME).build())
              .getOutcome(),
          "seed " + seed);
      assertEquals(
          Outcome.OUTCOME_COMMITTED,
          stub()
              .rollback(
                  RollbackBranchRequest.newBuilder()
                      .setTxId(c.getKey())
                      .setParticipant(NAME)
                      .setOnePhaseOutcome(true)
                      .build())
              .getOutcome(),
          "seed " + seed + ": " + c.getKey() + " is still committed");
    }
    String fresh = "fresh-" + seed;
    assertEquals(Vote.VOTE_YES, stub().prepare(prepare(fresh, "fresh1,fresh2")).getVote());
    stub().commit(CommitBranchRequest.newBuilder().setTxId(fresh).setParticipant(NAME).build());
    assertEquals(List.of("fresh1", "fresh2"), db.applied(fresh), "seed " + seed);
  }

  /** What the fuzzer found, kept as fixed cases. */
  @Test
  void knownBadInputsGetInvalidArgument() {
    // a name that is not one is not quoted back: it may be huge (23k characters overflowed the
    // client's header limit: INTERNAL "http2 exception") or hold line breaks
    StatusRuntimeException name =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                stub()
                    .rollback(
                        RollbackBranchRequest.newBuilder()
                            .setTxId("tx-x")
                            .setParticipant("a\nb".repeat(10_000))
                            .build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, name.getStatus().getCode());
    assertEquals(
        "participant must be 1-64 characters of [A-Za-z0-9._-]", name.getStatus().getDescription());
    // a timeout outside google.protobuf.Duration's range was INTERNAL (the deadline overflowed)
    // or, for nanos out of range or of the other sign, accepted
    for (com.google.protobuf.Duration d :
        List.of(
            com.google.protobuf.Duration.newBuilder().setSeconds(Long.MAX_VALUE).build(),
            com.google.protobuf.Duration.newBuilder()
                .setSeconds(Long.MIN_VALUE)
                .setNanos(-1)
                .build(),
            com.google.protobuf.Duration.newBuilder().setSeconds(1).setNanos(-1).build(),
            com.google.protobuf.Duration.newBuilder().setNanos(1_000_000_000).build())) {
      StatusRuntimeException t =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  stub()
                      .prepare(PrepareRequest.newBuilder().setTxId("tx-t").setTimeout(d).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, t.getStatus().getCode(), t.getStatus().toString());
    }
    // bytes that are not a PrepareRequest: a length past the end, then invalid UTF-8
    for (byte[] bytes :
        List.of(new byte[] {0x0A, 0x7F, 'x'}, new byte[] {0x0A, 0x01, (byte) 0xFF})) {
      Reply r =
          WireFuzz.call(
              channel, ParticipantGrpc.getPrepareMethod().getFullMethodName(), bytes, 10_000);
      assertEquals(Status.Code.INVALID_ARGUMENT, r.code(), r.status().toString());
      assertTrue(
          r.status()
              .getDescription()
              .startsWith("request is not a valid twopc.v1.PrepareRequest: "),
          r.status().getDescription());
    }
    assertEquals(Vote.VOTE_YES, stub().prepare(prepare("tx-ok", "ok1")).getVote());
  }

  /**
   * Prepare records the coordinator address it is given for the in-doubt resolver. One gRPC cannot
   * dial ("a b:1" once; now refused as INVALID_ARGUMENT, but "%zz:1" still passes the character
   * check) made every resolver pass throw before it reached the branches after it; the branch
   * itself was never resolved. Now the configured coordinator is asked instead.
   */
  @Test
  void aPrepareNamingACoordinatorThatIsNoTargetIsInvalidArgument() {
    for (String bad : List.of("a b:1", "x".repeat(256), "host:1\nEVIL")) {
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  stub()
                      .prepare(
                          prepare("tx-bad-coord", "k-bad").toBuilder()
                              .setCoordinator(bad)
                              .build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), bad);
      assertEquals(
          "coordinator must be a gRPC target (host:port), 1-255 characters of"
              + " [A-Za-z0-9._:/[]%-]",
          e.getStatus().getDescription());
    }
    assertEquals(Vote.VOTE_YES, stub().prepare(prepare("tx-bad-coord", "k-bad")).getVote());
  }

  @Test
  void aBranchRecordedWithAnAddressThatCannotBeDialledIsStillResolved() throws Exception {
    try (Participant quick =
        store
            .configure(Participant.builder("quick"))
            .coordinator(coordinator.target())
            .handler(new TestHandler())
            .inDoubtAfter(Duration.ofMillis(100))
            .inDoubtCheckInterval(Duration.ofMillis(50))
            .build()) {
      quick.start();
      ManagedChannel ch =
          Grpc.newChannelBuilder("localhost:" + quick.port(), InsecureChannelCredentials.create())
              .build();
      try {
        for (String tx : List.of("undialable-1", "undialable-2")) {
          assertEquals(
              Vote.VOTE_YES,
              ParticipantGrpc.newBlockingStub(ch)
                  .withDeadlineAfter(20, TimeUnit.SECONDS)
                  .prepare(
                      PrepareRequest.newBuilder()
                          .setTxId(tx)
                          .setParticipant("quick")
                          .setCoordinator("%zz:1")
                          .setPayload(ByteString.copyFromUtf8(tx + "-row"))
                          .build())
                  .getVote());
          coordinator.outcomes.put(tx, Outcome.OUTCOME_COMMITTED);
        }
        BusinessDb quickDb = store.business("quick");
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  assertEquals(List.of("undialable-1-row"), quickDb.applied("undialable-1"));
                  assertEquals(List.of("undialable-2-row"), quickDb.applied("undialable-2"));
                });
      } finally {
        ch.shutdownNow();
      }
    }
  }

  private ParticipantGrpc.ParticipantBlockingStub stub() {
    return ParticipantGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private PrepareRequest prepare(String tx, String payload) {
    return PrepareRequest.newBuilder()
        .setTxId(tx)
        .setParticipant(NAME)
        .setPayload(ByteString.copyFromUtf8(payload))
        .setCoordinator(coordinator.target())
        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(10))
        .build();
  }

  /** The participant answers (there is no health service): ListPrepared is OK. */
  private void assertServing(String when) {
    Reply reply =
        WireFuzz.call(
            channel,
            ParticipantGrpc.getListPreparedMethod().getFullMethodName(),
            new byte[0],
            CALL_TIMEOUT_MILLIS);
    assertEquals(
        Status.Code.OK,
        reply.code(),
        "seed " + seed + ": ListPrepared " + when + ": " + reply.status());
  }

  private static boolean gates(Message m) {
    if (m instanceof BranchBatch b) {
      return b.getMessagesList().stream()
          .anyMatch(x -> gates(x.hasPrepare() ? x.getPrepare() : x.getCommit()));
    }
    ByteString payload =
        m instanceof PrepareRequest p
            ? p.getPayload()
            : m instanceof CommitBranchRequest c ? c.getPayload() : ByteString.EMPTY;
    return payload.toString(UTF_8).contains("!gate");
  }

  // ------------------------------------------------------------------------------ the RPCs

  private List<Rpc> rpcs() {
    List<Rpc> out = new ArrayList<>();
    out.add(
        rpc(
            ParticipantGrpc.getPrepareMethod(),
            () -> {
              PrepareRequest.Builder p =
                  PrepareRequest.newBuilder()
                      .setTxId(txId())
                      .setParticipant(participant())
                      .setPayload(payload())
                      .setCoordinator(fuzz.chance(0.7) ? coordinator.target() : fuzz.odd(256))
                      .setEnlisted(fuzz.chance(0.2))
                      .setStaged(fuzz.chance(0.2));
              if (fuzz.chance(0.7)) {
                p.setTimeout(duration());
              }
              return p.build();
            },
            q -> {
              PrepareRequest p = (PrepareRequest) q;
              Set<Code> addressed =
                  addressed(p.getTxId(), p.getParticipant(), null, EnumSet.of(Code.OK));
              if (!addressed.equals(EnumSet.of(Code.OK))) {
                return addressed;
              }
              if (!p.getCoordinator().isEmpty() && !TARGET.matcher(p.getCoordinator()).matches()) {
                return INVALID;
              }
              return addressed(
                  p.getTxId(),
                  p.getParticipant(),
                  p.hasTimeout() ? p.getTimeout() : null,
                  EnumSet.of(Code.OK));
            }));
    out.add(
        rpc(
            ParticipantGrpc.getCommitMethod(),
            () -> {
              CommitBranchRequest.Builder c =
                  CommitBranchRequest.newBuilder()
                      .setTxId(txId())
                      .setParticipant(participant())
                      .setOnePhase(fuzz.chance(0.4));
              if (c.getOnePhase() || fuzz.chance(0.2)) {
                c.setPayload(payload());
              }
              if (fuzz.chance(0.5)) {
                c.setTimeout(duration());
              }
              return c.build();
            },
            q -> {
              CommitBranchRequest c = (CommitBranchRequest) q;
              return addressed(
                  c.getTxId(),
                  c.getParticipant(),
                  c.getOnePhase() && c.hasTimeout() ? c.getTimeout() : null,
                  c.getOnePhase()
                      ? EnumSet.of(Code.OK)
                      : EnumSet.of(Code.OK, Code.FAILED_PRECONDITION));
            }));
    out.add(
        rpc(
            ParticipantGrpc.getRollbackMethod(),
            () ->
                RollbackBranchRequest.newBuilder()
                    .setTxId(txId())
                    .setParticipant(participant())
                    .setOnePhaseOutcome(fuzz.chance(0.3))
                    .build(),
            q -> {
              RollbackBranchRequest b = (RollbackBranchRequest) q;
              return addressed(
                  b.getTxId(),
                  b.getParticipant(),
                  null,
                  b.getOnePhaseOutcome()
                      ? EnumSet.of(Code.OK)
                      : EnumSet.of(Code.OK, Code.FAILED_PRECONDITION));
            }));
    out.add(
        rpc(
            ParticipantGrpc.getListPreparedMethod(),
            ListPreparedRequest::getDefaultInstance,
            q -> EnumSet.of(Code.OK)));
    List<Rpc> branchRpcs = List.copyOf(out.subList(0, 3)); // Prepare, Commit, Rollback
    out.add(
        rpc(
            ParticipantGrpc.getExchangeMethod(),
            () -> {
              BranchBatch.Builder b = BranchBatch.newBuilder();
              int n = 1 + r.nextInt(3);
              for (int k = 0; k < n; k++) {
                BranchMessage.Builder m =
                    BranchMessage.newBuilder().setId(fuzz.chance(0.1) ? 0 : k + 1);
                if (fuzz.chance(0.1)) {
                  b.addMessages(m); // no body
                  continue;
                }
                Message inner = branchRpcs.get(r.nextInt(3)).generate().get();
                if (inner instanceof PrepareRequest q) {
                  m.setPrepare(q);
                } else if (inner instanceof CommitBranchRequest c) {
                  m.setCommit(c);
                } else {
                  m.setRollback((RollbackBranchRequest) inner);
                }
                b.addMessages(m);
              }
              return b.build();
            },
            q -> EnumSet.of(Code.OK))); // checked per message, by exchangeProblem
    for (MethodDescriptor<?, ?> m : ParticipantGrpc.getServiceDescriptor().getMethods()) {
      assertTrue(
          out.stream().anyMatch(x -> x.method().equals(m.getFullMethodName())),
          "no generator for " + m.getFullMethodName());
    }
    return out;
  }

  /** A case's request as a failure shows it: its text, or its bytes when it does not parse. */
  private static String request(Message parsed, byte[] bytes) {
    return parsed == null
        ? "bytes " + WireFuzz.hex(bytes)
        : WireFuzz.show(
            com.google.protobuf.TextFormat.printer()
                .emittingSingleLine(true)
                .printToString(parsed));
  }

  private static final String EXCHANGE = ParticipantGrpc.getExchangeMethod().getFullMethodName();

  /**
   * One Exchange case, sent as the only message of a stream that is then half-closed: a batch that
   * does not parse ends the stream INVALID_ARGUMENT; otherwise the stream ends OK once every
   * message is answered under its id, each with what its unary call may answer (a message with no
   * body: INVALID_ARGUMENT). Null when all is as documented.
   */
  private String exchangeProblem(
      List<Rpc> rpcs, byte[] bytes, BranchBatch parsed, Map<String, Map<Code, Integer>> seen) {
    WireFuzz.StreamReply reply = WireFuzz.exchange(channel, EXCHANGE, bytes, CALL_TIMEOUT_MILLIS);
    Code end = reply.status().getCode();
    seen.computeIfAbsent("Participant/Exchange", k -> new TreeMap<>()).merge(end, 1, Integer::sum);
    if (parsed == null) {
      if (end != Code.INVALID_ARGUMENT) {
        return "the stream ended " + end + ", expected INVALID_ARGUMENT";
      }
      String problem = fuzz.descriptionProblem(reply.status());
      if (problem == null
          && !reply
              .status()
              .getDescription()
              .startsWith("request is not a valid twopc.v1.BranchBatch")) {
        problem = "a malformed batch's description does not name its message type";
      }
      return problem;
    }
    if (end != Code.OK) {
      return "the stream ended " + reply.status() + ", expected OK";
    }
    Map<Long, List<Set<Code>>> expected = new HashMap<>();
    for (BranchMessage m : parsed.getMessagesList()) {
      Message inner =
          switch (m.getBodyCase()) {
            case PREPARE -> m.getPrepare();
            case COMMIT -> m.getCommit();
            case ROLLBACK -> m.getRollback();
            default -> null;
          };
      Set<Code> e = INVALID;
      if (inner != null) {
        fuzz.noteSent(inner);
        e =
            rpcs.get(
                    m.getBodyCase() == BranchMessage.BodyCase.PREPARE
                        ? 0
                        : m.getBodyCase() == BranchMessage.BodyCase.COMMIT ? 1 : 2)
                .expected()
                .apply(inner);
      }
      expected.computeIfAbsent(m.getId(), k -> new ArrayList<>()).add(e);
    }
    int replies = 0;
    for (byte[] raw : reply.responses()) {
      ReplyBatch batch;
      try {
        batch = ReplyBatch.parseFrom(raw);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        return "a reply batch that does not parse";
      }
      for (BranchReply br : batch.getRepliesList()) {
        replies++;
        List<Set<Code>> e = expected.get(br.getId());
        if (e == null) {
          return "a reply to id " + br.getId() + ", which was not sent";
        }
        Code code =
            br.hasError() ? Status.fromCodeValue(br.getError().getCode()).getCode() : Code.OK;
        if (br.hasError() && code == Code.OK) {
          return "an error reply with code OK";
        }
        if (e.stream().noneMatch(x -> x.contains(code))) {
          return "message " + br.getId() + " answered " + code + ", expected one of " + e;
        }
        if (code != Code.OK) {
          String problem =
              fuzz.descriptionProblem(
                  Status.fromCode(code).withDescription(br.getError().getDescription()));
          if (problem != null) {
            return "message " + br.getId() + ": " + problem;
          }
        }
      }
    }
    if (replies != parsed.getMessagesCount()) {
      return replies + " replies to " + parsed.getMessagesCount() + " messages";
    }
    return null;
  }

  private static Rpc rpc(
      MethodDescriptor<?, ?> method,
      Supplier<Message> generate,
      Function<Message, Set<Code>> expected) {
    Message prototype =
        (Message)
            ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller())
                .getMessagePrototype();
    return new Rpc(method.getFullMethodName(), prototype, generate, expected);
  }

  /**
   * The documented checks, in the service's order: a malformed tx id or participant name is
   * INVALID_ARGUMENT, another participant's name NOT_FOUND, a timeout that is not a valid Duration
   * INVALID_ARGUMENT; then what the RPC may answer.
   */
  private static Set<Code> addressed(
      String txId, String participant, com.google.protobuf.Duration timeout, Set<Code> otherwise) {
    if (!TX_ID.matcher(txId).matches()) {
      return INVALID;
    }
    if (!participant.isEmpty() && !NAME_PATTERN.matcher(participant).matches()) {
      return INVALID;
    }
    if (!participant.isEmpty() && !participant.equals(NAME)) {
      return EnumSet.of(Code.NOT_FOUND);
    }
    if (timeout != null && !validDuration(timeout)) {
      return INVALID;
    }
    return otherwise;
  }

  /** google.protobuf.Duration's rules: at most 10,000 years, nanos of the seconds' sign. */
  private static boolean validDuration(com.google.protobuf.Duration d) {
    long s = d.getSeconds();
    int n = d.getNanos();
    return s >= -DURATION_MAX_SECONDS
        && s <= DURATION_MAX_SECONDS
        && n >= -999_999_999
        && n <= 999_999_999
        && !(s > 0 && n < 0)
        && !(s < 0 && n > 0);
  }

  // ------------------------------------------------------------------------------ generators

  private String txId() {
    if (!txIds.isEmpty() && fuzz.chance(0.4)) {
      return fuzz.pick(txIds);
    }
    String id =
        switch (r.nextInt(6)) {
          case 0, 1 -> "fz-" + nextUnique();
          case 2 -> fuzz.idChars(127 + r.nextInt(3)); // about the limit of 128
          default -> fuzz.odd(128);
        };
    if (TX_ID.matcher(id).matches() && txIds.size() < 200) {
      txIds.add(id);
    }
    return id;
  }

  private String participant() {
    return switch (r.nextInt(8)) {
      case 0, 1, 2, 3 -> NAME;
      case 4 -> "";
      case 5 -> "other";
      default -> fuzz.odd(64);
    };
  }

  private ByteString payload() {
    return switch (r.nextInt(8)) {
      case 0 -> ByteString.EMPTY;
      case 1 ->
          ByteString.copyFromUtf8(
              fuzz.pick(List.of("!no", "!readonly", "!fail", "shared1", "shared1,shared2")));
      case 2 -> ByteString.copyFromUtf8("u" + nextUnique() + ",u" + nextUnique());
      case 3 -> ByteString.copyFromUtf8(fuzz.odd(64, 1000));
      case 4 -> {
        byte[] b = new byte[r.nextInt(64)];
        r.nextBytes(b);
        yield ByteString.copyFrom(b);
      }
      default -> ByteString.copyFromUtf8("k" + nextUnique());
    };
  }

  private com.google.protobuf.Duration duration() {
    com.google.protobuf.Duration.Builder d = com.google.protobuf.Duration.newBuilder();
    return switch (r.nextInt(10)) {
      case 0 -> d.build();
      case 1 -> d.setSeconds(-1 - r.nextInt(1000)).build();
      case 2 -> d.setSeconds(1).setNanos(-1).build();
      case 3 -> d.setNanos(1_000_000_000).build();
      case 4 ->
          d.setSeconds(
                  fuzz.pick(
                      List.of(
                          Long.MAX_VALUE,
                          Long.MIN_VALUE,
                          DURATION_MAX_SECONDS,
                          DURATION_MAX_SECONDS + 1,
                          -DURATION_MAX_SECONDS)))
              .build();
      case 5 -> d.setSeconds(Long.MIN_VALUE).setNanos(-1).build();
      case 6 -> d.setNanos(fuzz.pick(List.of(Integer.MAX_VALUE, Integer.MIN_VALUE))).build();
      case 7 -> d.setNanos(1).build();
      default -> d.setSeconds(r.nextInt(10)).setNanos(r.nextInt(1_000_000_000)).build();
    };
  }
}
