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

  private final Map<String, StoredTransaction> txs = new LinkedHashMap<>();
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
    txs.put(t.txId(), t);
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

  private Object apply(LogRecord r) {
    if (r instanceof Begun b) {
      insert(b, null, b.branches());
      return null;
    }
    if (r instanceof Enlisted e) {
      StoredTransaction t = txs.get(e.txId());
      txs.put(t.txId(), with(t, t.state(), t.decision(), branches(t, List.of(e.branch()))));
      return null;
    }
    if (r instanceof Decided d) {
      StoredTransaction t = txs.get(d.txId());
      if (t == null) {
        if (d.begun() == null) {
          throw new LogStoreException("no begin record to decide", null);
        }
        insert(d.begun(), d, d.branches());
        return new DecisionResult(d.decision(), true);
      }
      if (t.decision() != null) {
        return new DecisionResult(t.decision(), false);
      }
      txs.put(
          t.txId(),
          new StoredTransaction(
              t.txId(),
              d.state(),
              t.createdAt(),
              t.deadlineAt(),
              d.decision(),
              d.decidedAt(),
              d.decidedBy(),
              d.abortReason(),
              d.state().isFinal() ? Long.valueOf(d.decidedAt()) : null,
              t.idempotencyKey(),
              t.labels(),
              branches(t, d.branches()),
              t.actions()));
      return new DecisionResult(d.decision(), true);
    }
    if (r instanceof BranchUpdated u) {
      StoredTransaction t = txs.get(u.txId());
      if (t != null) {
        txs.put(t.txId(), with(t, t.state(), t.decision(), updated(t.branches(), List.of(u))));
      }
      return null;
    }
    if (r instanceof Finished f) {
      StoredTransaction t = txs.get(f.txId());
      if (t != null) {
        StoredTransaction u = with(t, f.state(), t.decision(), updated(t.branches(), f.branches()));
        txs.put(
            t.txId(),
            new StoredTransaction(
                u.txId(),
                u.state(),
                u.createdAt(),
                u.deadlineAt(),
                u.decision(),
                u.decidedAt(),
                u.decidedBy(),
                u.abortReason(),
                f.finishedAt(),
                u.idempotencyKey(),
                u.labels(),
                u.branches(),
                u.actions()));
      }
      return null;
    }
    if (r instanceof OperatorActed a) {
      StoredTransaction t = txs.get(a.txId());
      if (t != null) {
        List<OperatorActed> actions = new ArrayList<>(t.actions());
        actions.add(a);
        txs.put(
            t.txId(),
            new StoredTransaction(
                t.txId(),
                t.state(),
                t.createdAt(),
                t.deadlineAt(),
                t.decision(),
                t.decidedAt(),
                t.decidedBy(),
                t.abortReason(),
                t.finishedAt(),
                t.idempotencyKey(),
                t.labels(),
                t.branches(),
                List.copyOf(actions)));
      }
      return null;
    }
    return null;
  }

  private void insert(Begun b, Decided d, List<BranchRow> rows) {
    if (txs.containsKey(b.txId())) {
      return;
    }
    if (b.idempotencyKey() != null) {
      keys.put(b.idempotencyKey(), b.txId());
    }
    txs.put(
        b.txId(),
        new StoredTransaction(
            b.txId(),
            d == null ? b.state() : d.state(),
            b.createdAt(),
            b.deadlineAt(),
            d == null ? null : d.decision(),
            d == null ? null : d.decidedAt(),
            d == null ? null : d.decidedBy(),
            d == null ? null : d.abortReason(),
            d != null && d.state().isFinal() ? Long.valueOf(d.decidedAt()) : null,
            b.idempotencyKey(),
            b.labels(),
            List.copyOf(rows),
            List.of()));
  }

  private static StoredTransaction with(
      StoredTransaction t, TxState state, Decision decision, List<BranchRow> branches) {
    return new StoredTransaction(
        t.txId(),
        state,
        t.createdAt(),
        t.deadlineAt(),
        decision,
        t.decidedAt(),
        t.decidedBy(),
        t.abortReason(),
        t.finishedAt(),
        t.idempotencyKey(),
        t.labels(),
        branches,
        t.actions());
  }

  private static List<BranchRow> branches(StoredTransaction t, List<BranchRow> rows) {
    Map<String, BranchRow> by = new LinkedHashMap<>();
    t.branches().forEach(b -> by.put(b.participant(), b));
    rows.forEach(b -> by.put(b.participant(), b));
    return List.copyOf(by.values());
  }

  private static List<BranchRow> updated(List<BranchRow> rows, List<BranchUpdated> updates) {
    List<BranchRow> out = new ArrayList<>();
    for (BranchRow b : rows) {
      BranchRow now = b;
      for (BranchUpdated u : updates) {
        if (u.participant().equals(b.participant())) {
          now =
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
                  b.votedAt());
        }
      }
      out.add(now);
    }
    return List.copyOf(out);
  }

  // ---------------------------------------------------------------- LogReader

  @Override
  public Optional<StoredTransaction> find(String txId) {
    return Optional.ofNullable(txs.get(txId));
  }

  @Override
  public Optional<Decision> decisionOf(String txId) {
    StoredTransaction t = txs.get(txId);
    return t == null ? Optional.empty() : Optional.ofNullable(t.decision());
  }

  @Override
  public Optional<String> txIdForKey(String idempotencyKey) {
    return Optional.ofNullable(keys.get(idempotencyKey));
  }

  @Override
  public List<StoredTransaction> unfinished() {
    return txs.values().stream()
        .filter(t -> t.finishedAt() == null)
        .sorted(Comparator.comparingLong(StoredTransaction::createdAt))
        .toList();
  }

  @Override
  public long countFinished() {
    return txs.values().stream().filter(StoredTransaction::finished).count();
  }

  @Override
  public Page list(Filter filter) {
    return new Page(List.copyOf(txs.values()), null);
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
