package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * One live transaction. Nothing is shared between transactions: each has its own branches, votes
 * and futures, guarded by its own monitor. Callbacks hold the monitor only to change fields; RPCs
 * and log appends are issued outside it or are non-blocking.
 */
final class Tx {
  final String id;
  final long createdAt;
  final long deadlineAt;

  /** The deadline on the engine's {@link Ticker}: what timeouts are measured against. */
  final long deadlineNanos;

  final String idempotencyKey;
  final Map<String, String> labels;

  /** Begun through Begin (branches enlist) rather than Execute. */
  final boolean interactive;

  final Map<String, Branch> branches = new LinkedHashMap<>();

  private TxState state = TxState.ACTIVE;

  /** COMMIT only once durable; ABORT as soon as decided (presumed abort). */
  Decision decision;

  Long decidedAt;
  String decidedBy;
  String abortReason;
  Long finishedAt;
  boolean onePhase;

  /** Its begin record was appended: Begin and keyed Execute; an unkeyed Execute skips it. */
  boolean begunAppended;

  ScheduledFuture<?> timeout;

  /** System.nanoTime() when Commit or Execute began preparing; 0 before (decision latency). */
  long commitNanos;

  /** The trace this transaction's spans belong to (the root context when tracing is off). */
  io.opentelemetry.context.Context trace = io.opentelemetry.context.Context.root();

  /**
   * This node stopped driving it (its lease lapsed; the transaction is claimed from the log): no
   * further calls to its participants. Guarded by the monitor.
   */
  boolean abandoned;

  /** When the last decision write was issued (the liveness check's clock for DECIDING). */
  long decisionAttemptAt;

  /** Completes when the outcome is known (or UNKNOWN to the client). */
  final CompletableFuture<TxResult> decided = new CompletableFuture<>();

  /** Completes when every branch acknowledged phase 2. */
  final CompletableFuture<TxResult> finished = new CompletableFuture<>();

  Tx(
      String id,
      long createdAt,
      long deadlineAt,
      long deadlineNanos,
      String idempotencyKey,
      Map<String, String> labels,
      boolean interactive) {
    this.id = id;
    this.createdAt = createdAt;
    this.deadlineAt = deadlineAt;
    this.deadlineNanos = deadlineNanos;
    this.idempotencyKey = idempotencyKey;
    this.labels = labels;
    this.interactive = interactive;
  }

  TxState state() {
    return state;
  }

  /**
   * Moves this transaction to {@code next}, which must be a legal transition ({@link
   * TxState#canMoveTo}); staying put is legal. Caller holds the monitor.
   *
   * @throws IllegalStateException for an illegal transition: a bug, never a caller's doing
   */
  void moveTo(TxState next) {
    if (!state.canMoveTo(next)) {
      throw new IllegalStateException(
          "transaction " + id + " cannot move from " + state + " to " + next);
    }
    state = next;
  }

  /**
   * A transaction as the log holds it, in the state it was logged in: recovery's starting point,
   * not a transition.
   */
  static Tx restored(StoredTransaction s, long deadlineNanos) {
    Tx tx =
        new Tx(
            s.txId(),
            s.createdAt(),
            s.deadlineAt(),
            deadlineNanos,
            s.idempotencyKey(),
            s.labels(),
            false);
    tx.state = s.state();
    tx.decision = s.decision();
    if (s.decision() != null) {
      // decided: it resumes phase 2 (a just-recovered undecided one is handed over with ABORT)
      tx.state = s.decision() == Decision.COMMIT ? TxState.COMMITTING : TxState.ABORTING;
    }
    tx.decidedAt = s.decidedAt();
    tx.decidedBy = s.decidedBy();
    tx.abortReason = s.abortReason();
    for (BranchRow row : s.branches()) {
      tx.branches.put(row.participant(), Branch.restored(row));
    }
    return tx;
  }

  /** Stops every call and timer of this transaction (see {@link #abandoned}). */
  synchronized void abandon() {
    abandoned = true;
    if (timeout != null) {
      timeout.cancel(false);
    }
    for (Branch b : branches.values()) {
      if (b.retry != null) {
        b.retry.cancel(false);
        b.retry = null;
      }
    }
  }

  synchronized List<BranchRow> branchRows() {
    List<BranchRow> rows = new ArrayList<>(branches.size());
    for (Branch b : branches.values()) {
      rows.add(b.row());
    }
    return rows;
  }

  /**
   * The acknowledgements not written yet, as records to write now; clears them. Caller holds the
   * monitor (it is re-entrant).
   */
  synchronized List<BranchUpdated> takeUnloggedAcks() {
    List<BranchUpdated> out = new ArrayList<>();
    for (Branch b : branches.values()) {
      if (b.ackUnlogged) {
        b.ackUnlogged = false;
        out.add(b.updateRecord(id));
      }
    }
    return out;
  }

  synchronized Begun begunRecord() {
    return new Begun(
        id,
        createdAt,
        deadlineAt,
        idempotencyKey,
        labels,
        branchRows(),
        onePhase ? TxState.ONE_PHASE : TxState.ACTIVE);
  }

  /** The transaction as the log would hold it, with in-memory progress. */
  synchronized StoredTransaction snapshot() {
    return new StoredTransaction(
        id,
        state == TxState.DECIDING ? TxState.PREPARING : state,
        createdAt,
        deadlineAt,
        decision,
        decidedAt,
        decidedBy,
        abortReason,
        finishedAt,
        idempotencyKey,
        labels,
        branchRows(),
        List.of());
  }

  synchronized Map<String, Long> nextAttempts() {
    Map<String, Long> next = new LinkedHashMap<>();
    for (Branch b : branches.values()) {
      if (b.nextAttemptAt != null && b.awaitingPhase2()) {
        next.put(b.participant, b.nextAttemptAt);
      }
    }
    return next;
  }
}
