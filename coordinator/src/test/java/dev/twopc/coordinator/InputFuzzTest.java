package dev.twopc.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.twopc.proto.v1.AdminGetTransactionRequest;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BeginResponse;
import dev.twopc.proto.v1.Branch;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.CommitRequest;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.ListNodesRequest;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.ListTransactionsResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.proto.v1.RollbackRequest;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.WireFuzz;
import dev.twopc.testing.WireFuzz.Reply;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status.Code;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded fuzzer over every RPC of the Coordinator and Admin services. From a seed it sends
 * mutations of valid requests (odd, huge and over-limit strings, control characters, non-ASCII,
 * out-of-range durations, unknown enum values, duplicated and unknown participants, unknown
 * transactions) and raw bytes that are not valid protobuf or hold invalid UTF-8, all through a
 * byte-array call under each method's real name. Every answer must have the status the API
 * documents for that input (never UNKNOWN, INTERNAL or UNAVAILABLE) and a one-line description
 * without class names, SQL or traces; the coordinator stays SERVING; the transactions committed
 * before the fuzzing are unchanged after it, and a fresh Execute still commits.
 *
 * <p>Replay or lengthen a run: {@code -Dtwopc.fuzz.seed=N -Dtwopc.fuzz.cases=N}. The seed is
 * printed at the start (see target/surefire-reports) and in every failure.
 */
class InputFuzzTest {
  private static final int MAX_BRANCHES = 4;
  private static final int MAX_PAYLOAD = 512;
  private static final int MAX_INBOUND = 128 * 1024;
  private static final Duration MAX_TIMEOUT = Duration.ofMinutes(1);
  private static final int HEALTH_EVERY = 100;
  private static final long CALL_TIMEOUT_MILLIS = 15_000;

  private static final Pattern TX_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern ADDRESS =
      Pattern.compile(
          "(inprocess:[A-Za-z0-9._-]+)|([A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}");
  private static final long DURATION_MAX_SECONDS = 315_576_000_000L;

  private static final Set<Code> ANY_DOCUMENTED =
      EnumSet.of(Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.FAILED_PRECONDITION);
  private static final Set<Code> NO_STATE = EnumSet.of(Code.OK, Code.INVALID_ARGUMENT);
  private static final Set<Code> READ = EnumSet.of(Code.OK, Code.INVALID_ARGUMENT, Code.NOT_FOUND);
  private static final Set<Code> INVALID = EnumSet.of(Code.INVALID_ARGUMENT);

  /**
   * Java strings with lone surrogates are sent as protobuf-java sends them ('?'); it warns with a
   * trace each time. Held here so the setting is not collected.
   */
  private static final java.util.logging.Logger PROTOBUF_ENCODER =
      java.util.logging.Logger.getLogger(com.google.protobuf.CodedOutputStream.class.getName());

  @TempDir Path dir;
  private CoordinatorHarness h;
  private final List<FakeParticipant> real = new ArrayList<>();
  private final Map<String, String> realAddress = new LinkedHashMap<>();

  private long seed;
  private WireFuzz fuzz;
  private Random r;

  /** Transaction ids worth asking about: committed before the fuzzing, begun or executed. */
  private final List<String> txIds = new ArrayList<>();

  /** Begun (interactively), so possibly still ACTIVE. */
  private final List<String> begun = new ArrayList<>();

  private final List<String> keys = new ArrayList<>();
  private final Set<String> fuzzRegistered = new java.util.HashSet<>();
  private String lastPageToken = "";

  @BeforeEach
  void start() throws Exception {
    PROTOBUF_ENCODER.setLevel(java.util.logging.Level.SEVERE);
    h =
        new CoordinatorHarness(
            dir,
            c ->
                c.maxBranches(MAX_BRANCHES)
                    .maxPayloadBytes(MAX_PAYLOAD)
                    .maxInboundMessageBytes(MAX_INBOUND)
                    .maxTransactionTimeout(MAX_TIMEOUT)
                    .defaultTransactionTimeout(Duration.ofSeconds(30)));
    for (String n : List.of("a", "b", "c")) {
      real.add(h.participant(n));
    }
    FakeParticipant no = h.participant("no");
    no.behave(FakeParticipant.Behaviour.NO);
    no.noReason("refused:\nout of stock\r\n\tat line 2");
    real.add(no);
    real.forEach(p -> realAddress.put(p.name(), p.address()));
  }

  @AfterEach
  void stop() {
    h.close();
  }

  private record Rpc(
      String method,
      Message prototype,
      Supplier<Message> generate,
      Function<Message, Set<Code>> expected,
      BiConsumer<Message, byte[]> learn) {}

  private record Committed(
      String txId, List<String> branches, Map<String, String> labels, String key) {}

  @Test
  void everyRpcAnswersBadInputWithItsDocumentedStatus() throws Exception {
    seed = Long.getLong("twopc.fuzz.seed", new Random().nextLong());
    int cases = Integer.getInteger("twopc.fuzz.cases", 5000);
    System.out.println(
        "InputFuzzTest seed="
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

    List<Committed> before = commitSome();
    Map<String, Rpc> rpcs = rpcs();
    requireEveryMethodCovered(rpcs);
    List<Rpc> all = List.copyOf(rpcs.values());

    Map<String, Map<Code, Integer>> seen = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    int rawCases = 0;
    long t0 = System.nanoTime();
    for (int i = 0; i < cases && failures.size() < 25; i++) {
      Rpc rpc = all.get(r.nextInt(all.size()));
      Message msg = rpc.generate().get();
      byte[] bytes = msg.toByteArray();
      boolean raw = fuzz.chance(0.3);
      if (raw) {
        bytes = fuzz.mutate(bytes, rpc.prototype().getDescriptorForType());
        rawCases++;
      }
      Message parsed = WireFuzz.parse(rpc.prototype(), bytes);
      if (parsed != null && !safe(parsed)) {
        continue; // would re-point a participant this test relies on
      }
      Set<Code> expected;
      if (bytes.length > MAX_INBOUND) {
        expected = EnumSet.of(Code.RESOURCE_EXHAUSTED);
      } else if (parsed == null) {
        expected = INVALID;
      } else {
        expected = rpc.expected().apply(parsed);
        fuzz.noteSent(parsed);
      }
      Reply reply = WireFuzz.call(h.channel(), rpc.method(), bytes, CALL_TIMEOUT_MILLIS);
      seen.computeIfAbsent(shortName(rpc.method()), k -> new TreeMap<>())
          .merge(reply.code(), 1, Integer::sum);
      String problem = null;
      if (!expected.contains(reply.code())) {
        problem = "status " + reply.code() + ", expected one of " + expected;
      } else if (reply.code() != Code.OK) {
        problem = fuzz.descriptionProblem(reply.status());
        if (problem == null
            && parsed == null
            && reply.code() == Code.INVALID_ARGUMENT
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
                + shortName(rpc.method())
                + (raw ? " (raw)" : "")
                + ": "
                + problem
                + "; got "
                + reply.code()
                + " '"
                + WireFuzz.show(String.valueOf(reply.status().getDescription()))
                + "'; request "
                + (parsed == null
                    ? "bytes " + WireFuzz.hex(bytes)
                    : WireFuzz.show(
                        com.google.protobuf.TextFormat.printer()
                            .emittingSingleLine(true)
                            .printToString(parsed))));
      }
      if (reply.code() == Code.OK && parsed != null) {
        rpc.learn().accept(parsed, reply.response());
      }
      if (i % HEALTH_EVERY == 0) {
        assertServing("after case " + i);
      }
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    System.out.println(
        "InputFuzzTest seed="
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
    for (Committed c : before) {
      TransactionView v =
          h.coordinator()
              .getTransaction(GetTransactionRequest.newBuilder().setTxId(c.txId()).build());
      assertEquals(
          TransactionState.TRANSACTION_STATE_COMMITTED,
          v.getState(),
          "seed " + seed + ": " + c.txId());
      assertEquals(c.branches(), branches(v), "seed " + seed + ": branches of " + c.txId());
      assertEquals(c.labels(), v.getLabelsMap(), "seed " + seed + ": labels of " + c.txId());
      assertEquals(c.key(), v.getIdempotencyKey(), "seed " + seed);
    }
    ExecuteResponse fresh =
        h.coordinator()
            .execute(
                ExecuteRequest.newBuilder()
                    .addBranches(
                        BranchRequest.newBuilder()
                            .setParticipant("a")
                            .setPayload(ByteString.copyFromUtf8("after the fuzzing")))
                    .addBranches(BranchRequest.newBuilder().setParticipant("b"))
                    .build());
    assertEquals(
        Outcome.OUTCOME_COMMITTED, fresh.getOutcome(), "seed " + seed + ": " + fresh.getReason());
  }

  // ------------------------------------------------------------------------------ set-up

  private List<Committed> commitSome() {
    List<Committed> out = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ExecuteRequest.Builder req =
          ExecuteRequest.newBuilder()
              .setWaitForCompletion(true)
              .putLabels("order", "o-" + i)
              .setIdempotencyKey("committed-" + i + "-" + seed);
      for (FakeParticipant p : real.subList(0, 1 + i)) {
        req.addBranches(
            BranchRequest.newBuilder()
                .setParticipant(p.name())
                .setPayload(ByteString.copyFromUtf8("work " + i + " for " + p.name())));
      }
      ExecuteResponse res = h.coordinator().execute(req.build());
      assertEquals(Outcome.OUTCOME_COMMITTED, res.getOutcome(), res.getReason());
      TransactionView v =
          h.coordinator()
              .getTransaction(GetTransactionRequest.newBuilder().setTxId(res.getTxId()).build());
      assertEquals(TransactionState.TRANSACTION_STATE_COMMITTED, v.getState());
      out.add(
          new Committed(
              res.getTxId(), branches(v), Map.copyOf(v.getLabelsMap()), v.getIdempotencyKey()));
      txIds.add(res.getTxId());
      keys.add(req.getIdempotencyKey());
    }
    return out;
  }

  private static List<String> branches(TransactionView v) {
    List<String> out = new ArrayList<>();
    for (Branch b : v.getBranchesList()) {
      out.add(
          b.getParticipant()
              + " "
              + b.getVote()
              + " "
              + b.getState()
              + " "
              + b.getPayloadDigest()
              + " acked "
              + b.getAcknowledgedAt().getSeconds());
    }
    return out;
  }

  private void assertServing(String when) {
    HealthGrpc.HealthBlockingStub health =
        HealthGrpc.newBlockingStub(h.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);
    for (String service : List.of("", "twopc.v1.Coordinator", "twopc.v1.Admin")) {
      assertEquals(
          ServingStatus.SERVING,
          health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus(),
          "seed " + seed + ": health of '" + service + "' " + when);
    }
  }

  private static void requireEveryMethodCovered(Map<String, Rpc> rpcs) {
    for (ServiceDescriptor s :
        List.of(CoordinatorGrpc.getServiceDescriptor(), AdminGrpc.getServiceDescriptor())) {
      for (MethodDescriptor<?, ?> m : s.getMethods()) {
        assertTrue(
            rpcs.containsKey(m.getFullMethodName()), "no generator for " + m.getFullMethodName());
      }
    }
  }

  /** A request that could re-register one of the real participants elsewhere is not sent. */
  private boolean safe(Message m) {
    if (m instanceof RegisterParticipantRequest reg) {
      String at = realAddress.get(reg.getName());
      return at == null || at.equals(reg.getAddress());
    }
    return true;
  }

  private static String shortName(String method) {
    return method.substring("twopc.v1.".length());
  }

  // ------------------------------------------------------------------------------ the RPCs

  private Map<String, Rpc> rpcs() {
    Map<String, Rpc> m = new LinkedHashMap<>();
    add(
        m,
        CoordinatorGrpc.getBeginMethod(),
        this::begin,
        q -> {
          BeginRequest b = (BeginRequest) q;
          boolean bad =
              badTimeout(b.hasTimeout(), b.getTimeout())
                  || badKey(b.getIdempotencyKey())
                  || badLabels(b.getLabelsMap());
          return bad
              ? INVALID
              : EnumSet.of(Code.OK, Code.INVALID_ARGUMENT, Code.FAILED_PRECONDITION);
        },
        (q, res) -> {
          learnKey(((BeginRequest) q).getIdempotencyKey());
          String txId = parse(res, BeginResponse.parser()).getTxId();
          learnTx(txId);
          if (begun.size() < 100) {
            begun.add(txId);
          }
        });
    add(
        m,
        CoordinatorGrpc.getEnlistMethod(),
        this::enlist,
        q -> {
          EnlistRequest e = (EnlistRequest) q;
          return badTxId(e.getTxId())
                  || badName(e.getParticipant())
                  || e.getPayload().size() > MAX_PAYLOAD
              ? INVALID
              : ANY_DOCUMENTED;
        },
        null);
    add(
        m,
        CoordinatorGrpc.getCommitMethod(),
        () ->
            CommitRequest.newBuilder()
                .setTxId(txId())
                .setWaitForCompletion(fuzz.chance(0.3))
                .build(),
        q -> badTxId(((CommitRequest) q).getTxId()) ? INVALID : ANY_DOCUMENTED,
        null);
    add(
        m,
        CoordinatorGrpc.getRollbackMethod(),
        () ->
            RollbackRequest.newBuilder()
                .setTxId(txId())
                .setReason(fuzz.chance(0.7) ? fuzz.odd(1024) : "")
                .build(),
        q -> badTxId(((RollbackRequest) q).getTxId()) ? INVALID : ANY_DOCUMENTED,
        null);
    add(
        m,
        CoordinatorGrpc.getExecuteMethod(),
        this::execute,
        q -> {
          ExecuteRequest e = (ExecuteRequest) q;
          boolean bad =
              e.getBranchesCount() == 0
                  || e.getBranchesCount() > MAX_BRANCHES
                  || badTimeout(e.hasTimeout(), e.getTimeout())
                  || badKey(e.getIdempotencyKey())
                  || badLabels(e.getLabelsMap());
          Set<String> names = new java.util.HashSet<>();
          for (BranchRequest b : e.getBranchesList()) {
            bad |=
                badName(b.getParticipant())
                    || !names.add(b.getParticipant())
                    || b.getPayload().size() > MAX_PAYLOAD;
          }
          return bad ? INVALID : ANY_DOCUMENTED;
        },
        (q, res) -> {
          learnKey(((ExecuteRequest) q).getIdempotencyKey());
          learnTx(parse(res, ExecuteResponse.parser()).getTxId());
        });
    add(
        m,
        CoordinatorGrpc.getGetTransactionMethod(),
        this::getTransaction,
        q -> {
          GetTransactionRequest g = (GetTransactionRequest) q;
          boolean bad =
              g.getIdempotencyKey().isEmpty()
                  ? badTxId(g.getTxId())
                  : !g.getTxId().isEmpty() || badKey(g.getIdempotencyKey());
          return bad ? INVALID : READ;
        },
        null);
    add(
        m,
        CoordinatorGrpc.getGetOutcomeMethod(),
        () ->
            GetOutcomeRequest.newBuilder()
                .setTxId(txId())
                .setParticipant(fuzz.chance(0.5) ? "" : participant())
                .build(),
        q -> {
          GetOutcomeRequest g = (GetOutcomeRequest) q;
          return badTxId(g.getTxId())
                  || (!g.getParticipant().isEmpty() && badName(g.getParticipant()))
              ? INVALID
              : NO_STATE;
        },
        null);
    add(
        m,
        CoordinatorGrpc.getRegisterParticipantMethod(),
        this::register,
        q -> {
          RegisterParticipantRequest g = (RegisterParticipantRequest) q;
          return badName(g.getName()) || badAddress(g.getAddress()) ? INVALID : NO_STATE;
        },
        (q, res) -> fuzzRegistered.add(((RegisterParticipantRequest) q).getName()));
    add(
        m,
        CoordinatorGrpc.getListParticipantsMethod(),
        ListParticipantsRequest::getDefaultInstance,
        q -> EnumSet.of(Code.OK),
        null);
    add(
        m,
        AdminGrpc.getListNodesMethod(),
        ListNodesRequest::getDefaultInstance,
        q -> EnumSet.of(Code.OK),
        null);
    add(
        m,
        AdminGrpc.getListTransactionsMethod(),
        this::listTransactions,
        q -> {
          ListTransactionsRequest l = (ListTransactionsRequest) q;
          boolean bad =
              l.getPageSize() < 0
                  || l.getPageSize() > 1000
                  || (l.hasOlderThan() && badDuration(l.getOlderThan()))
                  || l.getStatesValueList().stream().anyMatch(s -> s < 1 || s > 6)
                  || badPageToken(l.getPageToken());
          return bad ? INVALID : NO_STATE;
        },
        (q, res) -> {
          String next = parse(res, ListTransactionsResponse.parser()).getNextPageToken();
          if (!next.isEmpty()) {
            lastPageToken = next;
          }
        });
    add(
        m,
        AdminGrpc.getGetTransactionMethod(),
        () -> AdminGetTransactionRequest.newBuilder().setTxId(txId()).build(),
        q -> badTxId(((AdminGetTransactionRequest) q).getTxId()) ? INVALID : READ,
        null);
    add(
        m,
        AdminGrpc.getRetryTransactionMethod(),
        () ->
            RetryTransactionRequest.newBuilder()
                .setTxId(txId())
                .setOperator(fuzz.chance(0.5) ? "" : operatorText())
                .build(),
        q -> {
          RetryTransactionRequest t = (RetryTransactionRequest) q;
          return badTxId(t.getTxId()) || (!t.getOperator().isEmpty() && t.getOperator().isBlank())
              ? INVALID
              : ANY_DOCUMENTED;
        },
        null);
    add(
        m,
        AdminGrpc.getResolveTransactionMethod(),
        this::resolve,
        q -> {
          ResolveTransactionRequest t = (ResolveTransactionRequest) q;
          return badTxId(t.getTxId())
                  || t.getResolutionValue() < 1
                  || t.getResolutionValue() > 2
                  || t.getReason().isBlank()
                  || t.getOperator().isBlank()
              ? INVALID
              : ANY_DOCUMENTED;
        },
        null);
    return m;
  }

  private static void add(
      Map<String, Rpc> m,
      MethodDescriptor<?, ?> method,
      Supplier<Message> generate,
      Function<Message, Set<Code>> expected,
      BiConsumer<Message, byte[]> learn) {
    Message prototype =
        (Message)
            ((MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller())
                .getMessagePrototype();
    m.put(
        method.getFullMethodName(),
        new Rpc(
            method.getFullMethodName(),
            prototype,
            generate,
            expected,
            learn == null ? (q, res) -> {} : learn));
  }

  private static <T> T parse(byte[] bytes, com.google.protobuf.Parser<T> parser) {
    try {
      return parser.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("the coordinator answered bytes that do not parse", e);
    }
  }

  private void learnTx(String txId) {
    if (!txId.isEmpty() && txIds.size() < 300) {
      txIds.add(txId);
    }
  }

  private void learnKey(String key) {
    if (!key.isEmpty() && keys.size() < 100) {
      keys.add(key);
    }
  }

  // ------------------------------------------------------------------------------ generators

  private Message begin() {
    BeginRequest.Builder b = BeginRequest.newBuilder();
    if (fuzz.chance(0.5)) {
      b.setTimeout(duration());
    }
    if (fuzz.chance(0.4)) {
      b.setIdempotencyKey(key());
    }
    if (fuzz.chance(0.3)) {
      b.putAllLabels(labels());
    }
    return b.build();
  }

  private Message enlist() {
    if (!begun.isEmpty() && fuzz.chance(0.4)) { // a well-formed one, to move transactions on
      return EnlistRequest.newBuilder()
          .setTxId(fuzz.pick(begun))
          .setParticipant(fuzz.pick(List.copyOf(realAddress.keySet())))
          .setPayload(ByteString.copyFromUtf8("enlisted"))
          .build();
    }
    return EnlistRequest.newBuilder()
        .setTxId(txId())
        .setParticipant(participant())
        .setPayload(payload())
        .build();
  }

  private Message execute() {
    ExecuteRequest.Builder e = ExecuteRequest.newBuilder();
    int n =
        switch (r.nextInt(10)) {
          case 0 -> 0;
          case 1 -> MAX_BRANCHES + 1 + r.nextInt(3);
          case 2 -> 70;
          default -> 1 + r.nextInt(MAX_BRANCHES);
        };
    boolean wellFormed = fuzz.chance(0.3); // real participants, small payloads
    if (wellFormed) {
      n = 1 + r.nextInt(realAddress.size());
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      if (wellFormed) {
        String p = List.copyOf(realAddress.keySet()).get(i);
        names.add(p);
        e.addBranches(
            BranchRequest.newBuilder()
                .setParticipant(p)
                .setPayload(ByteString.copyFromUtf8("work " + i)));
        continue;
      }
      String p = !names.isEmpty() && fuzz.chance(0.1) ? fuzz.pick(names) : participant();
      names.add(p);
      e.addBranches(BranchRequest.newBuilder().setParticipant(p).setPayload(payload()));
    }
    if (fuzz.chance(0.3)) {
      e.setTimeout(duration());
    }
    if (fuzz.chance(0.3)) {
      e.setIdempotencyKey(key());
    }
    if (fuzz.chance(0.2)) {
      e.putAllLabels(labels());
    }
    return e.setWaitForCompletion(fuzz.chance(0.3)).build();
  }

  private Message getTransaction() {
    GetTransactionRequest.Builder g = GetTransactionRequest.newBuilder();
    switch (r.nextInt(10)) {
      case 0, 1 -> g.setIdempotencyKey(key());
      case 2 -> g.setIdempotencyKey(key()).setTxId(txId());
      case 3 -> {}
      default -> g.setTxId(txId());
    }
    return g.build();
  }

  private Message register() {
    String name =
        switch (r.nextInt(6)) {
          case 0 -> fuzz.pick(List.copyOf(realAddress.keySet())); // to its own address: updated
          case 1, 2 -> "fz-" + fuzz.alnum(1 + r.nextInt(8));
          default -> fuzz.odd(64);
        };
    String address =
        realAddress.containsKey(name) && fuzz.chance(0.8)
            ? realAddress.get(name)
            : switch (r.nextInt(8)) {
              case 0 ->
                  fuzz.pick(
                      List.of(
                          "127.0.0.1:1",
                          "localhost:65535",
                          "[::1]:7000",
                          "inprocess:nowhere",
                          "host-name.invalid:80",
                          "x:1"));
              case 1 ->
                  fuzz.pick(
                      List.of(
                          "localhost",
                          ":80",
                          "localhost:",
                          "localhost:0",
                          "localhost:65536",
                          "localhost:99999",
                          "a b:1",
                          "[zz]:1",
                          "h:1:2",
                          "[::1]",
                          "inprocess:",
                          "http://localhost:80",
                          "localhost:-1",
                          "localhost:+80"));
              case 2 -> "h" + fuzz.alnum(252 + r.nextInt(4)) + ":1"; // about the 256 limit
              default -> fuzz.odd(256) + (fuzz.chance(0.5) ? ":" + r.nextInt(70_000) : "");
            };
    return RegisterParticipantRequest.newBuilder().setName(name).setAddress(address).build();
  }

  private Message listTransactions() {
    ListTransactionsRequest.Builder l =
        ListTransactionsRequest.newBuilder().setInDoubt(fuzz.chance(0.3));
    for (int i = r.nextInt(4); i > 0; i--) {
      l.addStatesValue(
          fuzz.chance(0.8)
              ? 1 + r.nextInt(6)
              : fuzz.pick(List.of(0, 7, 99, -1, Integer.MAX_VALUE)));
    }
    if (fuzz.chance(0.3)) {
      l.setOlderThan(
          fuzz.chance(0.5)
              ? com.google.protobuf.Duration.newBuilder().setSeconds(r.nextInt(100)).build()
              : duration());
    }
    l.setPageSize(
        switch (r.nextInt(8)) {
          case 0 -> 0;
          case 1 -> 1;
          case 2 -> 1000;
          case 3 -> 1001;
          case 4 -> -1;
          case 5 -> fuzz.pick(List.of(Integer.MIN_VALUE, Integer.MAX_VALUE));
          default -> r.nextInt(50);
        });
    if (fuzz.chance(0.4)) {
      l.setPageToken(
          switch (r.nextInt(6)) {
            case 0 -> lastPageToken;
            case 1 -> token(r.nextLong() + ":" + txId());
            case 2 ->
                token(
                    fuzz.pick(
                        List.of(
                            "",
                            ":",
                            "abc",
                            "123",
                            "-5:x",
                            "99999999999999999999:x",
                            "1:",
                            ":x",
                            "0:" + fuzz.odd(128))));
            case 3 -> fuzz.pick(List.of("garbage", "====", "a", "%%%", "ab+/"));
            default -> fuzz.odd();
          });
    }
    if (l.getPageSize() < 0 && fuzz.chance(0.5)) {
      l.setPageSize(1);
    }
    return l.build();
  }

  private Message resolve() {
    return ResolveTransactionRequest.newBuilder()
        .setTxId(txId())
        .setResolutionValue(
            fuzz.chance(0.8)
                ? 1 + r.nextInt(2)
                : fuzz.pick(List.of(0, 3, -1, 99, Integer.MIN_VALUE)))
        .setReason(fuzz.chance(0.8) ? operatorText() : fuzz.pick(List.of("", " ", "\t\n")))
        .setOperator(fuzz.chance(0.8) ? operatorText() : fuzz.pick(List.of("", "  ")))
        .build();
  }

  private static String token(String s) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private String operatorText() {
    return fuzz.chance(0.5) ? "op-" + fuzz.alnum(1 + r.nextInt(8)) : fuzz.odd(128, 1024);
  }

  private String txId() {
    if (!txIds.isEmpty() && fuzz.chance(0.5)) {
      return fuzz.chance(0.3) && !begun.isEmpty() ? fuzz.pick(begun) : fuzz.pick(txIds);
    }
    long now = System.currentTimeMillis();
    return switch (r.nextInt(10)) {
      case 0 -> "nope";
      case 1 -> v7(now - r.nextInt(1_000_000)); // issued-looking, no record: presumed abort
      case 2 -> v7(now + 86_400_000L); // from tomorrow
      case 3 -> v7(now - 30L * 86_400_000L); // older than the retention
      case 4 -> UUID.randomUUID().toString();
      case 5 -> fuzz.idChars(127 + r.nextInt(3)); // about the limit of 128
      default -> fuzz.odd(128);
    };
  }

  private String v7(long millis) {
    long msb = (millis << 16) | 0x7000L | (r.nextLong() & 0x0FFFL);
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }

  /** A participant for Enlist and Execute: one that answers, or one that is not registered. */
  private String participant() {
    String p =
        switch (r.nextInt(10)) {
          case 0, 1, 2, 3, 4, 5 -> fuzz.pick(List.copyOf(realAddress.keySet()));
          case 6 -> "ghost";
          case 7 -> fuzz.idChars(63 + r.nextInt(3)); // about the limit of 64
          default -> fuzz.odd(64);
        };
    return fuzzRegistered.contains(p) && !realAddress.containsKey(p) ? "ghost" : p;
  }

  private String key() {
    if (!keys.isEmpty() && fuzz.chance(0.4)) {
      return fuzz.pick(keys);
    }
    return fuzz.chance(0.5) ? "k-" + fuzz.alnum(1 + r.nextInt(10)) : fuzz.odd(256);
  }

  private ByteString payload() {
    return switch (r.nextInt(8)) {
      case 0 -> ByteString.EMPTY;
      case 1 -> ByteString.copyFrom(new byte[MAX_PAYLOAD]);
      case 2 -> ByteString.copyFrom(new byte[MAX_PAYLOAD + 1]);
      case 3 -> ByteString.copyFrom(new byte[MAX_PAYLOAD * 10]);
      default -> {
        byte[] b = new byte[r.nextInt(64)];
        r.nextBytes(b);
        yield ByteString.copyFrom(b);
      }
    };
  }

  private com.google.protobuf.Duration duration() {
    com.google.protobuf.Duration.Builder d = com.google.protobuf.Duration.newBuilder();
    return switch (r.nextInt(12)) {
      case 0 -> d.build(); // zero
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
                          DURATION_MAX_SECONDS + 1)))
              .build();
      case 5 -> d.setSeconds(MAX_TIMEOUT.toSeconds()).setNanos(r.nextInt(2)).build();
      case 6 -> d.setSeconds(3600).build();
      case 7 -> d.setNanos(fuzz.pick(List.of(Integer.MAX_VALUE, Integer.MIN_VALUE))).build();
      case 8 -> d.setNanos(1).build();
      default -> d.setSeconds(r.nextInt(30)).setNanos(r.nextInt(1_000_000_000)).build();
    };
  }

  private Map<String, String> labels() {
    Map<String, String> m = new LinkedHashMap<>();
    int n = fuzz.chance(0.1) ? 33 + r.nextInt(5) : r.nextInt(5);
    for (int i = 0; i < n; i++) {
      String k = fuzz.chance(0.6) ? "k" + i : fuzz.odd(64);
      String v =
          switch (r.nextInt(5)) {
            case 0 -> fuzz.odd(256);
            case 1 -> "事".repeat(250); // 2250 characters URL-encoded
            default -> "v" + fuzz.alnum(r.nextInt(10));
          };
      m.put(k, v);
    }
    return m;
  }

  // ------------------------------------------------------------------------------ the oracle
  // What the proto comments (and Limits) say is invalid. Anything else may still be refused,
  // with one of the RPC's documented codes.

  private static boolean badTxId(String id) {
    return !TX_ID.matcher(id).matches();
  }

  private static boolean badName(String name) {
    return !NAME.matcher(name).matches();
  }

  private static boolean badKey(String key) {
    return !key.isEmpty() && (key.length() > 256 || key.chars().anyMatch(Character::isISOControl));
  }

  /** google.protobuf.Duration's own rules: nanos 0..999999999, at most 10,000 years. */
  private static boolean badDuration(com.google.protobuf.Duration d) {
    return d.getSeconds() < 0
        || d.getSeconds() > DURATION_MAX_SECONDS
        || d.getNanos() < 0
        || d.getNanos() > 999_999_999;
  }

  private static boolean badTimeout(boolean present, com.google.protobuf.Duration d) {
    if (!present) {
      return false;
    }
    if (badDuration(d) || (d.getSeconds() == 0 && d.getNanos() == 0)) {
      return true;
    }
    return Duration.ofSeconds(d.getSeconds(), d.getNanos()).compareTo(MAX_TIMEOUT) > 0;
  }

  private static boolean badLabels(Map<String, String> labels) {
    if (labels.size() > 32) {
      return true;
    }
    int encoded = Math.max(0, labels.size() - 1);
    for (Map.Entry<String, String> e : labels.entrySet()) {
      if (e.getKey().isEmpty() || e.getKey().length() > 64 || e.getValue().length() > 256) {
        return true;
      }
      encoded +=
          URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8).length()
              + 1
              + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8).length();
    }
    return encoded > 8192;
  }

  private static boolean badAddress(String a) {
    if (a.isEmpty() || a.length() > 256 || !ADDRESS.matcher(a).matches()) {
      return true;
    }
    if (a.startsWith("inprocess:")) {
      return false;
    }
    int port = Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
    return port < 1 || port > 65535;
  }

  /** A token this coordinator could have issued: base64url of "createdAtMillis:txId". */
  private static boolean badPageToken(String token) {
    if (token.isEmpty()) {
      return false;
    }
    try {
      String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int colon = s.indexOf(':');
      Long.parseLong(s.substring(0, colon));
      return false;
    } catch (RuntimeException e) {
      return true;
    }
  }
}
