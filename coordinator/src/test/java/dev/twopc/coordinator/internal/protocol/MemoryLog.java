package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.internal.log.DecisionLog.DecisionResult;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogRecord;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogRecord.Enlisted;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.log.LogRecord.OperatorActed;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.LogWriter;
import dev.twopc.coordinator.internal.log.StoredParticipant;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The decision log in memory, for the engine's unit tests: applies records as a store does
 * (decisions insert-if-absent), answers the reader's queries, and lets the test hold writes back
 * ({@link #hold}, {@link #release}) or fail them ({@link #failNext}). Writes complete on the test's
 * thread.
 */
final class MemoryLog implements LogWriter, LogReader {
  private record Pending(LogRecord record, CompletableFuture<Object> done) {}

  private final Map<String, Row> txs = new LinkedHashMap<>();
  private final Map<String, String> keys = new HashMap<>();
  private final List<LogRecord> written = new ArrayList<>();
  private final Deque<Pending> held = new ArrayDeque<>();
  private boolean holding;
  private int failures;
  private boolean healthy = true;

  /** Records that reached the log, in order. */
  List<LogRecord> written() {
    return List.copyOf(written);
  }

  /** How many written records are of {@code type}. */
  long count(Class<? extends LogRecord> type) {
    return written.stream().filter(type::isInstance).count();
  }

  /** From now on writes wait until {@link #release}. */
  void hold() {
    holding = true;
  }

  /** Writes what waits, in order, and stops holding. */
  void release() {
    holding = false;
    while (!held.isEmpty()) {
      Pending p = held.poll();
      complete(p);
    }
  }

  /** The next {@code n} writes fail (and are not applied). */
  void failNext(int n) {
    failures = n;
  }

  void healthy(boolean now) {
    healthy = now;
  }

  /** Puts a transaction in the log as a previous run of the coordinator left it. */
  void seed(StoredTransaction t) {
    txs.put(t.txId(), new Row(t));
    if (t.idempotencyKey() != null) {
      keys.put(t.idempotencyKey(), t.txId());
    }
  }

  @Override
  public CompletableFuture<Void> append(LogRecord record) {
    return submit(record).thenApply(r -> null);
  }

  @Override
  public CompletableFuture<DecisionResult> decide(Decided decision) {
    return submit(decision).thenApply(DecisionResult.class::cast);
  }

  @Override
  public void queue(LogRecord record) {
    // as DecisionLog: a failed write is seen by the tests through healthy() and the log's state
    Object unused = submit(record);
  }

  @Override
  public boolean healthy() {
    return healthy;
  }

  private CompletableFuture<Object> submit(LogRecord record) {
    Pending p = new Pending(record, new CompletableFuture<>());
    if (holding) {
      held.add(p);
    } else {
      complete(p);
    }
    return p.done();
  }

  private void complete(Pending p) {
    if (failures > 0) {
      failures--;
      p.done()
          .completeExceptionally(new LogStoreException("scripted write failure", "08006", null));
      return;
    }
    written.add(p.record());
    p.done().complete(apply(p.record()));
  }

  /** A transaction as the log holds it, changed in place as records apply. */
  private static final class Row {
    final String txId;
    final long createdAt;
    final long deadlineAt;
    final String key;
    final Map<String, String> labels;
    TxState state;
    Decision decision;
    Long decidedAt;
    String decidedBy;
    String abortReason;
    Long finishedAt;
    final Map<String, BranchRow> branches = new LinkedHashMap<>();
    final List<OperatorActed> actions = new ArrayList<>();

    Row(Begun b, TxState state) {
      this.txId = b.txId();
      this.createdAt = b.createdAt();
      this.deadlineAt = b.deadlineAt();
      this.key = b.idempotencyKey();
      this.labels = b.labels();
      this.state = state;
    }

    Row(StoredTransaction t) {
      this.txId = t.txId();
      this.createdAt = t.createdAt();
      this.deadlineAt = t.deadlineAt();
      this.key = t.idempotencyKey();
      this.labels = t.labels();
      this.state = t.state();
      this.decision = t.decision();
      this.decidedAt = t.decidedAt();
      this.decidedBy = t.decidedBy();
      this.abortReason = t.abortReason();
      this.finishedAt = t.finishedAt();
      branches(t.branches());
      actions.addAll(t.actions());
    }

    void branches(List<BranchRow> rows) {
      rows.forEach(b -> branches.put(b.participant(), b));
    }

    void decide(Decided d) {
      state = d.state();
      decision = d.decision();
      decidedAt = d.decidedAt();
      decidedBy = d.decidedBy();
      abortReason = d.abortReason();
      finishedAt = d.state().isFinal() ? Long.valueOf(d.decidedAt()) : null;
      branches(d.branches());
    }

    void update(BranchUpdated u) {
      BranchRow b = branches.get(u.participant());
      if (b != null) {
        branches.put(
            u.participant(),
            new BranchRow(
                b.participant(),
                b.index(),
                b.payloadDigest(),
                b.vote(),
                b.voteReason(),
                u.state(),
                u.attempts(),
                u.lastError(),
                u.lastAttemptAt(),
                u.acknowledgedAt(),
                b.votedAt()));
      }
    }

    StoredTransaction stored() {
      return new StoredTransaction(
          txId,
          state,
          createdAt,
          deadlineAt,
          decision,
          decidedAt,
          decidedBy,
          abortReason,
          finishedAt,
          key,
          labels,
          List.copyOf(branches.values()),
          List.copyOf(actions));
    }
  }

  private Object apply(LogRecord r) {
    if (r instanceof Begun b) {
      insert(b, b.state()).branches(b.branches());
    } else if (r instanceof Enlisted e) {
      txs.get(e.txId()).branches(List.of(e.branch()));
    } else if (r instanceof Decided d) {
      Row t = txs.get(d.txId());
      if (t == null) {
        if (d.begun() == null) {
          throw new LogStoreException("no begin record to decide", null);
        }
        insert(d.begun(), d.state()).decide(d);
        return new DecisionResult(d.decision(), true);
      }
      if (t.decision != null) {
        return new DecisionResult(t.decision, false); // safety rule 2, as the stores do
      }
      t.decide(d);
      return new DecisionResult(d.decision(), true);
    } else if (r instanceof BranchUpdated u) {
      Row t = txs.get(u.txId());
      if (t != null) {
        t.update(u);
      }
    } else if (r instanceof Finished f) {
      Row t = txs.get(f.txId());
      if (t != null) {
        f.branches().forEach(t::update);
        t.state = f.state();
        t.finishedAt = f.finishedAt();
      }
    } else if (r instanceof OperatorActed a) {
      Row t = txs.get(a.txId());
      if (t != null) {
        t.actions.add(a);
      }
    }
    return null;
  }

  private Row insert(Begun b, TxState state) {
    Row row = txs.computeIfAbsent(b.txId(), id -> new Row(b, state));
    if (b.idempotencyKey() != null) {
      keys.put(b.idempotencyKey(), b.txId());
    }
    return row;
  }

  // ---------------------------------------------------------------- LogReader

  @Override
  public Optional<StoredTransaction> find(String txId) {
    Row t = txs.get(txId);
    return t == null ? Optional.empty() : Optional.of(t.stored());
  }

  @Override
  public Optional<Decision> decisionOf(String txId) {
    Row t = txs.get(txId);
    return t == null ? Optional.empty() : Optional.ofNullable(t.decision);
  }

  @Override
  public Optional<String> txIdForKey(String idempotencyKey) {
    return Optional.ofNullable(keys.get(idempotencyKey));
  }

  @Override
  public List<StoredTransaction> unfinished() {
    return txs.values().stream()
        .filter(t -> t.finishedAt == null)
        .map(Row::stored)
        .sorted(Comparator.comparingLong(StoredTransaction::createdAt))
        .toList();
  }

  @Override
  public long countFinished() {
    return txs.values().stream().filter(t -> t.finishedAt != null).count();
  }

  @Override
  public Page list(Filter filter) {
    return new Page(txs.values().stream().map(Row::stored).toList(), null);
  }

  @Override
  public List<StoredParticipant> participants() {
    return List.of();
  }

  @Override
  public Map<String, Integer> inDoubtBranchesByParticipant() {
    return Map.of();
  }
}
