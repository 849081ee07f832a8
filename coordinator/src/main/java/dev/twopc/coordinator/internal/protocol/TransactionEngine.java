package dev.twopc.coordinator.internal.protocol;

import static dev.twopc.coordinator.internal.CoordinatorException.invalid;
import static dev.twopc.coordinator.internal.CoordinatorException.notFound;
import static dev.twopc.coordinator.internal.CoordinatorException.precondition;

import com.google.protobuf.ByteString;
import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CrashPoints;
import dev.twopc.coordinator.internal.CoordinatorException;
import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.DecisionLog.DecisionResult;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogRecord.Enlisted;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics.Path;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics.Result;
import dev.twopc.proto.v1.CommitBranchRequest;
import dev.twopc.proto.v1.CommitBranchResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.PrepareResponse;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.proto.v1.RollbackBranchResponse;
import dev.twopc.telemetry.Tracing;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs transactions: begin, enlist, parallel prepare, the decision, and hands phase 2 to {@link
 * PhaseTwo}. Each transaction is its own {@link Tx}; the engine only indexes them.
 */
public final class TransactionEngine implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TransactionEngine.class);

  /** What Begin answers. */
  public record Begun(String txId, long deadlineAt) {}

  /** A live transaction's snapshot plus when each waiting branch is retried next. */
  public record LiveView(StoredTransaction tx, Map<String, Long> nextAttempts) {}

  private final CoordinatorConfig config;
  private final DecisionLog decisionLog;
  private final LogReader reader;
  private final ParticipantDirectory directory;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final CrashPoints crashPoints;
  private final PhaseTwo phaseTwo;
  private final Backoff backoff;
  private final java.util.function.Supplier<String> advertisedAddress;
  private final Map<String, Tx> live = new ConcurrentHashMap<>();
  private final Map<String, Tx> byKey = new ConcurrentHashMap<>();
  private volatile boolean closing;
  private final CoordinatorMetrics metrics;
  private final Tracing tracing;

  public TransactionEngine(
      CoordinatorConfig config,
      DecisionLog decisionLog,
      LogReader reader,
      ParticipantDirectory directory,
      ScheduledExecutorService scheduler,
      java.util.function.Supplier<String> advertisedAddress) {
    this(
        config,
        decisionLog,
        reader,
        directory,
        scheduler,
        advertisedAddress,
        CoordinatorMetrics.disabled());
  }

  /** With {@code metrics} kept of every transaction and phase-2 attempt. */
  public TransactionEngine(
      CoordinatorConfig config,
      DecisionLog decisionLog,
      LogReader reader,
      ParticipantDirectory directory,
      ScheduledExecutorService scheduler,
      java.util.function.Supplier<String> advertisedAddress,
      CoordinatorMetrics metrics) {
    this.metrics = metrics;
    this.tracing = config.tracing();
    this.config = config;
    this.decisionLog = decisionLog;
    this.reader = reader;
    this.directory = directory;
    this.scheduler = scheduler;
    this.clock = config.clock();
    this.crashPoints = config.crashPoints();
    this.advertisedAddress = advertisedAddress;
    this.backoff = new Backoff(config.phase2BackoffBase(), config.phase2BackoffCap());
    this.phaseTwo =
        new PhaseTwo(
            directory,
            decisionLog,
            scheduler,
            clock,
            backoff,
            config.phase2CallTimeout(),
            crashPoints,
            this::finish,
            metrics,
            tracing);
  }

  // ---------------------------------------------------------------- begin, enlist, execute

  public Begun begin(Duration timeout, String idempotencyKey, Map<String, String> labels) {
    Tx tx = open(timeout, idempotencyKey, labels, true, List.of());
    return new Begun(tx.id, tx.deadlineAt);
  }

  /**
   * Adds {@code participant} to ACTIVE {@code txId}: a client handing it {@code payload}, or the
   * participant itself ({@code staged}: its work waits in its memory). Again for the same
   * participant: a no-op that may add {@code staged}; another non-empty payload is refused.
   */
  public long enlist(String txId, String participant, byte[] payload, boolean staged) {
    requireRegistered(participant);
    Tx tx = live.get(txId);
    if (tx == null) {
      throw notLive(txId);
    }
    Branch added;
    synchronized (tx) {
      if (tx.state() != TxState.ACTIVE) {
        throw precondition(
            "transaction "
                + txId
                + " is "
                + tx.state()
                + "; enlisting is only possible while it is ACTIVE");
      }
      Branch known = tx.branches.get(participant);
      if (known != null) {
        if (payload.length > 0 && !Arrays.equals(payload, known.payload)) {
          throw precondition(
              "participant "
                  + participant
                  + " is already enlisted in transaction "
                  + txId
                  + (known.payload == null || known.payload.length == 0
                      ? " without a payload"
                      : " with another payload")
                  + "; enlist it again only with the same payload or none");
        }
        known.staged |= staged;
        return tx.deadlineAt;
      }
      if (tx.branches.size() >= config.maxBranches()) {
        throw invalid(
            "transaction "
                + txId
                + " already has the maximum of "
                + config.maxBranches()
                + " branches");
      }
      added = new Branch(participant, tx.branches.size(), payload, digest(payload), true);
      added.staged = staged;
      tx.branches.put(participant, added);
    }
    decisionLog.append(new Enlisted(txId, added.row()));
    return tx.deadlineAt;
  }

  /** Begin + enlist + commit. A retry with the same idempotency key answers the same tx. */
  public CompletableFuture<TxResult> execute(
      List<BranchSpec> branches,
      Duration timeout,
      String idempotencyKey,
      Map<String, String> labels,
      boolean waitForCompletion) {
    for (BranchSpec b : branches) {
      requireRegistered(b.participant());
    }
    if (idempotencyKey != null) {
      Optional<CompletableFuture<TxResult>> earlier =
          resultForKey(idempotencyKey, branches, waitForCompletion);
      if (earlier.isPresent()) {
        return earlier.get();
      }
    }
    Tx tx = open(timeout, idempotencyKey, labels, false, branches);
    return commit(tx, waitForCompletion); // an earlier tx with the key: its same answer
  }

  private Optional<CompletableFuture<TxResult>> resultForKey(
      String key, List<BranchSpec> branches, boolean wait) {
    Tx tx = byKey.get(key);
    if (tx != null) {
      requireSameRequest(key, tx, false, branches);
      return Optional.of(wait ? tx.finished : tx.decided);
    }
    try {
      Optional<String> id = reader.txIdForKey(key);
      if (id.isEmpty()) {
        return Optional.empty();
      }
      Tx again = live.get(id.get());
      if (again != null) {
        requireSameRequest(key, again, false, branches);
        return Optional.of(wait ? again.finished : again.decided);
      }
      Optional<StoredTransaction> stored = reader.find(id.get());
      if (stored.isPresent()) {
        requireSameBranches(
            key,
            id.get(),
            stored.get().branches().stream()
                .map(b -> fingerprint(b.participant(), b.payloadDigest()))
                .toList(),
            branches);
      }
      return Optional.of(CompletableFuture.completedFuture(loggedResult(id.get())));
    } catch (LogStoreException e) {
      throw CoordinatorException.unavailable("decision log unavailable", e);
    }
  }

  /**
   * An idempotency key names one request, as with payment APIs: its retry gets the same answer; the
   * same key with a different request (other branches or payloads, or a Begin where an Execute was,
   * or the reverse) is refused at once, naming the key, instead of answering another transaction's
   * outcome or waiting on it.
   */
  private static void requireSameRequest(
      String key, Tx earlier, boolean interactive, List<BranchSpec> branches) {
    if (earlier.interactive != interactive) {
      throw precondition(
          "idempotency key "
              + key
              + " is already used by transaction "
              + earlier.id
              + (earlier.interactive
                  ? ", begun interactively (Begin): commit or roll" + " it back by its id"
                  : ", an Execute")
              + "; use a new key for a different"
              + " request");
    }
    if (interactive) {
      return; // a repeated Begin: the same transaction
    }
    List<String> had;
    synchronized (earlier) {
      had =
          earlier.branches.values().stream()
              .sorted(java.util.Comparator.comparingInt(b -> b.index))
              .map(b -> fingerprint(b.participant, b.payloadDigest))
              .toList();
    }
    requireSameBranches(key, earlier.id, had, branches);
  }

  private static void requireSameBranches(
      String key, String txId, List<String> had, List<BranchSpec> branches) {
    List<String> asked =
        branches.stream().map(b -> fingerprint(b.participant(), digest(b.payload()))).toList();
    if (!had.equals(asked)) {
      throw precondition(
          "idempotency key "
              + key
              + " is already used by transaction "
              + txId
              + " with other branches or payloads; use a new key for a different request");
    }
  }

  private static String fingerprint(String participant, String payloadDigest) {
    // An empty payload and none are the same request.
    return participant + "/" + (payloadDigest == null ? digest(new byte[0]) : payloadDigest);
  }

  /** The id of the live transaction begun or executed with {@code key}, if any. */
  public Optional<String> liveTxIdForKey(String key) {
    Tx tx = byKey.get(key);
    return tx == null ? Optional.empty() : Optional.of(tx.id);
  }

  private TxResult loggedResult(String txId) {
    Optional<StoredTransaction> s = reader.find(txId);
    if (s.isEmpty()) {
      throw notFound("unknown transaction " + txId);
    }
    Decision d = s.get().decision();
    if (d == Decision.COMMIT) {
      return new TxResult(txId, Outcome.OUTCOME_COMMITTED, "");
    }
    if (d == Decision.ABORT) {
      return new TxResult(txId, Outcome.OUTCOME_ABORTED, nullToEmpty(s.get().abortReason()));
    }
    return new TxResult(txId, Outcome.OUTCOME_UNKNOWN, "not decided yet");
  }

  private Tx open(
      Duration timeout,
      String key,
      Map<String, String> labels,
      boolean interactive,
      List<BranchSpec> branches) {
    if (closing) {
      throw CoordinatorException.unavailable("the coordinator is shutting down", null);
    }
    if (!decisionLog.healthy()) {
      throw CoordinatorException.unavailable("the decision log is unavailable", null);
    }
    Duration t = timeout == null ? config.defaultTransactionTimeout() : timeout;
    long now = clock.millis();
    Tx tx =
        new Tx(
            TxIds.newTxId(now),
            now,
            now + t.toMillis(),
            key,
            labels == null ? Map.of() : Map.copyOf(labels),
            interactive);
    for (BranchSpec b : branches) {
      tx.branches.put(
          b.participant(),
          new Branch(b.participant(), tx.branches.size(), b.payload(), digest(b.payload()), false));
    }
    if (key != null) {
      Tx earlier = byKey.putIfAbsent(key, tx);
      if (earlier != null) {
        requireSameRequest(key, earlier, interactive, branches);
        return earlier;
      }
      try {
        Optional<String> logged = reader.txIdForKey(key);
        if (logged.isPresent()) {
          byKey.remove(key, tx);
          Tx l = live.get(logged.get());
          if (l != null) {
            requireSameRequest(key, l, interactive, branches);
            return l;
          }
          throw precondition(
              "idempotency key " + key + " belongs to finished transaction " + logged.get());
        }
      } catch (LogStoreException e) {
        byKey.remove(key, tx);
        throw CoordinatorException.unavailable("decision log unavailable", e);
      }
    }
    // Lazy: an undecided transaction that never reached the log is presumed aborted. An unkeyed
    // Execute skips the record altogether: its decision inserts the transaction, and until then
    // only the prepared participants know of it, and they ask (GetOutcome) if it is lost.
    if (interactive || key != null) {
      tx.begunAppended = true;
      decisionLog.append(tx.begunRecord());
    }
    live.put(tx.id, tx);
    observe(
        tx,
        interactive
            ? Path.INTERACTIVE
            : branches.size() == 1 && key == null ? Path.ONE_PHASE : Path.EXECUTE);
    scheduleTimeout(tx);
    return tx;
  }

  /** Counts the transaction and, when it is decided and finished, its outcome and times. */
  private void observe(Tx tx, Path path) {
    tx.trace = tracing.current();
    if (!metrics.enabled()) {
      return;
    }
    metrics.begun(path);
    tx.decided.whenComplete(
        (r, e) -> {
          long started = tx.commitNanos;
          metrics.decided(
              path,
              r == null
                  ? Result.UNKNOWN
                  : switch (r.outcome()) {
                    case OUTCOME_COMMITTED -> Result.COMMITTED;
                    case OUTCOME_ABORTED -> Result.ABORTED;
                    default -> Result.UNKNOWN;
                  },
              started == 0 ? -1 : System.nanoTime() - started);
        });
    tx.finished.whenComplete(
        (r, e) -> {
          if (r != null) {
            metrics.finished(
                path, r.outcome() == Outcome.OUTCOME_COMMITTED, clock.millis() - tx.createdAt);
          }
        });
  }

  /** The live transactions as the metrics' gauges show them. */
  public CoordinatorMetrics.Live liveFigures() {
    long now = clock.millis();
    long park = config.parkAfter().toMillis();
    Map<String, Integer> byState = new java.util.TreeMap<>();
    int inDoubt = 0;
    int parked = 0;
    long oldest = Long.MAX_VALUE;
    for (Tx tx : live.values()) {
      synchronized (tx) {
        byState.merge(tx.state().name(), 1, Integer::sum);
        boolean decided = tx.state() == TxState.COMMITTING || tx.state() == TxState.ABORTING;
        boolean late = tx.state().undecided() && tx.deadlineAt < now;
        if (decided || late) {
          inDoubt++;
          oldest = Math.min(oldest, tx.createdAt);
        }
        if (decided && tx.decidedAt != null && now - tx.decidedAt > park) {
          for (Branch b : tx.branches.values()) {
            parked += b.awaitingPhase2() ? 1 : 0;
          }
        }
      }
    }
    return new CoordinatorMetrics.Live(
        byState, inDoubt, inDoubt == 0 ? 0 : Math.max(0, now - oldest) / 1e3, parked);
  }

  private void scheduleTimeout(Tx tx) {
    long delay = Math.max(0, tx.deadlineAt - clock.millis());
    try {
      var f =
          scheduler.schedule(
              () ->
                  abort(
                      tx, "timed out: not decided within the" + " transaction timeout", "timeout"),
              delay,
              TimeUnit.MILLISECONDS);
      synchronized (tx) {
        tx.timeout = f;
      }
    } catch (RejectedExecutionException stopping) {
      // shutting down: recovery aborts it
    }
  }

  // ---------------------------------------------------------------- commit and prepare

  public CompletableFuture<TxResult> commit(String txId, boolean waitForCompletion) {
    Tx tx = live.get(txId);
    if (tx == null) {
      try {
        TxResult r = loggedResult(txId);
        if (r.outcome() == Outcome.OUTCOME_ABORTED) {
          throw precondition("transaction " + txId + " is aborted: " + r.reason());
        }
        return CompletableFuture.completedFuture(r);
      } catch (LogStoreException e) {
        throw CoordinatorException.unavailable("decision log unavailable", e);
      }
    }
    synchronized (tx) {
      if (tx.decision == Decision.ABORT) {
        throw precondition("transaction " + txId + " is aborted: " + tx.abortReason);
      }
    }
    return commit(tx, waitForCompletion);
  }

  private CompletableFuture<TxResult> commit(Tx tx, boolean wait) {
    List<Branch> branches;
    boolean onePhase;
    synchronized (tx) {
      if (tx.state() != TxState.ACTIVE) {
        return wait ? tx.finished : tx.decided; // a duplicate Commit: the same answer
      }
      // Single branch, not keyed, not interactive: the participant decides in one phase.
      onePhase = tx.branches.size() == 1 && tx.idempotencyKey == null && !tx.interactive;
      tx.onePhase = onePhase;
      tx.moveTo(onePhase ? TxState.ONE_PHASE : TxState.PREPARING);
      tx.commitNanos = System.nanoTime();
      if (tracing.enabled() && tx.interactive) {
        // The prepares and the decision belong under the Commit call, not under Begin.
        io.opentelemetry.context.Context now = tracing.current();
        if (Span.fromContext(now).getSpanContext().isValid()) {
          tx.trace = now;
        }
      }
      branches = new ArrayList<>(tx.branches.values());
    }
    if (branches.isEmpty()) {
      decideCommit(tx);
    } else if (onePhase) {
      onePhase(tx, branches.get(0));
    } else {
      long left = tx.deadlineAt - clock.millis();
      long timeout = Math.min(config.prepareTimeout().toMillis(), left);
      if (timeout <= 0) {
        abort(tx, "timed out before prepare", "timeout");
      } else {
        for (Branch b : branches) {
          prepare(tx, b, timeout);
        }
      }
    }
    return wait ? tx.finished : tx.decided;
  }

  private void prepare(Tx tx, Branch b, long timeoutMs) {
    Optional<ManagedChannel> channel = directory.channel(b.participant);
    if (channel.isEmpty()) {
      abort(tx, "participant " + b.participant + " is not registered", "protocol");
      return;
    }
    PrepareRequest req =
        PrepareRequest.newBuilder()
            .setTxId(tx.id)
            .setParticipant(b.participant)
            .setPayload(b.payload == null ? ByteString.EMPTY : ByteString.copyFrom(b.payload))
            .setTimeout(
                com.google.protobuf.Duration.newBuilder()
                    .setSeconds(timeoutMs / 1000)
                    .setNanos((int) (timeoutMs % 1000) * 1_000_000))
            .setCoordinator(advertisedAddress.get())
            .setEnlisted(b.enlisted)
            .setStaged(b.staged)
            .build();
    // The transaction outlives the client's call: a client that goes away gets UNKNOWN, but
    // prepares and the decision proceed, so they must not inherit the call's cancellation.
    Span span = tracing.start("twopc.prepare", tx.trace, tx.id, b.participant);
    Context.ROOT.run(
        () ->
            tracing.runIn(
                tx.trace,
                span,
                () ->
                    ParticipantGrpc.newStub(channel.get())
                        .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
                        .prepare(
                            req,
                            new StreamObserver<>() {
                              @Override
                              public void onNext(PrepareResponse r) {
                                span.setAttribute("twopc.vote", r.getVote().name());
                                span.end();
                                directory.seen(b.participant);
                                voted(tx, b, r);
                              }

                              @Override
                              public void onError(Throwable t) {
                                Status s = Status.fromThrowable(t);
                                String why =
                                    Limits.text(
                                        "prepare failed at "
                                            + b.participant
                                            + ": "
                                            + s.getCode()
                                            + (s.getDescription() == null
                                                ? ""
                                                : " " + s.getDescription()),
                                        Limits.LAST_ERROR);
                                Tracing.end(span, why);
                                directory.failed(b.participant, why);
                                abort(tx, why, "protocol");
                              }

                              @Override
                              public void onCompleted() {}
                            })));
  }

  private void voted(Tx tx, Branch b, PrepareResponse r) {
    String abortWhy = null;
    boolean allVoted = true;
    synchronized (tx) {
      b.votedAt = clock.millis();
      switch (r.getVote()) {
        case VOTE_YES -> {
          b.vote = Vote.YES;
          if (b.state() == BranchState.ENLISTED) {
            b.moveTo(BranchState.PREPARED);
          }
        }
        case VOTE_READ_ONLY -> {
          b.vote = Vote.READ_ONLY;
          b.moveTo(BranchState.READ_ONLY);
        }
        default -> {
          b.vote = Vote.NO;
          b.voteReason = Limits.text(r.getReason(), Limits.REASON);
          if (b.state() != BranchState.ROLLING_BACK) {
            b.moveTo(BranchState.REFUSED);
          }
          abortWhy =
              "participant "
                  + b.participant
                  + " voted NO"
                  + (r.getReason().isEmpty() ? "" : ": " + r.getReason());
        }
      }
      if (abortWhy == null) {
        if (tx.state() != TxState.PREPARING) {
          return; // already aborted: this branch is among those being rolled back
        }
        for (Branch other : tx.branches.values()) {
          // A NO already counted is being aborted (outside this lock): never a reason to commit.
          allVoted &= other.vote != null && other.vote != Vote.NO;
        }
      }
    }
    if (abortWhy != null) {
      abort(tx, abortWhy, "protocol");
    } else if (allVoted) {
      decideCommit(tx);
    }
  }

  /** Every branch voted YES or READ_ONLY: make COMMIT durable, then tell everyone. */
  private void decideCommit(Tx tx) {
    synchronized (tx) {
      if (tx.state() != TxState.PREPARING) {
        return;
      }
      // Safety rule: COMMIT only if every branch voted YES or READ_ONLY. A NO sets its vote
      // under this lock but aborts after releasing it, so a YES arriving in between must not
      // take the transaction to COMMIT.
      for (Branch b : tx.branches.values()) {
        if (b.vote != Vote.YES && b.vote != Vote.READ_ONLY) {
          return;
        }
      }
      tx.moveTo(TxState.DECIDING);
    }
    // Also when nothing was prepared (no branch, or all READ_ONLY) and no participant needs
    // phase 2: the client is told COMMITTED, so that must be what the log says after a crash,
    // not an undecided transaction that recovery aborts or an id presumed aborted.
    crashPoints.reached(CrashPoints.Point.BEFORE_DECISION_WRITE);
    writeDecision(tx, Decision.COMMIT, null, "protocol");
  }

  /**
   * Invariant (safety rule 1): COMMIT is in the log, durably, before any participant is told to
   * commit and before the client hears COMMITTED. Everything after the write happens in the
   * completion of the append, which completes only once the batch is durable.
   */
  private void writeDecision(Tx tx, Decision decision, String abortReason, String decidedBy) {
    long now = clock.millis();
    synchronized (tx) {
      tx.decisionAttemptAt = now;
    }
    Decided record = decisionRecord(tx, decision, abortReason, decidedBy, now);
    // Completes on the log's completer thread, in log order, one hand-off per batch: the
    // follow-up only queues RPCs and appends, so it never holds up the next batch.
    Span span = tracing.start("twopc.decision_write", tx.trace, tx.id, null);
    span.setAttribute("twopc.decision", decision.name());
    decisionLog
        .append(record)
        .whenComplete(
            (result, error) -> {
              Tracing.end(span, error == null ? null : error.toString());
              if (error != null) {
                decisionWriteFailed(tx, error);
              } else {
                crashPoints.reached(CrashPoints.Point.AFTER_DECISION_WRITE);
                applyDecision(
                    tx, ((DecisionResult) result).decision(), abortReason, decidedBy, now);
              }
            });
  }

  /**
   * A failed write is "maybe written": the client hears UNKNOWN, and the coordinator keeps trying
   * to log ABORT insert-if-absent. If the COMMIT did land, that write returns COMMIT and the
   * transaction commits; it never becomes a COMMIT that is not in the log.
   */
  private void decisionWriteFailed(Tx tx, Throwable error) {
    log.warn("event=decision_write_failed tx={} error=\"{}\"", tx.id, error.toString());
    tx.decided.complete(
        new TxResult(
            tx.id, Outcome.OUTCOME_UNKNOWN, "the decision log is unavailable; ask again later"));
    try {
      scheduler.schedule(
          () ->
              writeDecision(
                  tx,
                  Decision.ABORT,
                  "the decision log was unavailable when COMMIT was being logged",
                  "protocol"),
          backoff.delayMillis(3),
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stopping) {
      // recovery at the next start decides it
    }
  }

  /** The decision as the log stores it: on COMMIT, every YES branch is to be committed. */
  private static Decided decisionRecord(
      Tx tx, Decision decision, String abortReason, String decidedBy, long at) {
    synchronized (tx) {
      List<BranchRow> rows = new ArrayList<>();
      for (Branch b : tx.branches.values()) {
        BranchState state =
            decision == Decision.COMMIT && b.vote == Vote.YES ? BranchState.COMMITTING : b.state();
        rows.add(
            new BranchRow(
                b.participant,
                b.index,
                b.payloadDigest,
                b.vote,
                b.voteReason,
                state,
                b.attempts,
                b.lastError,
                b.lastAttemptAt,
                b.acknowledgedAt,
                b.votedAt));
      }
      return new Decided(
          tx.id,
          decision,
          decision == Decision.COMMIT ? TxState.COMMITTING : TxState.ABORTING,
          at,
          decidedBy,
          abortReason,
          rows,
          tx.begunRecord(),
          tx.begunAppended);
    }
  }

  private void applyDecision(
      Tx tx, Decision decision, String abortReason, String decidedBy, long at) {
    synchronized (tx) {
      markDecided(tx, decision, abortReason, decidedBy, at);
    }
    announce(tx);
  }

  /** The bookkeeping of a decision. Caller holds the tx monitor. */
  private static void markDecided(
      Tx tx, Decision decision, String abortReason, String decidedBy, long at) {
    tx.decision = decision;
    tx.decidedAt = at;
    tx.decidedBy = decidedBy;
    tx.abortReason = decision == Decision.ABORT ? abortReason : null;
    tx.moveTo(decision == Decision.COMMIT ? TxState.COMMITTING : TxState.ABORTING);
    for (Branch b : tx.branches.values()) {
      if (b.acknowledgedAt != null) {
        continue; // recovery: this branch already acknowledged phase 2
      }
      if (decision == Decision.COMMIT && b.vote == Vote.YES) {
        b.moveTo(BranchState.COMMITTING);
      } else if (decision == Decision.ABORT && b.vote != Vote.NO && b.vote != Vote.READ_ONLY) {
        b.moveTo(BranchState.ROLLING_BACK);
      }
    }
    if (tx.timeout != null) {
      tx.timeout.cancel(false);
    }
  }

  /** Tells the client and starts phase 2. */
  private void announce(Tx tx) {
    TxResult result;
    synchronized (tx) {
      result =
          tx.decision == Decision.COMMIT
              ? new TxResult(tx.id, Outcome.OUTCOME_COMMITTED, "")
              : new TxResult(tx.id, Outcome.OUTCOME_ABORTED, nullToEmpty(tx.abortReason));
    }
    tx.decided.complete(result);
    phaseTwo.start(tx);
  }

  /**
   * Decides ABORT if nothing is decided yet. Not forced (presumed abort): rollbacks go out at once,
   * and a crash before the record is written still reads as ABORTED.
   */
  boolean abort(Tx tx, String reason, String decidedBy) {
    return abort(tx, reason, decidedBy, false);
  }

  /**
   * A one-phase commit that was never sent (its forced record failed, or its participant is
   * unknown): nothing can have been applied, so an ordinary abort is safe.
   */
  private void abortUnsent(Tx tx, String reason) {
    synchronized (tx) {
      tx.onePhase = false;
    }
    abort(tx, reason, "protocol", true);
  }

  /**
   * @param unsent whether a one-phase commit may be aborted: only if its call was never sent
   */
  private boolean abort(Tx tx, String reason, String decidedBy, boolean unsent) {
    Decided record;
    long now = clock.millis();
    synchronized (tx) {
      if (tx.decision != null
          || tx.state() == TxState.DECIDING
          || (tx.state() == TxState.ONE_PHASE && !unsent)) {
        return false;
      }
      // Every abort reason passes here: a participant's, a status, a client's, an operator's.
      reason = Limits.text(reason, Limits.REASON);
      decidedBy = Limits.text(decidedBy, Limits.DECIDED_BY);
      markDecided(tx, Decision.ABORT, reason, decidedBy, now);
      record =
          new Decided(
              tx.id,
              Decision.ABORT,
              TxState.ABORTING,
              now,
              decidedBy,
              reason,
              tx.branchRows(),
              tx.begunRecord(),
              tx.begunAppended);
    }
    log.info("event=aborted tx={} by={} reason=\"{}\"", tx.id, decidedBy, reason);
    // Appended before phase 2 starts, so the log never sees the end before the decision.
    decisionLog.append(record);
    announce(tx);
    return true;
  }

  /**
   * Single branch, not keyed: one-phase commit. The transaction is first logged, forced, in state
   * ONE_PHASE: once the call is sent only the participant knows the outcome, and a coordinator that
   * restarts before the answer must ask it ({@link #resumeOnePhase}) rather than presume abort.
   */
  private void onePhase(Tx tx, Branch b) {
    boolean logged;
    synchronized (tx) {
      logged = tx.begunAppended;
      tx.begunAppended = true;
    }
    if (!logged) {
      decisionLog
          .append(tx.begunRecord())
          .whenComplete(
              (r, e) -> {
                if (e != null) {
                  // the store's message stays in the coordinator's log, off the wire
                  abortUnsent(tx, "the decision log is unavailable");
                } else {
                  sendOnePhase(tx, b);
                }
              });
      return;
    }
    sendOnePhase(tx, b);
  }

  private void sendOnePhase(Tx tx, Branch b) {
    Optional<ManagedChannel> channel = directory.channel(b.participant);
    if (channel.isEmpty()) {
      String why = "participant " + b.participant + " is not registered";
      boolean sent;
      synchronized (tx) {
        sent = b.attempts > 0;
      }
      if (sent) {
        retryOnePhase(tx, b, why, () -> sendOnePhase(tx, b)); // it may have applied an earlier one
      } else {
        abortUnsent(tx, why);
      }
      return;
    }
    long left = Math.max(1, tx.deadlineAt - clock.millis());
    long timeout = Math.min(config.prepareTimeout().toMillis(), left);
    CommitBranchRequest req =
        CommitBranchRequest.newBuilder()
            .setTxId(tx.id)
            .setParticipant(b.participant)
            .setOnePhase(true)
            .setPayload(ByteString.copyFrom(b.payload))
            .setTimeout(
                com.google.protobuf.Duration.newBuilder()
                    .setSeconds(timeout / 1000)
                    .setNanos((int) (timeout % 1000) * 1_000_000))
            .build();
    synchronized (tx) {
      b.attempts++;
      b.lastAttemptAt = clock.millis();
    }
    Span span = tracing.start("twopc.one_phase_commit", tx.trace, tx.id, b.participant);
    Context.ROOT.run(
        () ->
            tracing.runIn(
                tx.trace,
                span,
                () ->
                    ParticipantGrpc.newStub(channel.get())
                        .withDeadlineAfter(timeout, TimeUnit.MILLISECONDS)
                        .commit(
                            req,
                            new StreamObserver<>() {
                              @Override
                              public void onNext(CommitBranchResponse r) {
                                span.setAttribute("twopc.outcome", r.getOutcome().name());
                                span.end();
                                directory.seen(b.participant);
                                onePhaseAnswered(tx, b, r);
                              }

                              @Override
                              public void onError(Throwable t) {
                                Status s = Status.fromThrowable(t);
                                String why =
                                    Limits.text(
                                        s.getCode()
                                            + (s.getDescription() == null
                                                ? ""
                                                : " " + s.getDescription()),
                                        Limits.LAST_ERROR);
                                Tracing.end(span, why);
                                directory.failed(b.participant, why);
                                onePhaseFailed(tx, b, why);
                              }

                              @Override
                              public void onCompleted() {}
                            })));
  }

  private void onePhaseAnswered(Tx tx, Branch b, CommitBranchResponse r) {
    boolean committed = r.getOutcome() == Outcome.OUTCOME_COMMITTED;
    long now = clock.millis();
    Decided record;
    synchronized (tx) {
      if (tx.decision != null) {
        return;
      }
      tx.decision = committed ? Decision.COMMIT : Decision.ABORT;
      tx.decidedAt = now;
      tx.decidedBy = "one-phase";
      tx.abortReason =
          committed
              ? null
              : Limits.text(
                  "participant " + b.participant + " refused: " + r.getReason(), Limits.REASON);
      b.vote = committed ? Vote.YES : Vote.NO;
      b.voteReason = committed ? null : Limits.text(r.getReason(), Limits.REASON);
      b.votedAt = now;
      b.moveTo(committed ? BranchState.COMMITTED : BranchState.REFUSED);
      b.acknowledgedAt = now;
      b.lastError = null;
      tx.moveTo(committed ? TxState.COMMITTED : TxState.ABORTED);
      if (tx.timeout != null) {
        tx.timeout.cancel(false);
      }
      record =
          new Decided(
              tx.id,
              tx.decision,
              tx.state(),
              now,
              "one-phase",
              tx.abortReason,
              tx.branchRows(),
              tx.begunRecord(),
              tx.begunAppended);
    }
    decisionLog.append(record);
    TxResult result =
        committed
            ? new TxResult(tx.id, Outcome.OUTCOME_COMMITTED, "")
            : new TxResult(tx.id, Outcome.OUTCOME_ABORTED, tx.abortReason);
    tx.decided.complete(result);
    finish(tx);
  }

  /**
   * The one-phase call may or may not have been applied. The client hears UNKNOWN; the call is
   * repeated (participants answer a repeated one-phase commit with its first outcome) until the
   * participant gives a definite answer, which the transaction then records.
   */
  private void onePhaseFailed(Tx tx, Branch b, String why) {
    tx.decided.complete(
        new TxResult(
            tx.id,
            Outcome.OUTCOME_UNKNOWN,
            "one-phase commit at " + b.participant + " did not answer: " + why));
    retryOnePhase(tx, b, why, () -> sendOnePhase(tx, b));
  }

  /**
   * Repeats a one-phase call (or, after a restart, the question) with backoff until the participant
   * answers; the participant holds the outcome, so stopping loses nothing that the next start does
   * not ask again.
   */
  private void retryOnePhase(Tx tx, Branch b, String why, Runnable call) {
    long delay;
    synchronized (tx) {
      b.lastError = Limits.text(why, Limits.LAST_ERROR);
      delay = backoff.delayMillis(Math.max(1, b.attempts));
      b.nextAttemptAt = clock.millis() + delay;
    }
    if (closing) {
      return;
    }
    try {
      scheduler.schedule(call, delay, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException stopping) {
      // see above
    }
  }

  /** Every branch acknowledged: record the end and forget the transaction. */
  private void finish(Tx tx) {
    TxResult result;
    List<BranchUpdated> acks;
    synchronized (tx) {
      if (tx.finishedAt != null) {
        return;
      }
      tx.finishedAt = clock.millis();
      acks = tx.takeUnloggedAcks();
      boolean committed = tx.decision == Decision.COMMIT;
      tx.moveTo(committed ? TxState.COMMITTED : TxState.ABORTED);
      result =
          committed
              ? new TxResult(tx.id, Outcome.OUTCOME_COMMITTED, "")
              : new TxResult(tx.id, Outcome.OUTCOME_ABORTED, nullToEmpty(tx.abortReason));
    }
    CompletableFuture<Object> written =
        tx.onePhase
            ? CompletableFuture.completedFuture(null)
            : decisionLog.append(new Finished(tx.id, tx.state(), tx.finishedAt, acks));
    tx.decided.complete(result);
    tx.finished.complete(result);
    // Answered from memory until the end is in the log, so that a reader who heard the outcome
    // never reads an older state back (the end record is lazy and may still be queued).
    written.whenComplete(
        (r, e) -> {
          live.remove(tx.id, tx);
          if (tx.idempotencyKey != null) {
            byKey.remove(tx.idempotencyKey, tx);
          }
        });
  }

  // ---------------------------------------------------------------- rollback and outcomes

  public TxResult rollback(String txId, String reason) {
    Tx tx = live.get(txId);
    if (tx == null) {
      try {
        TxResult r = loggedResult(txId);
        if (r.outcome() == Outcome.OUTCOME_COMMITTED) {
          throw precondition("transaction " + txId + " is committed");
        }
        return new TxResult(txId, Outcome.OUTCOME_ABORTED, r.reason());
      } catch (LogStoreException e) {
        throw CoordinatorException.unavailable("decision log unavailable", e);
      }
    }
    String why = reason == null || reason.isEmpty() ? "rolled back by the client" : reason;
    if (!abort(tx, why, "client")) {
      synchronized (tx) {
        if (tx.decision != Decision.ABORT) {
          throw precondition(
              "transaction " + txId + " is " + tx.state() + "; it can no longer be rolled back");
        }
      }
    }
    return new TxResult(txId, Outcome.OUTCOME_ABORTED, nullToEmpty(tx.abortReason));
  }

  /**
   * What a participant in doubt is told. Presumed abort: no record means ABORTED — but a
   * transaction this process still runs is answered from memory, so a COMMIT being decided is never
   * answered ABORTED.
   */
  public Outcome outcome(String txId, String participant) {
    if (participant != null && !participant.isEmpty()) {
      directory.seen(participant);
    }
    Tx tx = live.get(txId);
    if (tx != null) {
      synchronized (tx) {
        if (tx.decision == Decision.COMMIT) {
          return Outcome.OUTCOME_COMMITTED;
        }
        if (tx.decision == Decision.ABORT) {
          return Outcome.OUTCOME_ABORTED;
        }
        return Outcome.OUTCOME_IN_PROGRESS;
      }
    }
    try {
      return reader.decisionOf(txId).orElse(null) == Decision.COMMIT
          ? Outcome.OUTCOME_COMMITTED
          : Outcome.OUTCOME_ABORTED;
    } catch (LogStoreException e) {
      throw CoordinatorException.unavailable("decision log unavailable", e);
    }
  }

  /** The live transaction's state, if this process is running it. */
  public Optional<LiveView> live(String txId) {
    Tx tx = live.get(txId);
    return tx == null
        ? Optional.empty()
        : Optional.of(new LiveView(tx.snapshot(), tx.nextAttempts()));
  }

  // ---------------------------------------------------------------- recovery and operators

  /** Recovery: take over a decided, unfinished transaction and finish its phase 2. */
  public void resume(StoredTransaction stored) {
    Tx tx = Tx.restored(stored);
    synchronized (tx) {
      markDecided(tx, tx.decision, tx.abortReason, tx.decidedBy, tx.decidedAt);
    }
    live.put(tx.id, tx);
    if (tx.idempotencyKey != null) {
      byKey.put(tx.idempotencyKey, tx);
    }
    announce(tx);
  }

  /**
   * Recovery of a one-phase commit sent before the coordinator stopped, with no answer logged. The
   * participant holds the outcome; a Rollback with {@code one_phase_outcome} asks for it: a
   * participant that committed answers COMMITTED, and otherwise it rolls back, or, if the one-phase
   * call never arrived, remembers the id so that the call is refused if it arrives late, and
   * answers ABORTED.
   */
  public void resumeOnePhase(StoredTransaction stored) {
    Tx tx = Tx.restored(stored);
    Branch b;
    synchronized (tx) {
      tx.onePhase = true;
      tx.begunAppended = true;
      b = tx.branches.values().iterator().next();
    }
    live.put(tx.id, tx);
    askOnePhase(tx, b);
  }

  private void askOnePhase(Tx tx, Branch b) {
    Optional<ManagedChannel> channel = directory.channel(b.participant);
    if (channel.isEmpty()) {
      retryOnePhase(
          tx, b, "participant " + b.participant + " is not registered", () -> askOnePhase(tx, b));
      return;
    }
    synchronized (tx) {
      b.attempts++;
      b.lastAttemptAt = clock.millis();
    }
    RollbackBranchRequest req =
        RollbackBranchRequest.newBuilder()
            .setTxId(tx.id)
            .setParticipant(b.participant)
            .setOnePhaseOutcome(true)
            .build();
    Context.ROOT.run(
        () ->
            ParticipantGrpc.newStub(channel.get())
                .withDeadlineAfter(config.phase2CallTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .rollback(
                    req,
                    new StreamObserver<>() {
                      @Override
                      public void onNext(RollbackBranchResponse r) {
                        directory.seen(b.participant);
                        onePhaseAnswered(
                            tx,
                            b,
                            r.getOutcome() == Outcome.OUTCOME_COMMITTED
                                ? CommitBranchResponse.newBuilder()
                                    .setOutcome(Outcome.OUTCOME_COMMITTED)
                                    .build()
                                : CommitBranchResponse.newBuilder()
                                    .setOutcome(Outcome.OUTCOME_ABORTED)
                                    .setReason("rolled back after the coordinator restarted")
                                    .build());
                      }

                      @Override
                      public void onError(Throwable t) {
                        Status s = Status.fromThrowable(t);
                        String why =
                            Limits.text(
                                s.getCode()
                                    + (s.getDescription() == null ? "" : " " + s.getDescription()),
                                Limits.LAST_ERROR);
                        directory.failed(b.participant, why);
                        retryOnePhase(tx, b, why, () -> askOnePhase(tx, b));
                      }

                      @Override
                      public void onCompleted() {}
                    }));
  }

  /** Operator: retry phase 2 now. */
  public String retryNow(String txId) {
    Tx tx = live.get(txId);
    if (tx == null) {
      throw notLive(txId);
    }
    String stuck;
    synchronized (tx) {
      if (tx.decision != null) {
        stuck = null;
      } else {
        // Undecided: nothing to hurry unless nothing drives it (then the liveness repair).
        stuck = stuckReason(tx, clock.millis(), 0);
        if (stuck == null) {
          return "undecided ("
              + tx.state()
              + "): waiting for "
              + (tx.state() == TxState.ACTIVE
                  ? "its client's Commit or its deadline"
                  : "votes, its decision or its deadline")
              + "; nothing to retry";
        }
      }
    }
    if (stuck != null) {
      unstick(txId);
      return "undecided and stuck (" + stuck + "): moved on";
    }
    phaseTwo.retryNow(tx);
    return "retry phase 2 now";
  }

  /** Operator: decide ABORT for a live undecided transaction. False if already decided. */
  public boolean operatorAbort(String txId, String reason) {
    Tx tx = live.get(txId);
    return tx != null && abort(tx, reason, "operator");
  }

  /**
   * Operator: decide COMMIT for a live transaction whose decision write failed; allowed only if
   * every branch voted YES or READ_ONLY. Answers the decision now in the log.
   */
  public CompletableFuture<TxResult> operatorCommit(String txId) {
    Tx tx = live.get(txId);
    if (tx == null) {
      throw notLive(txId);
    }
    synchronized (tx) {
      for (Branch b : tx.branches.values()) {
        if (b.vote != Vote.YES && b.vote != Vote.READ_ONLY) {
          throw precondition(
              "branch "
                  + b.participant
                  + " has not voted YES"
                  + (b.vote == null ? " (no vote)" : " (voted " + b.vote + ")")
                  + "; committing would break atomicity");
        }
      }
      if (tx.decision != null) {
        return tx.decided;
      }
      tx.moveTo(TxState.DECIDING);
      tx.decisionAttemptAt = clock.millis();
    }
    CompletableFuture<TxResult> result = new CompletableFuture<>();
    long now = clock.millis();
    Decided record = decisionRecord(tx, Decision.COMMIT, null, "operator", now);
    decisionLog
        .append(record)
        .whenComplete(
            (r, e) -> {
              if (e != null) {
                result.completeExceptionally(
                    CoordinatorException.unavailable(
                        "decision log unavailable: " + e.getMessage(), e));
                return;
              }
              Decision d = ((DecisionResult) r).decision();
              String why = d == Decision.ABORT ? "aborted before the operator's commit" : null;
              applyDecision(tx, d, why, "operator", now);
              // not tx.decided: after a failed write the client was already told UNKNOWN
              result.complete(
                  d == Decision.COMMIT
                      ? new TxResult(tx.id, Outcome.OUTCOME_COMMITTED, "")
                      : new TxResult(tx.id, Outcome.OUTCOME_ABORTED, why));
            });
    return result;
  }

  // ---------------------------------------------------------------- liveness

  /**
   * A live transaction that nothing is moving on: no call in flight and nothing scheduled. {@code
   * progress} changes whenever anything is attempted (calls, decision writes).
   */
  public record Stuck(String txId, TxState state, String detail, long progress) {}

  /**
   * The liveness invariant, checked: every transaction that is not final has a call in flight or a
   * next attempt scheduled. Returns the live ones that have had neither for longer than {@code
   * graceMillis} past when their next step was due.
   */
  public List<Stuck> stuck(long graceMillis) {
    long now = clock.millis();
    List<Stuck> out = new ArrayList<>();
    for (Tx tx : live.values()) {
      synchronized (tx) {
        String why = stuckReason(tx, now, graceMillis);
        if (why != null) {
          long progress = tx.decisionAttemptAt;
          for (Branch b : tx.branches.values()) {
            progress = progress * 31 + b.attempts;
          }
          out.add(new Stuck(tx.id, tx.state(), why, progress));
        }
      }
    }
    return out;
  }

  /** Caller holds the tx monitor. */
  private String stuckReason(Tx tx, long now, long grace) {
    if (tx.finishedAt != null) {
      return null; // its end record is being written; then it leaves
    }
    long callTimeout = config.phase2CallTimeout().toMillis();
    long prepareTimeout = config.prepareTimeout().toMillis();
    switch (tx.state()) {
      case ONE_PHASE -> {
        {
          Branch b = tx.branches.values().iterator().next();
          long last = b.lastAttemptAt == null ? tx.createdAt : b.lastAttemptAt;
          long due =
              Math.max(
                  last + Math.max(prepareTimeout, callTimeout),
                  b.nextAttemptAt == null ? 0 : b.nextAttemptAt);
          return now > due + grace
              ? "one-phase commit at " + b.participant + " with no call in flight or scheduled"
              : null;
        }
      }
      case ACTIVE, PREPARING -> {
        // the timeout aborts it at the deadline; prepares end within the prepare timeout
        return now > tx.deadlineAt + prepareTimeout + grace
            ? "not decided " + (now - tx.deadlineAt) + " ms past its deadline"
            : null;
      }
      case DECIDING -> {
        long due = tx.decisionAttemptAt + config.phase2BackoffCap().toMillis() + callTimeout;
        return now > due + grace ? "decision write neither in flight nor scheduled" : null;
      }
      case COMMITTING, ABORTING -> {
        boolean waiting = false;
        for (Branch b : tx.branches.values()) {
          if (!b.awaitingPhase2()) {
            continue;
          }
          waiting = true;
          long due;
          if (b.inFlight) {
            due = (b.lastAttemptAt == null ? now : b.lastAttemptAt) + callTimeout;
          } else if (b.retry != null && !b.retry.isDone()) {
            continue;
          } else {
            due =
                b.nextAttemptAt != null
                    ? b.nextAttemptAt
                    : tx.decidedAt != null ? tx.decidedAt : tx.createdAt;
          }
          if (now > due + grace) {
            return "branch "
                + b.participant
                + " "
                + b.state()
                + " with no call in flight or"
                + " scheduled (attempts "
                + b.attempts
                + ", due "
                + (now - due)
                + " ms ago)";
          }
        }
        if (!waiting) {
          long since = tx.decidedAt == null ? tx.createdAt : tx.decidedAt;
          for (Branch b : tx.branches.values()) {
            if (b.acknowledgedAt != null) {
              since = Math.max(since, b.acknowledgedAt);
            }
          }
          return now > since + callTimeout + grace
              ? "every branch acknowledged, not finished"
              : null;
        }
        return null;
      }
      default -> {
        return null;
      }
    }
  }

  /**
   * Moves a stuck transaction on (the liveness check's repair): an undecided one past its deadline
   * is aborted; a decision write that was lost is retried as ABORT, insert-if-absent, so a COMMIT
   * that landed stays COMMIT; a one-phase commit's outcome is asked again; phase 2 is sent again to
   * every waiting branch; a transaction that only lacks its end is finished.
   */
  public void unstick(String txId) {
    Tx tx = live.get(txId);
    if (tx == null) {
      return;
    }
    TxState state;
    boolean waiting = false;
    synchronized (tx) {
      state = tx.state();
      for (Branch b : tx.branches.values()) {
        if (b.awaitingPhase2()) {
          waiting = true;
          b.inFlight = false; // a call that never called back
          if (b.retry != null) {
            b.retry.cancel(false);
            b.retry = null;
          }
        }
      }
    }
    switch (state) {
      case ONE_PHASE -> askOnePhase(tx, tx.branches.values().iterator().next());
      case ACTIVE, PREPARING ->
          abort(tx, "not decided past its deadline (liveness check)", "liveness-check");
      case DECIDING ->
          writeDecision(
              tx, Decision.ABORT, "the decision write was lost (liveness check)", "liveness-check");
      case COMMITTING, ABORTING -> {
        if (waiting) {
          phaseTwo.retryNow(tx);
        } else {
          finish(tx);
        }
      }
      default -> {}
    }
  }

  /** The live transaction (tests of the liveness check, in this package). */
  Tx liveTx(String txId) {
    return live.get(txId);
  }

  /** Drops a transaction from memory only, as a lost one would be (tests, in this package). */
  void forget(String txId) {
    Tx tx = live.remove(txId);
    if (tx != null && tx.idempotencyKey != null) {
      byKey.remove(tx.idempotencyKey, tx);
    }
  }

  private void requireRegistered(String participant) {
    if (!directory.isRegistered(participant)) {
      throw notFound("unknown participant '" + participant + "': it has not registered");
    }
  }

  private CoordinatorException notLive(String txId) {
    try {
      Optional<StoredTransaction> s = reader.find(txId);
      if (s.isEmpty()) {
        return notFound("unknown transaction " + txId);
      }
      return precondition("transaction " + txId + " is " + s.get().state());
    } catch (LogStoreException e) {
      return CoordinatorException.unavailable("decision log unavailable", e);
    }
  }

  static String digest(byte[] payload) {
    if (payload == null) {
      return null;
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  /**
   * Graceful stop: refuse new transactions, then wait (up to the grace period) until every
   * transaction being prepared or decided has its decision.
   */
  @Override
  public void close() {
    closing = true;
    long until = System.nanoTime() + config.shutdownGrace().toNanos();
    for (Tx tx : live.values()) {
      boolean deciding;
      synchronized (tx) {
        deciding =
            tx.state() == TxState.PREPARING
                || tx.state() == TxState.DECIDING
                || tx.state() == TxState.ONE_PHASE;
      }
      if (deciding) {
        long left = until - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          tx.decided.get(left, TimeUnit.NANOSECONDS);
        } catch (Exception timedOutOrFailed) {
          // recovery finishes it at the next start
        }
      }
    }
  }
}
