package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogWriter;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import dev.twopc.coordinator.internal.transport.ParticipantTransport;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.telemetry.Tracing;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The coordinator's protocol, as the gRPC services and recovery see it. Each transaction is its own
 * {@link Tx}, moved through its states by the pieces wired here: the {@link Registry} admits it,
 * {@link PreparePhase} or {@link OnePhase} collects its votes, the {@link Decider} decides and
 * {@link PhaseTwo} carries the decision to the branches; {@link OperatorActions} and {@link
 * Liveness} act on it from outside. Participants are reached through a {@link
 * ParticipantTransport}, time through an injected scheduler and {@link Ticker}.
 */
public final class TransactionEngine implements AutoCloseable {

  /** What Begin answers. */
  public record Begun(String txId, long deadlineAt) {}

  /** A live transaction's snapshot plus when each waiting branch is retried next. */
  public record LiveView(StoredTransaction tx, Map<String, Long> nextAttempts) {}

  /**
   * A live transaction that nothing is moving on: no call in flight and nothing scheduled. {@code
   * progress} changes whenever anything is attempted (calls, decision writes).
   */
  public record Stuck(String txId, TxState state, String detail, long progress) {}

  private final CoordinatorConfig config;
  private final Clock clock;
  private final Ticker ticker;
  private final Registry registry;
  private final Requests requests;
  private final Decider decider;
  private final OnePhase onePhase;
  private final PhaseTwo phaseTwo;
  private final OperatorActions operator;
  private final Liveness liveness;
  private volatile boolean closing;

  /**
   * @param scheduler runs timeouts and retries; with {@code ticker} it is the engine's time (tests
   *     pass a fake of both)
   */
  public TransactionEngine(
      CoordinatorConfig config,
      LogWriter decisionLog,
      LogReader reader,
      ParticipantTransport transport,
      ScheduledExecutorService scheduler,
      Ticker ticker,
      CoordinatorMetrics metrics) {
    this.config = config;
    this.clock = config.clock();
    this.ticker = ticker;
    Tracing tracing = config.tracing();
    Backoff backoff = new Backoff(config.phase2BackoffBase(), config.phase2BackoffCap());
    long prepareTimeout = config.prepareTimeout().toMillis();
    long callTimeout = config.phase2CallTimeout().toMillis();
    this.registry = new Registry(reader, decisionLog, config.maxBranches());
    this.phaseTwo =
        new PhaseTwo(
            transport,
            decisionLog,
            registry,
            scheduler,
            clock,
            backoff,
            callTimeout,
            config.crashPoints(),
            metrics);
    this.decider =
        new Decider(
            decisionLog,
            phaseTwo,
            scheduler,
            clock,
            ticker,
            backoff,
            config.crashPoints(),
            tracing);
    this.onePhase =
        new OnePhase(
            decisionLog,
            transport,
            decider,
            phaseTwo,
            scheduler,
            clock,
            ticker,
            backoff,
            prepareTimeout,
            callTimeout,
            () -> closing);
    this.liveness =
        new Liveness(
            registry,
            decider,
            onePhase,
            phaseTwo,
            clock,
            prepareTimeout,
            callTimeout,
            config.phase2BackoffCap().toMillis(),
            config.parkAfter().toMillis());
    this.operator = new OperatorActions(registry, decider, phaseTwo, liveness, decisionLog, clock);
    PreparePhase prepare = new PreparePhase(transport, decider, clock, ticker, prepareTimeout);
    this.requests =
        new Requests(
            config,
            registry,
            decisionLog,
            transport,
            decider,
            prepare,
            onePhase,
            ticker,
            metrics,
            () -> closing);
  }

  // ---------------------------------------------------------------- what clients ask

  public Begun begin(Duration timeout, String idempotencyKey, Map<String, String> labels) {
    return requests.begin(timeout, idempotencyKey, labels);
  }

  /**
   * Adds {@code participant} to ACTIVE {@code txId}: a client handing it {@code payload}, or the
   * participant itself ({@code staged}: its work waits in its memory). Again for the same
   * participant: a no-op that may add {@code staged}; another non-empty payload is refused.
   */
  public long enlist(String txId, String participant, byte[] payload, boolean staged) {
    return requests.enlist(txId, participant, payload, staged);
  }

  /** Begin + enlist + commit. A retry with the same idempotency key answers the same tx. */
  public CompletableFuture<TxResult> execute(
      List<BranchSpec> branches,
      Duration timeout,
      String idempotencyKey,
      Map<String, String> labels,
      boolean waitForCompletion) {
    return requests.execute(branches, timeout, idempotencyKey, labels, waitForCompletion);
  }

  public CompletableFuture<TxResult> commit(String txId, boolean waitForCompletion) {
    return requests.commit(txId, waitForCompletion);
  }

  public TxResult rollback(String txId, String reason) {
    return requests.rollback(txId, reason);
  }

  /**
   * What a participant in doubt is told (safety rule 3): COMMITTED or ABORTED as decided,
   * IN_PROGRESS while this process may still decide COMMIT, and otherwise what the log holds after
   * an ABORT tombstone is written insert-if-absent.
   */
  public CompletableFuture<Outcome> outcome(String txId) {
    return requests.outcome(txId);
  }

  /** The id of the live transaction begun or executed with {@code key}, if any. */
  public Optional<String> liveTxIdForKey(String key) {
    return registry.liveTxIdForKey(key);
  }

  /** The live transactions as the metrics' gauges show them. */
  public CoordinatorMetrics.Live liveFigures() {
    return liveness.figures();
  }

  /** The live transaction's state, if this process is running it. */
  public Optional<LiveView> live(String txId) {
    Tx tx = registry.get(txId);
    return tx == null
        ? Optional.empty()
        : Optional.of(new LiveView(tx.snapshot(), tx.nextAttempts()));
  }

  // ---------------------------------------------------------------- recovery and operators

  /** Recovery: take over a decided, unfinished transaction and finish its phase 2. */
  public void resume(StoredTransaction stored) {
    Tx tx = restored(stored);
    registry.adopt(tx);
    decider.resume(tx);
  }

  /**
   * Recovery of a one-phase commit sent before the coordinator stopped, with no answer logged: the
   * participant holds the outcome, and is asked for it.
   */
  public void resumeOnePhase(StoredTransaction stored) {
    Tx tx = restored(stored);
    registry.adopt(tx);
    onePhase.resume(tx);
  }

  private Tx restored(StoredTransaction stored) {
    long left = TimeUnit.MILLISECONDS.toNanos(stored.deadlineAt() - clock.millis());
    return Tx.restored(stored, ticker.nanoTime() + left);
  }

  /** Operator: retry phase 2 now (or move an undecided stuck one on); says what it did. */
  public String retryNow(String txId) {
    return operator.retryNow(txId);
  }

  /** Operator: decide ABORT for a live undecided transaction. False if already decided. */
  public boolean operatorAbort(String txId, String reason) {
    return operator.operatorAbort(txId, reason);
  }

  /**
   * Operator: decide COMMIT for a live transaction whose decision write failed; allowed only if
   * every branch voted YES or READ_ONLY. Answers the decision now in the log.
   */
  public CompletableFuture<TxResult> operatorCommit(String txId) {
    return operator.operatorCommit(txId);
  }

  /**
   * The liveness invariant, checked: the live transactions that have had neither a call in flight
   * nor a next attempt for longer than {@code graceMillis} past when their next step was due.
   */
  public List<Stuck> stuck(long graceMillis) {
    return liveness.stuck(graceMillis);
  }

  /** Moves a stuck transaction on (the liveness check's repair). */
  public void unstick(String txId) {
    liveness.unstick(txId);
  }

  /**
   * This node's lease on a shared log lapsed: it drops every live transaction (whichever node
   * claims it drives it on); waiting callers hear UNKNOWN with {@code reason}. Returns how many.
   */
  public int abandonAll(String reason) {
    return registry.abandonAll(reason);
  }

  /** The live transaction (tests of the liveness check, in this package). */
  Tx liveTx(String txId) {
    return registry.get(txId);
  }

  /** Drops a transaction from memory only, as a lost one would be (tests, in this package). */
  void forget(String txId) {
    Tx tx = registry.get(txId);
    if (tx != null) {
      registry.remove(tx);
    }
  }

  /**
   * Graceful stop: refuse new transactions, then wait (up to the grace period) until every
   * transaction being prepared or decided has its decision.
   */
  @Override
  public void close() {
    closing = true;
    long until = ticker.nanoTime() + config.shutdownGrace().toNanos();
    for (Tx tx : registry.all()) {
      boolean deciding;
      synchronized (tx) {
        deciding = tx.state().undecided() && tx.state() != TxState.ACTIVE;
      }
      if (deciding) {
        long left = until - ticker.nanoTime();
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
