package dev.twopc.coordinator.internal.log.rocks;

import static dev.twopc.coordinator.internal.log.rocks.Codec.CREATED;
import static dev.twopc.coordinator.internal.log.rocks.Codec.FINISHED;
import static dev.twopc.coordinator.internal.log.rocks.Codec.KEY;
import static dev.twopc.coordinator.internal.log.rocks.Codec.PARTICIPANT;
import static dev.twopc.coordinator.internal.log.rocks.Codec.TX;
import static dev.twopc.coordinator.internal.log.rocks.Codec.UNFINISHED;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.twopc.coordinator.internal.log.DecisionLog.DecisionResult;
import dev.twopc.coordinator.internal.log.LogRecord;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogRecord.Enlisted;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.log.LogRecord.OperatorActed;
import dev.twopc.coordinator.internal.log.LogRecord.Prune;
import dev.twopc.coordinator.internal.log.LogRecord.Registered;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.StoredNames;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.proto.internal.log.ActionValue;
import dev.twopc.proto.internal.log.BranchValue;
import dev.twopc.proto.internal.log.ParticipantValue;
import dev.twopc.proto.internal.log.TxValue;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * One group-commit batch being built: the records applied in order to an overlay of the
 * transactions they touch, then turned into one {@link WriteBatch} with the index entries that
 * follow from each transaction's state before and after. Only the log's writer thread uses it.
 */
final class Batch {
  private final RocksLogStore store;

  /** The transactions as they were before this batch (null: absent). */
  private final Map<String, TxValue> before = new HashMap<>();

  private final Map<String, TxValue.Builder> after = new LinkedHashMap<>();
  private final Map<String, ParticipantValue> participants = new LinkedHashMap<>();
  private final Map<String, String> newKeys = new HashMap<>();
  private final Set<String> pruned = new HashSet<>();
  private final List<TxValue> prunedValues = new java.util.ArrayList<>();
  private long finishedDelta;

  Batch(RocksLogStore store) {
    this.store = store;
  }

  long finishedDelta() {
    return finishedDelta;
  }

  /** The transaction as this batch sees it, or null. */
  private TxValue.Builder tx(String txId) throws RocksDBException {
    TxValue.Builder b = after.get(txId);
    if (b != null || pruned.contains(txId) || before.containsKey(txId)) {
      return b;
    }
    TxValue v = store.load(txId);
    before.put(txId, v);
    if (v == null) {
      return null;
    }
    b = v.toBuilder();
    after.put(txId, b);
    return b;
  }

  Object apply(LogRecord record) throws RocksDBException {
    if (record instanceof Begun b) {
      if (tx(b.txId()) == null) {
        insert(b, null, b.branches());
      }
    } else if (record instanceof Enlisted e) {
      TxValue.Builder t = tx(e.txId());
      if (t != null) {
        putBranch(t, e.branch());
      }
    } else if (record instanceof Decided d) {
      return decide(d);
    } else if (record instanceof BranchUpdated u) {
      TxValue.Builder t = tx(u.txId());
      if (t != null) {
        updateBranch(t, u);
      }
    } else if (record instanceof Finished f) {
      TxValue.Builder t = tx(f.txId());
      if (t != null) {
        for (BranchUpdated u : f.branches()) {
          updateBranch(t, u);
        }
        t.setState(f.state().name()).setFinishedAt(f.finishedAt());
      }
    } else if (record instanceof OperatorActed a) {
      TxValue.Builder t = tx(a.txId());
      if (t != null) {
        ActionValue.Builder av =
            ActionValue.newBuilder()
                .setAt(a.at())
                .setAction(a.action())
                .setOperator(a.operator())
                .setReason(a.reason())
                .setAccepted(a.accepted());
        if (a.refusal() != null) {
          av.setRefusal(a.refusal());
        }
        t.addActions(av);
      }
    } else if (record instanceof Registered r) {
      return register(r);
    } else if (record instanceof Prune p) {
      return prune(p);
    }
    return null;
  }

  private void insert(Begun b, Decided d, List<BranchRow> branches) {
    if (b.idempotencyKey() != null) {
      String owner = newKeys.get(b.idempotencyKey());
      if (owner == null) {
        try {
          byte[] v = store.get(Codec.key(KEY, b.idempotencyKey()));
          owner = v == null ? null : Codec.string(v);
        } catch (RocksDBException e) {
          throw store.failed("read", e);
        }
      }
      if (owner != null && !owner.equals(b.txId())) {
        throw new LogStoreException(
            "idempotency key " + b.idempotencyKey() + " already belongs to transaction " + owner,
            null);
      }
      newKeys.put(b.idempotencyKey(), b.txId());
    }
    TxValue.Builder t =
        TxValue.newBuilder()
            .setTxId(b.txId())
            .setCreatedAt(b.createdAt())
            .setDeadlineAt(b.deadlineAt())
            .setState((d == null ? b.state() : d.state()).name());
    if (b.idempotencyKey() != null) {
      t.setIdempotencyKey(b.idempotencyKey());
    }
    if (b.labels() != null) {
      t.putAllLabels(b.labels());
    }
    for (BranchRow r : branches) {
      t.addBranches(Codec.branch(r));
    }
    if (d != null) {
      setDecision(t, d);
    }
    before.put(b.txId(), null);
    after.put(b.txId(), t);
  }

  /** Insert-if-absent: the first decision written for a transaction is the one that stays. */
  // Safety rule 2: a transaction that has a decision keeps it; the writer is told which it is.
  private DecisionResult decide(Decided d) throws RocksDBException {
    TxValue.Builder t = tx(d.txId());
    if (t == null) {
      if (d.begun() == null) {
        throw new LogStoreException(
            "transaction " + d.txId() + " has no begin record to decide", null);
      }
      insert(d.begun(), d, d.branches());
      return new DecisionResult(d.decision(), true);
    }
    if (t.hasDecision()) {
      return new DecisionResult(StoredNames.parse(Decision.class, t.getDecision()), false);
    }
    setDecision(t, d);
    for (BranchRow r : d.branches()) {
      putBranch(t, r);
    }
    return new DecisionResult(d.decision(), true);
  }

  private static void setDecision(TxValue.Builder t, Decided d) {
    t.setDecision(d.decision().name()).setState(d.state().name()).setDecidedAt(d.decidedAt());
    if (d.decidedBy() != null) {
      t.setDecidedBy(d.decidedBy());
    }
    if (d.abortReason() != null) {
      t.setAbortReason(d.abortReason());
    } else {
      t.clearAbortReason();
    }
    if (d.state().isFinal()) {
      t.setFinishedAt(d.decidedAt());
    }
  }

  private static void putBranch(TxValue.Builder t, BranchRow r) {
    for (int i = 0; i < t.getBranchesCount(); i++) {
      if (t.getBranches(i).getParticipant().equals(r.participant())) {
        t.setBranches(i, Codec.branch(r));
        return;
      }
    }
    t.addBranches(Codec.branch(r));
  }

  private static void updateBranch(TxValue.Builder t, BranchUpdated u) {
    for (int i = 0; i < t.getBranchesCount(); i++) {
      BranchValue b = t.getBranches(i);
      if (b.getParticipant().equals(u.participant())) {
        BranchValue.Builder nb = b.toBuilder().setState(u.state().name()).setAttempts(u.attempts());
        if (u.lastError() != null) {
          nb.setLastError(u.lastError());
        } else {
          nb.clearLastError();
        }
        if (u.lastAttemptAt() != null) {
          nb.setLastAttemptAt(u.lastAttemptAt());
        } else {
          nb.clearLastAttemptAt();
        }
        if (u.acknowledgedAt() != null) {
          nb.setAckedAt(u.acknowledgedAt());
        } else {
          nb.clearAckedAt();
        }
        t.setBranches(i, nb);
        return;
      }
    }
  }

  private Boolean register(Registered r) throws RocksDBException {
    ParticipantValue old = participants.get(r.name());
    if (old == null) {
      byte[] v = store.get(Codec.key(PARTICIPANT, r.name()));
      if (v != null) {
        try {
          old = ParticipantValue.parseFrom(v);
        } catch (InvalidProtocolBufferException e) {
          old = null; // unreadable: replaced by this registration
        }
      }
    }
    participants.put(
        r.name(),
        ParticipantValue.newBuilder()
            .setName(r.name())
            .setAddress(r.address())
            .setRegisteredAt(old == null ? r.at() : old.getRegisteredAt())
            .setUpdatedAt(r.at())
            .build());
    return old != null;
  }

  /** Deletes one batch of transactions finished before {@code p.before()}, oldest first. */
  private Integer prune(Prune p) throws RocksDBException {
    int n = 0;
    try (RocksIterator it = store.iterator()) {
      for (it.seek(new byte[] {FINISHED});
          it.isValid()
              && it.key()[0] == FINISHED
              && Codec.timeOf(it.key()) < p.before()
              && n < p.batchSize();
          it.next()) {
        String id = Codec.txIdOf(it.key());
        if (after.containsKey(id) || pruned.contains(id)) {
          continue; // touched by this batch: kept for a later prune
        }
        TxValue v = store.load(id);
        pruned.add(id);
        if (v != null) {
          prunedValues.add(v);
        }
        n++;
      }
      it.status();
    }
    return n;
  }

  WriteBatch toWriteBatch() throws RocksDBException {
    WriteBatch wb = new WriteBatch();
    try {
      for (Map.Entry<String, TxValue.Builder> e : after.entrySet()) {
        String id = e.getKey();
        TxValue old = before.get(id);
        TxValue now = e.getValue().build();
        wb.put(Codec.key(TX, id), now.toByteArray());
        boolean wasFinished = old != null && old.hasFinishedAt();
        if (old == null) {
          wb.put(Codec.timeKey(CREATED, now.getCreatedAt(), id), new byte[0]);
          if (now.hasIdempotencyKey()) {
            wb.put(Codec.key(KEY, now.getIdempotencyKey()), Codec.bytes(id));
          }
          if (!now.hasFinishedAt()) {
            wb.put(Codec.timeKey(UNFINISHED, now.getCreatedAt(), id), new byte[0]);
          }
        }
        if (!wasFinished && now.hasFinishedAt()) {
          if (old != null) {
            wb.delete(Codec.timeKey(UNFINISHED, old.getCreatedAt(), id));
          }
          wb.put(Codec.timeKey(FINISHED, now.getFinishedAt(), id), new byte[0]);
          finishedDelta++;
        }
      }
      for (TxValue v : prunedValues) {
        String id = v.getTxId();
        wb.delete(Codec.key(TX, id));
        wb.delete(Codec.timeKey(CREATED, v.getCreatedAt(), id));
        if (v.hasFinishedAt()) {
          wb.delete(Codec.timeKey(FINISHED, v.getFinishedAt(), id));
          finishedDelta--;
        } else {
          wb.delete(Codec.timeKey(UNFINISHED, v.getCreatedAt(), id));
        }
        if (v.hasIdempotencyKey()) {
          wb.delete(Codec.key(KEY, v.getIdempotencyKey()));
        }
      }
      for (ParticipantValue p : participants.values()) {
        wb.put(Codec.key(PARTICIPANT, p.getName()), p.toByteArray());
      }
      if (finishedDelta != 0) {
        wb.put(
            RocksLogStore.finishedCountKey(),
            Codec.longValue(store.finishedCount() + finishedDelta));
      }
      return wb;
    } catch (RocksDBException | RuntimeException e) {
      wb.close();
      throw e;
    }
  }
}
