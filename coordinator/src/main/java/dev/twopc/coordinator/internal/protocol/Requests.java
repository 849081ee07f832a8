package dev.twopc.coordinator.internal.protocol;

import static dev.twopc.coordinator.internal.CoordinatorException.notFound;
import static dev.twopc.coordinator.internal.CoordinatorException.precondition;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.internal.CoordinatorException;
import dev.twopc.coordinator.internal.concurrent.Completions;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.LogWriter;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics.Path;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics.Result;
import dev.twopc.coordinator.internal.transport.ParticipantTransport;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.telemetry.Tracing;
import io.opentelemetry.api.trace.Span;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;

/**
 * What clients ask of a transaction: Begin, Enlist, Execute, Commit, Rollback, and GetOutcome from
 * a participant in doubt. Checks the request against the transaction's state, admits new
 * transactions through the {@link Registry}, and starts the commit on its path: no branch, one
 * phase, or prepare.
 */
final class Requests {
  private final CoordinatorConfig config;
  private final Registry registry;
  private final LogWriter decisionLog;
  private final ParticipantTransport transport;
  private final Decider decider;
  private final PreparePhase prepare;
  private final OnePhase onePhase;
  private final Clock clock;
  private final Ticker ticker;
  private final CoordinatorMetrics metrics;
  private final Tracing tracing;
  private final BooleanSupplier closing;

  Requests(
      CoordinatorConfig config,
      Registry registry,
      LogWriter decisionLog,
      ParticipantTransport transport,
      Decider decider,
      PreparePhase prepare,
      OnePhase onePhase,
      Ticker ticker,
      CoordinatorMetrics metrics,
      BooleanSupplier closing) {
    this.config = config;
    this.registry = registry;
    this.decisionLog = decisionLog;
    this.transport = transport;
    this.decider = decider;
    this.prepare = prepare;
    this.onePhase = onePhase;
    this.clock = config.clock();
    this.ticker = ticker;
    this.metrics = metrics;
    this.tracing = config.tracing();
    this.closing = closing;
  }

  TransactionEngine.Begun begin(
      Duration timeout, String idempotencyKey, Map<String, String> labels) {
    Tx tx = open(timeout, idempotencyKey, labels, true, List.of());
    return new TransactionEngine.Begun(tx.id, tx.deadlineAt);
  }

  /**
   * Adds {@code participant} to ACTIVE {@code txId}: a client handing it {@code payload}, or the
   * participant itself ({@code staged}: its work waits in its memory). Again for the same
   * participant: a no-op that may add {@code staged}; another non-empty payload is refused.
   */
  long enlist(String txId, String participant, byte[] payload, boolean staged) {
    requireRegistered(participant);
    return registry.enlist(txId, participant, payload, staged);
  }

  /** Begin + enlist + commit. A retry with the same idempotency key answers the same tx. */
  CompletableFuture<TxResult> execute(
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
          registry.resultForKey(idempotencyKey, branches, waitForCompletion);
      if (earlier.isPresent()) {
        return earlier.get();
      }
    }
    Tx tx = open(timeout, idempotencyKey, labels, false, branches);
    return commit(tx, waitForCompletion); // an earlier tx with the key: its same answer
  }

  private Tx open(
      Duration timeout,
      String key,
      Map<String, String> labels,
      boolean interactive,
      List<BranchSpec> branches) {
    if (closing.getAsBoolean()) {
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
            ticker.nanoTime() + t.toNanos(),
            key,
            labels == null ? Map.of() : Map.copyOf(labels),
            interactive);
    for (BranchSpec b : branches) {
      tx.branches.put(
          b.participant(),
          new Branch(
              b.participant(),
              tx.branches.size(),
              b.payload(),
              Registry.digest(b.payload()),
              false));
    }
    Tx admitted = registry.admit(tx, branches);
    if (admitted != tx) {
      return admitted; // the same request again
    }
    // Lazy: an undecided transaction that never reached the log is presumed aborted. An unkeyed
    // Execute skips the record altogether: its decision inserts the transaction, and until then
    // only the prepared participants know of it, and they ask (GetOutcome) if it is lost.
    if (interactive || key != null) {
      tx.begunAppended = true;
      decisionLog.queue(tx.begunRecord());
    }
    observe(
        tx,
        interactive
            ? Path.INTERACTIVE
            : branches.size() == 1 && key == null ? Path.ONE_PHASE : Path.EXECUTE);
    decider.scheduleTimeout(tx);
    return tx;
  }

  /** Counts the transaction and, when it is decided and finished, its outcome and times. */
  private void observe(Tx tx, Path path) {
    tx.trace = tracing.current();
    if (!metrics.enabled()) {
      return;
    }
    metrics.begun(path);
    Completions.whenDone(
        tx.decided,
        "decided metrics",
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
              started == 0 ? -1 : ticker.nanoTime() - started);
        });
    Completions.whenDone(
        tx.finished,
        "finished metrics",
        (r, e) -> {
          if (r != null) {
            metrics.finished(
                path, r.outcome() == Outcome.OUTCOME_COMMITTED, clock.millis() - tx.createdAt);
          }
        });
  }

  CompletableFuture<TxResult> commit(String txId, boolean waitForCompletion) {
    Tx tx = registry.get(txId);
    if (tx == null) {
      try {
        TxResult r = registry.loggedResult(txId);
        if (r.outcome() == Outcome.OUTCOME_ABORTED) {
          throw precondition("transaction " + txId + " is aborted: " + r.reason());
        }
        return CompletableFuture.completedFuture(r);
      } catch (LogStoreException e) {
        throw CoordinatorException.logUnavailable(e);
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
    boolean single;
    synchronized (tx) {
      if (tx.state() != TxState.ACTIVE) {
        return wait ? tx.finished : tx.decided; // a duplicate Commit: the same answer
      }
      // Single branch, not keyed, not interactive: the participant decides in one phase.
      single = tx.branches.size() == 1 && tx.idempotencyKey == null && !tx.interactive;
      tx.onePhase = single;
      tx.moveTo(single ? TxState.ONE_PHASE : TxState.PREPARING);
      tx.commitNanos = ticker.nanoTime();
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
      decider.decideCommit(tx);
    } else if (single) {
      onePhase.start(tx, branches.get(0));
    } else {
      prepare.start(tx, branches);
    }
    return wait ? tx.finished : tx.decided;
  }

  TxResult rollback(String txId, String reason) {
    Tx tx = registry.get(txId);
    String why = reason == null || reason.isEmpty() ? "rolled back by the client" : reason;
    if (tx == null) {
      return rollbackLogged(txId, why);
    }
    if (!decider.abort(tx, why, "client")) {
      synchronized (tx) {
        if (tx.decision != Decision.ABORT) {
          throw precondition(
              "transaction " + txId + " is " + tx.state() + "; it can no longer be rolled back");
        }
      }
    }
    return TxResult.aborted(txId, tx.abortReason);
  }

  /**
   * Rollback of a transaction this process does not run: one the log holds undecided (another node
   * on a shared log runs it) gets ABORT, insert-if-absent, as a tombstone does, so that its owner
   * finds ABORT when it decides; the answer is what the log then holds.
   */
  private TxResult rollbackLogged(String txId, String why) {
    try {
      Optional<StoredTransaction> stored = registry.logged(txId);
      if (stored.isEmpty()) {
        throw notFound("unknown transaction " + txId);
      }
      Decision d = stored.get().decision();
      if (d == null) {
        Decided abort =
            tombstone(txId, stored, stored.get().createdAt(), clock.millis(), "client", why);
        d = decisionLog.decide(abort).get().decision();
      }
      if (d == Decision.COMMIT) {
        throw precondition("transaction " + txId + " is committed");
      }
      return registry.loggedResult(txId);
    } catch (LogStoreException e) {
      throw CoordinatorException.logUnavailable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CoordinatorException.logUnavailable(e);
    } catch (ExecutionException e) {
      throw CoordinatorException.logUnavailable(e.getCause());
    }
  }

  /**
   * What a participant in doubt is told. Safety rule 3, presumed abort, made safe for several
   * coordinators on one log: a transaction this process runs is answered from memory (so a COMMIT
   * being decided is never answered ABORTED); one the log holds decided, with that decision; for
   * any other id this coordinator family could have issued, an ABORT tombstone is written first,
   * insert-if-absent, and the answer is what the log then holds. An owner still preparing it
   * elsewhere then finds ABORT when it writes its COMMIT, and applies that (spec/tla/
   * TwoPhaseShared.tla, mutant outcome_no_tombstone). Ids no coordinator issues, from the future or
   * older than the retention, are ABORTED without a write: they can no longer commit.
   */
  CompletableFuture<Outcome> outcome(String txId) {
    // Safety rule 3: presumed abort, but never ABORTED while this process may still decide COMMIT.
    Tx tx = registry.get(txId);
    if (tx != null) {
      synchronized (tx) {
        return CompletableFuture.completedFuture(
            tx.decision == Decision.COMMIT
                ? Outcome.OUTCOME_COMMITTED
                : tx.decision == Decision.ABORT
                    ? Outcome.OUTCOME_ABORTED
                    : Outcome.OUTCOME_IN_PROGRESS);
      }
    }
    Optional<StoredTransaction> stored;
    try {
      stored = registry.logged(txId);
    } catch (LogStoreException e) {
      throw CoordinatorException.logUnavailable(e);
    }
    if (stored.isPresent() && stored.get().decision() != null) {
      return CompletableFuture.completedFuture(answer(stored.get().decision()));
    }
    long now = clock.millis();
    OptionalLong issued = TxIds.createdAt(txId);
    if (issued.isEmpty()
        || issued.getAsLong() > now + CLOCK_SKEW_MILLIS
        || issued.getAsLong() < now - config.retention().toMillis()) {
      return CompletableFuture.completedFuture(Outcome.OUTCOME_ABORTED);
    }
    return decisionLog
        .decide(tombstone(txId, stored, issued.getAsLong(), now, "outcome", TOMBSTONE_REASON))
        .handle(
            (r, e) -> {
              if (e != null) {
                throw CoordinatorException.logUnavailable(e);
              }
              return answer(r.decision());
            });
  }

  private static final long CLOCK_SKEW_MILLIS = 60_000;
  static final String TOMBSTONE_REASON =
      "no decision when a participant asked for the outcome: ABORT written so that it can never"
          + " commit";

  /**
   * The ABORT written for an undecided id. A row already in the log (a transaction no node runs any
   * longer) stays ABORTING with its branches, so the liveness check resumes its rollbacks; an id
   * the log has no row for gets a finished ABORTED row, pruned after the retention like any.
   */
  private static Decided tombstone(
      String txId,
      Optional<StoredTransaction> stored,
      long issued,
      long now,
      String decidedBy,
      String reason) {
    boolean known = stored.isPresent();
    List<BranchRow> branches = known ? stored.get().branches() : List.of();
    Begun begun =
        new Begun(
            txId,
            known ? stored.get().createdAt() : issued,
            known ? stored.get().deadlineAt() : issued,
            known ? stored.get().idempotencyKey() : null,
            known ? stored.get().labels() : Map.of(),
            branches,
            TxState.ACTIVE);
    return new Decided(
        txId,
        Decision.ABORT,
        known && !branches.isEmpty() ? TxState.ABORTING : TxState.ABORTED,
        now,
        decidedBy,
        reason,
        branches,
        begun,
        true); // it may be in the log: look first, then decide insert-if-absent
  }

  private static Outcome answer(Decision d) {
    return d == Decision.COMMIT ? Outcome.OUTCOME_COMMITTED : Outcome.OUTCOME_ABORTED;
  }

  private void requireRegistered(String participant) {
    if (!transport.knows(participant)) {
      throw notFound("unknown participant '" + participant + "': it has not registered");
    }
  }
}
