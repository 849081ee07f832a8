package dev.twopc.participant.faults;

import static org.awaitility.Awaitility.await;

import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionException;
import dev.twopc.client.TransactionOptions;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.Durability;
import dev.twopc.participant.Participant;
import dev.twopc.participant.faults.BankHandler.Payload;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.ListTransactionsResponse;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.FaultInjector;
import dev.twopc.testing.FaultInjector.Profile;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * One seeded fault-injection run. Everything random (the workload, the fault profile, when restarts
 * happen, each hop's faults) comes from the seed:
 *
 * <ol>
 *   <li>a real coordinator (embedded, loopback gRPC, its log in a temp dir) and four SDK
 *       participants running {@link BankHandler}, each on its own embedded SQLite store;
 *   <li>60-150 transfers run by six concurrent clients, across one to three participants (one
 *       branch: one-phase commit), some keyed (retried on UNKNOWN), some refused, some waiting for
 *       completion;
 *   <li>{@link FaultInjector}s on every hop, and one or two coordinator restarts and one to three
 *       participant restarts while transactions run (participants stop without grace; the
 *       coordinator with a short grace, so transactions are caught mid-protocol);
 *   <li>then every injector goes quiet and the run must converge (bounded): nothing in doubt at the
 *       coordinator, nothing prepared or locked at any participant;
 *   <li>then the durable state is checked: every transaction is applied on all its branches or on
 *       none, every COMMITTED the client heard is applied everywhere and every ABORTED nowhere, the
 *       coordinator's logged outcome matches the participants', no hold is left, and the total
 *       money is unchanged.
 * </ol>
 *
 * Every failure message starts with {@code seed=N} and how to re-run it.
 */
public final class FaultRun implements AutoCloseable {
  static final int PARTICIPANTS = 4;
  static final int WORKERS = 6;
  private static final Duration CONVERGE = Duration.ofSeconds(60);

  /** One planned transaction. */
  record Plan(int index, Map<String, Payload> branches, boolean keyed, boolean waitForCompletion) {
    List<TransactionBranch> toBranches() {
      List<TransactionBranch> out = new ArrayList<>();
      branches.forEach((p, payload) -> out.add(new TransactionBranch(p, payload.bytes())));
      return out;
    }

    Set<String> parts() {
      return new TreeSet<>(branches.keySet());
    }
  }

  /** What the client was told, in the end, about a plan. */
  record Answer(Plan plan, String txId, TransactionOutcome outcome, String reason) {}

  private final long seed;
  private final Path dir;
  private final Function<Participant, Set<String>> lockOwners;
  private final Random random;
  private final Profile profile;
  private final ScheduledExecutorService faultScheduler;
  private final FaultInjector clientFaults;
  private final FaultInjector coordinatorFaults;
  private final FaultInjector[] participantFaults = new FaultInjector[PARTICIPANTS];
  private final AtomicReferenceArray<Participant> participants =
      new AtomicReferenceArray<>(PARTICIPANTS);
  private final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<String> journal = new ConcurrentLinkedQueue<>();
  private final AtomicInteger coordinatorRestarts = new AtomicInteger();
  private final AtomicInteger participantRestarts = new AtomicInteger();
  private final ExecutorService chaos =
      Executors.newSingleThreadExecutor(r -> daemon(r, "fault-chaos"));
  private final ExecutorService workers =
      Executors.newFixedThreadPool(WORKERS, r -> daemon(r, "fault-client"));
  private volatile CoordinatorServer coordinator;

  /** Liveness violations found by coordinators already stopped (each counts its own). */
  private long livenessViolationsBefore;

  private int port;
  private ManagedChannel clientChannel;
  private ManagedChannel adminChannel;
  private TransactionClient client;

  public FaultRun(long seed, Path dir, Function<Participant, Set<String>> lockOwners) {
    this.seed = seed;
    this.dir = dir;
    this.lockOwners = lockOwners;
    this.random = new Random(seed);
    this.profile = Profile.random(random, 0.06);
    this.faultScheduler = Executors.newScheduledThreadPool(2, r -> daemon(r, "fault-timer"));
    this.clientFaults = new FaultInjector("client->coordinator", seed, profile, faultScheduler);
    this.coordinatorFaults =
        new FaultInjector("coordinator->participants", seed, profile, faultScheduler);
    for (int i = 0; i < PARTICIPANTS; i++) {
      participantFaults[i] =
          new FaultInjector(name(i) + "->coordinator", seed, profile, faultScheduler);
    }
  }

  static String name(int i) {
    return "p" + i;
  }

  private String rerun() {
    return "seed=" + seed + " (re-run: -Dtwopc.fault.seeds=" + seed + ")";
  }

  /** The whole run; throws AssertionError naming the seed on any violation. */
  public void run() throws Exception {
    int count = 60 + random.nextInt(91);
    List<Plan> plans = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      plans.add(plan(i));
    }
    Map<Integer, List<Runnable>> events = new TreeMap<>();
    int coordinatorEvents = 1 + random.nextInt(2);
    for (int i = 0; i < coordinatorEvents; i++) {
      int at = 10 + random.nextInt(count - 20);
      events.computeIfAbsent(at, k -> new ArrayList<>()).add(() -> restartCoordinator(at));
    }
    int participantEvents = 1 + random.nextInt(3);
    for (int i = 0; i < participantEvents; i++) {
      int at = 5 + random.nextInt(count - 10);
      int which = random.nextInt(PARTICIPANTS);
      events.computeIfAbsent(at, k -> new ArrayList<>()).add(() -> restartParticipant(which, at));
    }
    System.out.printf(
        "fault run %s: %d transactions, %d coordinator restarts, %d participant"
            + " restarts, faults %s%n",
        rerun(), count, coordinatorEvents, participantEvents, profile);

    startCoordinator(0);
    for (int i = 0; i < PARTICIPANTS; i++) {
      BankHandler.seed(dir.resolve(name(i)), name(i));
      participants.set(i, startParticipant(i));
    }
    adminChannel =
        Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create()).build();
    clientChannel =
        Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create()).build();
    client =
        TransactionClient.builder()
            .channel(ClientInterceptors.intercept(clientChannel, waitForReady(), clientFaults))
            .callTimeout(Duration.ofSeconds(2))
            .commitTimeout(Duration.ofSeconds(4))
            .build();
    await().atMost(Duration.ofSeconds(20)).until(() -> registered().size() == PARTICIPANTS);

    long started = System.nanoTime();
    AtomicInteger ticket = new AtomicInteger();
    List<Future<?>> chaosDone = Collections.synchronizedList(new ArrayList<>());
    List<Future<?>> running = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      running.add(
          workers.submit(
              () -> {
                for (int i = ticket.getAndIncrement(); i < count; i = ticket.getAndIncrement()) {
                  for (Runnable e : events.getOrDefault(i, List.of())) {
                    chaosDone.add(chaos.submit(e));
                  }
                  answers.add(execute(plans.get(i)));
                }
                return null;
              }));
    }
    for (Future<?> f : running) {
      get(f, "clients");
    }
    for (Future<?> f : new ArrayList<>(chaosDone)) {
      get(f, "restarts");
    }
    quiet();
    try {
      await()
          .atMost(CONVERGE)
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(this::checkConverged);
    } catch (Throwable t) {
      throw fail(
          "did not converge within " + CONVERGE + " after faults stopped: " + t.getMessage(), t);
    }
    checkDurableState();
    System.out.printf(
        "fault run %s passed in %d ms: %s%n",
        rerun(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), summary());
  }

  private void get(Future<?> f, String what) throws Exception {
    try {
      f.get(120, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw fail(what + " failed: " + e.getCause(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw fail(what + " did not finish within 120 s", e);
    }
  }

  private Plan plan(int index) {
    int k = random.nextInt(10) < 2 ? 1 : 2 + random.nextInt(2);
    List<Integer> all = new ArrayList<>(List.of(0, 1, 2, 3));
    Collections.shuffle(all, random);
    List<String> parts = all.subList(0, k).stream().map(FaultRun::name).sorted().toList();
    // Moves across all branches add up to zero: money moves, it is never made or lost.
    List<String[]> moves = new ArrayList<>();
    for (String p : parts) {
      int n = k == 1 ? 2 : 1 + random.nextInt(2);
      for (int j = 0; j < n; j++) {
        moves.add(new String[] {p, "a" + random.nextInt(BankHandler.ACCOUNTS)});
      }
    }
    long[] deltas = new long[moves.size()];
    long sum = 0;
    for (int j = 0; j < deltas.length - 1; j++) {
      deltas[j] = random.nextInt(81) - 40L;
      sum += deltas[j];
    }
    deltas[deltas.length - 1] = -sum;
    boolean refuse = random.nextInt(20) == 0;
    Map<String, Payload> branches = new LinkedHashMap<>();
    for (String p : parts) {
      Map<String, Long> mine = new LinkedHashMap<>();
      for (int j = 0; j < moves.size(); j++) {
        if (moves.get(j)[0].equals(p)) {
          mine.merge(moves.get(j)[1], deltas[j], Long::sum);
        }
      }
      boolean no = refuse && p.equals(parts.get(parts.size() - 1));
      branches.put(p, new Payload(parts, mine, no));
    }
    return new Plan(index, branches, random.nextBoolean(), random.nextInt(4) == 0);
  }

  private Answer execute(Plan plan) {
    TransactionOptions options =
        TransactionOptions.defaults()
            .withTimeout(Duration.ofSeconds(3))
            .withWaitForCompletion(plan.waitForCompletion());
    if (plan.keyed()) {
      options = options.withIdempotencyKey("seed" + seed + "-tx" + plan.index());
    }
    TransactionResult r = null;
    // A keyed transaction can be asked again: the same key answers the same transaction.
    for (int attempt = 0; attempt < (plan.keyed() ? 4 : 1); attempt++) {
      try {
        r = client.execute(plan.toBranches(), options);
      } catch (TransactionException e) {
        r = new TransactionResult("", TransactionOutcome.UNKNOWN, "refused: " + e.getMessage());
        if (e.code() != TransactionException.Code.UNAVAILABLE
            && e.code() != TransactionException.Code.DEADLINE_EXCEEDED
            && !e.getMessage().contains("not registered")
            && !e.getMessage().contains("unknown participant")) {
          journal.add("tx" + plan.index() + " refused: " + e.getMessage());
        }
      }
      if (r.outcome() == TransactionOutcome.COMMITTED
          || r.outcome() == TransactionOutcome.ABORTED) {
        break;
      }
    }
    return new Answer(plan, r.txId(), r.outcome(), r.reason());
  }

  // ------------------------------------------------------------------ the cast

  private CoordinatorConfig coordinatorConfig(int onPort) {
    CoordinatorConfig.Builder b =
        CoordinatorConfig.builder()
            .host("127.0.0.1")
            .port(onPort)
            .dataDir(dir.resolve("coordinator"))
            .durability(Durability.PROCESS)
            .prepareTimeout(Duration.ofMillis(1500))
            .defaultTransactionTimeout(Duration.ofSeconds(4))
            .phase2BackoffBase(Duration.ofMillis(20))
            .phase2BackoffCap(Duration.ofMillis(300))
            .phase2CallTimeout(Duration.ofSeconds(1))
            // Short: transactions still being prepared or decided are cut off, as by a crash.
            .shutdownGrace(Duration.ofMillis(50))
            .livenessCheckInterval(Duration.ofMillis(500))
            .participantInterceptor(coordinatorFaults)
            // The injector faults unary calls, one per message: on the Exchange stream it would
            // see one long call and fault none of the coordinator's messages.
            .participantStreams(false);
    if (onPort != 0) {
      b.advertisedAddress("127.0.0.1:" + onPort);
    }
    return b.build();
  }

  private void startCoordinator(int onPort) throws IOException {
    coordinator = CoordinatorServer.start(coordinatorConfig(onPort));
    port = coordinator.port();
  }

  private Participant startParticipant(int i) throws IOException {
    Participant p =
        Participant.builder(name(i))
            .coordinator("127.0.0.1:" + port)
            .dataDirectory(dir.resolve(name(i)))
            .handler(new BankHandler())
            .threads(8)
            .lockWait(Duration.ofMillis(200))
            .rpcTimeout(Duration.ofSeconds(1))
            .inDoubtAfter(Duration.ofMillis(500))
            .inDoubtCheckInterval(Duration.ofMillis(100))
            .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(300))
            // Calls in flight finish (their answers may be lost); what is in memory (locks, the
            // pending map) is gone and rebuilt from the store, as after a crash. No shorter: a
            // close past the grace interrupts JDBC work in the middle of a local transaction (a
            // real crash ends the JVM instead).
            .shutdownGrace(Duration.ofSeconds(2))
            .coordinatorInterceptor(participantFaults[i])
            .build();
    p.start();
    return p;
  }

  private void restartCoordinator(int at) {
    journal.add("tx" + at + ": coordinator restart");
    livenessViolationsBefore += coordinator.livenessViolations();
    coordinator.close();
    // The port may take a moment to be free again; retry until it binds.
    CoordinatorServer[] started = new CoordinatorServer[1];
    await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              try {
                started[0] = CoordinatorServer.start(coordinatorConfig(port));
                return true;
              } catch (IOException e) {
                return false;
              }
            });
    coordinator = started[0];
    coordinatorRestarts.incrementAndGet();
    journal.add("tx" + at + ": coordinator back, " + coordinator.recoverySummary().describe());
  }

  private void restartParticipant(int i, int at) {
    journal.add("tx" + at + ": " + name(i) + " restart");
    participants.get(i).close();
    try {
      participants.set(i, startParticipant(i));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    participantRestarts.incrementAndGet();
    journal.add(
        "tx"
            + at
            + ": "
            + name(i)
            + " back with "
            + participants.get(i).listPrepared().size()
            + " prepared branches");
  }

  /**
   * Calls wait (up to their deadline) for the channel to reconnect after a coordinator restart
   * instead of failing at once during gRPC's reconnect backoff: keeps the workload going.
   */
  private static ClientInterceptor waitForReady() {
    return new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
          MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
        return next.newCall(method, options.withWaitForReady());
      }
    };
  }

  private void quiet() {
    clientFaults.quiet();
    coordinatorFaults.quiet();
    for (FaultInjector f : participantFaults) {
      f.quiet();
    }
  }

  // ------------------------------------------------------------------ checks

  private Set<String> registered() {
    return CoordinatorGrpc.newBlockingStub(adminChannel)
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .listParticipants(ListParticipantsRequest.getDefaultInstance())
        .getParticipantsList()
        .stream()
        .map(p -> p.getName())
        .collect(Collectors.toSet());
  }

  private List<TransactionView> transactions(ListTransactionsRequest.Builder filter) {
    List<TransactionView> out = new ArrayList<>();
    String token = "";
    do {
      ListTransactionsResponse r =
          AdminGrpc.newBlockingStub(adminChannel)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .listTransactions(filter.setPageSize(1000).setPageToken(token).build());
      out.addAll(r.getTransactionsList());
      token = r.getNextPageToken();
    } while (!token.isEmpty());
    return out;
  }

  /** Nothing in doubt or unfinished at the coordinator; nothing prepared or locked anywhere. */
  private void checkConverged() {
    List<String> problems = new ArrayList<>();
    List<TransactionView> open =
        transactions(
            ListTransactionsRequest.newBuilder()
                .addStates(TransactionState.TRANSACTION_STATE_ACTIVE)
                .addStates(TransactionState.TRANSACTION_STATE_PREPARING)
                .addStates(TransactionState.TRANSACTION_STATE_COMMITTING)
                .addStates(TransactionState.TRANSACTION_STATE_ABORTING));
    for (TransactionView v : open) {
      problems.add(
          "coordinator: "
              + v.getTxId()
              + " "
              + v.getState()
              + " branches="
              + v.getBranchesList().stream()
                  .map(
                      b ->
                          b.getParticipant()
                              + ":"
                              + b.getState()
                              + (b.getLastError().isEmpty() ? "" : "(" + b.getLastError() + ")"))
                  .toList());
    }
    List<TransactionView> inDoubt =
        transactions(ListTransactionsRequest.newBuilder().setInDoubt(true));
    for (TransactionView v : inDoubt) {
      problems.add("coordinator in doubt: " + v.getTxId() + " " + v.getState());
    }
    for (int i = 0; i < PARTICIPANTS; i++) {
      Participant p = participants.get(i);
      if (!p.listPrepared().isEmpty()) {
        problems.add(
            name(i)
                + " prepared: "
                + p.listPrepared().stream()
                    .map(b -> b.txId() + (b.lastError().isEmpty() ? "" : "(" + b.lastError() + ")"))
                    .toList());
      }
      Set<String> owners = lockOwners.apply(p);
      if (!owners.isEmpty()) {
        problems.add(name(i) + " locks held by " + owners);
      }
    }
    // The liveness invariant: no unfinished transaction was ever left with nothing driving it
    // (the periodic check, every 500 ms, during the run), and none is now (two checks).
    long violations =
        livenessViolationsBefore
            + coordinator.livenessViolations()
            + coordinator.checkLiveness()
            + coordinator.checkLiveness();
    if (violations > 0) {
      problems.add(
          "liveness: "
              + violations
              + " transaction(s) seen stuck (no call in flight,"
              + " nothing scheduled); see event=liveness_violation");
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(
          problems.size()
              + " not converged: "
              + String.join("; ", problems.subList(0, Math.min(8, problems.size()))));
    }
  }

  private void checkDurableState() throws Exception {
    List<String> violations = new ArrayList<>();
    Map<String, BankHandler.State> states = new TreeMap<>();
    long total = 0;
    for (int i = 0; i < PARTICIPANTS; i++) {
      BankHandler.State s = BankHandler.read(dir.resolve(name(i)), name(i));
      states.put(name(i), s);
      total += s.total();
      if (!s.held().isEmpty()) {
        violations.add(name(i) + " still holds money for " + s.held());
      }
      if (!s.prepared().isEmpty()) {
        violations.add(name(i) + " has prepared branches on disk: " + s.prepared());
      }
    }
    // Which participants applied each transaction, and which it was meant for.
    Map<String, Set<String>> appliedAt = new HashMap<>();
    Map<String, Set<String>> partsOf = new HashMap<>();
    states.forEach(
        (name, s) ->
            s.appliedParts()
                .forEach(
                    (tx, parts) -> {
                      appliedAt.computeIfAbsent(tx, t -> new TreeSet<>()).add(name);
                      partsOf.put(tx, parts);
                    }));
    // 1. Atomicity: applied on one branch means applied on all.
    appliedAt.forEach(
        (tx, at) -> {
          if (!at.equals(partsOf.get(tx))) {
            violations.add(
                "atomicity: tx " + tx + " for " + partsOf.get(tx) + " applied only at " + at);
          }
        });
    // 2. What the client was told holds.
    int committed = 0;
    int aborted = 0;
    int unknown = 0;
    Map<String, Integer> reasons = new TreeMap<>();
    for (Answer a : answers) {
      Set<String> at = appliedAt.getOrDefault(a.txId(), Set.of());
      switch (a.outcome()) {
        case COMMITTED -> {
          committed++;
          if (!at.equals(a.plan().parts())) {
            violations.add(
                "lost commit: client heard COMMITTED for tx "
                    + a.txId()
                    + " (plan "
                    + a.plan().index()
                    + ", "
                    + a.plan().parts()
                    + ") but it is applied at "
                    + at);
          }
        }
        case ABORTED -> {
          aborted++;
          reasons.merge(
              a.reason()
                  .replaceAll("[0-9a-f-]{36}", "TX")
                  .replaceAll(" p[0-9]", " pN")
                  .replaceAll("a[0-9]", "aN"),
              1,
              Integer::sum);
          if (!at.isEmpty()) {
            violations.add(
                "client heard ABORTED for tx "
                    + a.txId()
                    + " (plan "
                    + a.plan().index()
                    + ") but it is applied at "
                    + at);
          }
        }
        default -> unknown++;
      }
    }
    // 3. The coordinator's log agrees with the participants.
    Set<String> logged = new TreeSet<>();
    for (TransactionView v : transactions(ListTransactionsRequest.newBuilder())) {
      logged.add(v.getTxId());
      Set<String> at = appliedAt.getOrDefault(v.getTxId(), Set.of());
      Set<String> branches =
          v.getBranchesList().stream()
              .map(b -> b.getParticipant())
              .collect(Collectors.toCollection(TreeSet::new));
      if (v.getState() == TransactionState.TRANSACTION_STATE_COMMITTED && !at.equals(branches)) {
        violations.add(
            "coordinator logged COMMITTED for tx "
                + v.getTxId()
                + " "
                + branches
                + " but it is applied at "
                + at);
      } else if (v.getState() == TransactionState.TRANSACTION_STATE_ABORTED && !at.isEmpty()) {
        violations.add(
            "coordinator logged ABORTED for tx "
                + v.getTxId()
                + " "
                + branches
                + " but it is applied at "
                + at);
      }
    }
    // A multi-branch commit is always logged; a one-phase commit is logged unless the
    // coordinator restarted before it heard the answer.
    appliedAt.forEach(
        (tx, at) -> {
          if (!logged.contains(tx) && partsOf.get(tx).size() > 1) {
            violations.add("tx " + tx + " applied at " + at + " is unknown to the coordinator");
          }
        });
    // 5. Money is conserved.
    long expected = (long) PARTICIPANTS * BankHandler.ACCOUNTS * BankHandler.OPENING_BALANCE;
    if (total != expected) {
      violations.add("conservation: total " + total + ", expected " + expected);
    }
    journal.add(
        String.format(
                "answers: %d committed, %d aborted, %d unknown; %d applied",
                committed, aborted, unknown, appliedAt.size())
            + "; abort reasons "
            + reasons);
    if (!violations.isEmpty()) {
      throw fail(
          violations.size()
              + " violations: "
              + String.join("; ", violations.subList(0, Math.min(10, violations.size()))),
          null);
    }
  }

  private String summary() {
    long faults = clientFaults.faults() + coordinatorFaults.faults();
    for (FaultInjector f : participantFaults) {
      faults += f.faults();
    }
    return "restarts: coordinator="
        + coordinatorRestarts
        + " participants="
        + participantRestarts
        + "; faults injected="
        + faults
        + " ("
        + clientFaults
        + "; "
        + coordinatorFaults
        + "; "
        + java.util.Arrays.toString(participantFaults)
        + "); "
        + String.join("; ", journal);
  }

  private AssertionError fail(String what, Throwable cause) {
    return new AssertionError(
        rerun() + ": " + what + "\n  profile: " + profile + "\n  run: " + summary(), cause);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  @Override
  public void close() {
    quiet();
    workers.shutdownNow();
    chaos.shutdownNow();
    if (client != null) {
      client.close();
    }
    for (ManagedChannel c : new ManagedChannel[] {clientChannel, adminChannel}) {
      if (c != null) {
        c.shutdownNow();
      }
    }
    for (int i = 0; i < PARTICIPANTS; i++) {
      Participant p = participants.get(i);
      if (p != null) {
        p.close();
      }
    }
    if (coordinator != null) {
      coordinator.close();
    }
    faultScheduler.shutdownNow();
  }
}
