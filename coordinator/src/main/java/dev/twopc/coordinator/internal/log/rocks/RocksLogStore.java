package dev.twopc.coordinator.internal.log.rocks;

import static dev.twopc.coordinator.internal.log.rocks.Codec.CREATED;
import static dev.twopc.coordinator.internal.log.rocks.Codec.KEY;
import static dev.twopc.coordinator.internal.log.rocks.Codec.META;
import static dev.twopc.coordinator.internal.log.rocks.Codec.PARTICIPANT;
import static dev.twopc.coordinator.internal.log.rocks.Codec.TX;
import static dev.twopc.coordinator.internal.log.rocks.Codec.UNFINISHED;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.log.LogRecord;
import dev.twopc.coordinator.internal.log.LogStore;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.StoredNames;
import dev.twopc.coordinator.internal.log.StoredParticipant;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.proto.internal.log.ParticipantValue;
import dev.twopc.proto.internal.log.TxValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The decision log in RocksDB under the coordinator's data directory: the embedded default. Each
 * group-commit batch is one {@link WriteBatch} holding the records and their index entries ({@link
 * Codec}), written with one WAL append, and in {@link Durability#FSYNC} mode one WAL sync. In
 * {@link Durability#PROCESS} mode the WAL is written but not synced: it survives {@code kill -9},
 * not power loss.
 */
public final class RocksLogStore implements LogStore {
  static final int SCHEMA_VERSION = 1;
  private static final byte[] SCHEMA_KEY = Codec.key(META, "schema");
  private static final byte[] FINISHED_COUNT_KEY = Codec.key(META, "finished");
  private static final Set<TxState> IN_DOUBT_IF_LATE =
      EnumSet.of(TxState.ACTIVE, TxState.PREPARING, TxState.ONE_PHASE);
  private static final Set<TxState> UNFINISHED_STATES =
      EnumSet.of(
          TxState.ACTIVE,
          TxState.PREPARING,
          TxState.ONE_PHASE,
          TxState.COMMITTING,
          TxState.ABORTING);

  static {
    RocksDB.loadLibrary();
  }

  private final Options options;
  private final RocksDB db;
  private final WriteOptions synced;
  private final WriteOptions unsynced;
  private final String description;
  private final AtomicLong finishedCount;

  private RocksLogStore(Options options, RocksDB db, String description, long finished) {
    this.options = options;
    this.db = db;
    this.description = description;
    this.synced = new WriteOptions().setSync(true);
    this.unsynced = new WriteOptions().setSync(false);
    this.finishedCount = new AtomicLong(finished);
  }

  /** Opens (creating if needed) the log under {@code dir}/log. */
  public static RocksLogStore open(Path dataDir, Durability durability) throws IOException {
    Path dir = dataDir.toAbsolutePath();
    Files.createDirectories(dir);
    if (Files.exists(dir.resolve("twopc.mv.db"))) {
      throw new IOException(
          dir
              + " holds a decision log of the H2-based twopc 0.1, which this"
              + " version does not open as its embedded log: finish or resolve its transactions with"
              + " the old version, or keep using it with --jdbc-url 'jdbc:h2:file:"
              + dir.resolve("twopc")
              + ";WRITE_DELAY=0'");
    }
    Path path = dir.resolve("log");
    Options options =
        new Options()
            .setCreateIfMissing(true)
            .setKeepLogFileNum(4)
            .setMaxTotalWalSize(64L << 20)
            .setRecycleLogFileNum(0);
    RocksDB db;
    try {
      db = RocksDB.open(options, path.toString());
    } catch (RocksDBException e) {
      options.close();
      String why = String.valueOf(e.getMessage());
      if (why.contains("lock")) {
        throw new IOException(
            "the decision log at " + path + " is in use by another process" + " (" + why + ")", e);
      }
      throw new IOException("cannot open the decision log at " + path + ": " + why, e);
    }
    try {
      byte[] schema = db.get(SCHEMA_KEY);
      if (schema == null) {
        db.put(new WriteOptions().setSync(true), SCHEMA_KEY, Codec.longValue(SCHEMA_VERSION));
      } else if (Codec.longOf(schema) > SCHEMA_VERSION) {
        throw new IOException(
            "the decision log at "
                + path
                + " has schema version "
                + Codec.longOf(schema)
                + ", newer than this coordinator's "
                + SCHEMA_VERSION);
      }
      byte[] count = db.get(FINISHED_COUNT_KEY);
      return new RocksLogStore(
          options, db, "rocksdb:" + path, count == null ? 0 : Codec.longOf(count));
    } catch (RocksDBException | IOException e) {
      db.close();
      options.close();
      throw e instanceof IOException io
          ? io
          : new IOException("cannot read the decision log at " + path + ": " + e.getMessage(), e);
    }
  }

  @Override
  public List<Object> write(List<LogRecord> batch, Durability durability) {
    Batch b = new Batch(this);
    List<Object> results = new ArrayList<>(batch.size());
    try {
      for (LogRecord r : batch) {
        results.add(b.apply(r));
      }
      try (WriteBatch wb = b.toWriteBatch()) {
        db.write(durability == Durability.FSYNC ? synced : unsynced, wb);
      }
    } catch (RocksDBException e) {
      throw failed("write", e);
    }
    finishedCount.addAndGet(b.finishedDelta());
    return results;
  }

  // ---------------------------------------------------------------- reads

  TxValue load(String txId) throws RocksDBException {
    byte[] v = db.get(Codec.key(TX, txId));
    if (v == null) {
      return null;
    }
    try {
      return TxValue.parseFrom(v);
    } catch (InvalidProtocolBufferException e) {
      throw new LogStoreException("decision log record for " + txId + " is unreadable", e);
    }
  }

  byte[] get(byte[] key) throws RocksDBException {
    return db.get(key);
  }

  long finishedCount() {
    return finishedCount.get();
  }

  RocksIterator iterator() {
    return db.newIterator();
  }

  @Override
  public Optional<StoredTransaction> find(String txId) {
    try {
      return Optional.ofNullable(load(txId)).map(Codec::transaction);
    } catch (RocksDBException e) {
      throw failed("read", e);
    }
  }

  @Override
  public Optional<Decision> decisionOf(String txId) {
    try {
      TxValue v = load(txId);
      return v == null || !v.hasDecision()
          ? Optional.empty()
          : Optional.of(StoredNames.parse(Decision.class, v.getDecision()));
    } catch (RocksDBException e) {
      throw failed("read", e);
    }
  }

  @Override
  public Optional<String> txIdForKey(String idempotencyKey) {
    try {
      byte[] v = db.get(Codec.key(KEY, idempotencyKey));
      return v == null ? Optional.empty() : Optional.of(Codec.string(v));
    } catch (RocksDBException e) {
      throw failed("read", e);
    }
  }

  @Override
  public List<StoredTransaction> unfinished() {
    List<StoredTransaction> out = new ArrayList<>();
    try (ReadOptions ro = new ReadOptions();
        RocksIterator it = db.newIterator(ro)) {
      for (it.seek(new byte[] {UNFINISHED}); it.isValid() && it.key()[0] == UNFINISHED; it.next()) {
        TxValue v = load(Codec.txIdOf(it.key()));
        if (v != null && !v.hasFinishedAt()) {
          out.add(Codec.transaction(v));
        }
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("read", e);
    }
    return out;
  }

  @Override
  public long countFinished() {
    return finishedCount.get();
  }

  @Override
  public Page list(Filter f) {
    // Unfinished states come from the small unfinished index; anything else scans all,
    // newest first, from the cursor.
    boolean onlyUnfinished =
        f.inDoubtOnly()
            || (f.states() != null
                && !f.states().isEmpty()
                && UNFINISHED_STATES.containsAll(f.states()));
    byte kind = onlyUnfinished ? UNFINISHED : CREATED;
    List<StoredTransaction> rows = new ArrayList<>();
    try (RocksIterator it = db.newIterator()) {
      byte[] start;
      if (f.after() != null) {
        start = Codec.timeKey(kind, f.after().createdAt(), f.after().txId());
      } else if (f.createdBefore() != null && f.createdBefore() < Long.MAX_VALUE) {
        start = Codec.timeKey(kind, f.createdBefore() + 1, "");
      } else {
        start = new byte[] {(byte) (kind + 1)};
      }
      it.seekForPrev(start);
      if (it.isValid() && java.util.Arrays.equals(it.key(), start)) {
        it.prev(); // the cursor is exclusive
      }
      for (; it.isValid() && it.key()[0] == kind && rows.size() <= f.limit(); it.prev()) {
        byte[] k = it.key();
        if (f.createdBefore() != null && Codec.timeOf(k) > f.createdBefore()) {
          continue;
        }
        TxValue v = load(Codec.txIdOf(k));
        if (v == null || !matches(v, f)) {
          continue;
        }
        rows.add(Codec.transaction(v));
      }
      it.status();
    } catch (RocksDBException e) {
      throw failed("read", e);
    }
    Cursor next = null;
    if (rows.size() > f.limit()) {
      rows = new ArrayList<>(rows.subList(0, f.limit()));
      StoredTransaction last = rows.get(rows.size() - 1);
      next = new Cursor(last.createdAt(), last.txId());
    }
    return new Page(rows, next);
  }

  private static boolean matches(TxValue v, Filter f) {
    if (f.states() != null
        && !f.states().isEmpty()
        && !f.states().contains(StoredNames.parse(TxState.class, v.getState()))) {
      return false;
    }
    if (f.inDoubtOnly()) {
      TxState s = StoredNames.parse(TxState.class, v.getState());
      boolean inDoubt =
          s.inPhaseTwo() || (IN_DOUBT_IF_LATE.contains(s) && v.getDeadlineAt() < f.now());
      return inDoubt;
    }
    return true;
  }

  @Override
  public List<StoredParticipant> participants() {
    List<StoredParticipant> out = new ArrayList<>();
    try (RocksIterator it = db.newIterator()) {
      for (it.seek(new byte[] {PARTICIPANT});
          it.isValid() && it.key()[0] == PARTICIPANT;
          it.next()) {
        out.add(Codec.participant(ParticipantValue.parseFrom(it.value())));
      }
      it.status();
    } catch (RocksDBException | InvalidProtocolBufferException e) {
      throw new LogStoreException(
          "decision log read failed on " + description + ": " + e.getMessage(), e);
    }
    return out;
  }

  @Override
  public Map<String, Integer> inDoubtBranchesByParticipant() {
    Map<String, Integer> out = new HashMap<>();
    for (StoredTransaction t : unfinished()) {
      for (var b : t.branches()) {
        if (b.state().awaitingPhaseTwo()) {
          out.merge(b.participant(), 1, Integer::sum);
        }
      }
    }
    return out;
  }

  @Override
  public String description() {
    return description;
  }

  LogStoreException failed(String what, RocksDBException e) {
    String code = e.getStatus() == null ? null : e.getStatus().getCode().name();
    return new LogStoreException(
        "decision log " + what + " failed on " + description + ": " + e.getMessage(), code, e);
  }

  @Override
  public void close() {
    try {
      db.syncWal();
    } catch (RocksDBException ignored) {
      // every acknowledged record is already as durable as its mode promised
    }
    db.close();
    synced.close();
    unsynced.close();
    options.close();
  }

  static byte[] finishedCountKey() {
    return FINISHED_COUNT_KEY;
  }
}
