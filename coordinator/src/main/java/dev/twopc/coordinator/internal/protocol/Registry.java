package dev.twopc.coordinator.internal.protocol;

import static dev.twopc.coordinator.internal.CoordinatorException.invalid;
import static dev.twopc.coordinator.internal.CoordinatorException.notFound;
import static dev.twopc.coordinator.internal.CoordinatorException.precondition;

import dev.twopc.coordinator.internal.CoordinatorException;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogRecord.Enlisted;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.LogWriter;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live transactions, by id and by idempotency key, and the rules of admission: an idempotency
 * key names one request (its retry gets the same transaction, another request with it is refused),
 * and branches enlist only while a transaction is ACTIVE. A transaction leaves once its end is
 * written ({@link #remove}); until then it is answered from memory.
 */
final class Registry {
  private final Map<String, Tx> live = new ConcurrentHashMap<>();
  private final Map<String, Tx> byKey = new ConcurrentHashMap<>();
  private final LogReader reader;
  private final LogWriter log;
  private final int maxBranches;

  Registry(LogReader reader, LogWriter log, int maxBranches) {
    this.reader = reader;
    this.log = log;
    this.maxBranches = maxBranches;
  }

  Tx get(String txId) {
    return live.get(txId);
  }

  Collection<Tx> all() {
    return live.values();
  }

  /** The live transaction, or the status that says why there is none. */
  Tx require(String txId) {
    Tx tx = live.get(txId);
    if (tx == null) {
      throw notLive(txId);
    }
    return tx;
  }

  Optional<String> liveTxIdForKey(String key) {
    Tx tx = byKey.get(key);
    return tx == null ? Optional.empty() : Optional.of(tx.id);
  }

  /**
   * Admits {@code tx}, just built: under its key unless the key is taken, in which case the
   * transaction that has it is answered (a retry of the same request) or the request refused.
   *
   * @return {@code tx}, or the earlier live transaction with the same key
   */
  Tx admit(Tx tx, List<BranchSpec> branches) {
    String key = tx.idempotencyKey;
    if (key != null) {
      Tx earlier = byKey.putIfAbsent(key, tx);
      if (earlier != null) {
        requireSameRequest(key, earlier, tx.interactive, branches);
        return earlier;
      }
      try {
        Optional<String> logged = reader.txIdForKey(key);
        if (logged.isPresent()) {
          byKey.remove(key, tx);
          Tx l = live.get(logged.get());
          if (l != null) {
            requireSameRequest(key, l, tx.interactive, branches);
            return l;
          }
          throw precondition(
              "idempotency key " + key + " belongs to finished transaction " + logged.get());
        }
      } catch (LogStoreException e) {
        byKey.remove(key, tx);
        throw CoordinatorException.logUnavailable(e);
      }
    }
    live.put(tx.id, tx);
    return tx;
  }

  /** Recovery: a transaction from the log that this process drives from now on. */
  void adopt(Tx tx) {
    live.put(tx.id, tx);
    if (tx.idempotencyKey != null) {
      byKey.put(tx.idempotencyKey, tx);
    }
  }

  /** Its end is in the log (or it was dropped): readers now read the log. */
  void remove(Tx tx) {
    live.remove(tx.id, tx);
    if (tx.idempotencyKey != null) {
      byKey.remove(tx.idempotencyKey, tx);
    }
  }

  /**
   * Stops driving every live transaction and forgets it (this node lost its lease): callers waiting
   * on one hear UNKNOWN with {@code reason}. Returns how many.
   */
  int abandonAll(String reason) {
    int n = 0;
    for (Tx tx : live.values()) {
      tx.abandon();
      remove(tx);
      tx.decided.complete(TxResult.unknown(tx.id, reason));
      tx.finished.complete(TxResult.unknown(tx.id, reason));
      n++;
    }
    return n;
  }

  /**
   * The answer an Execute retried with {@code key} gets, if the key was used: the earlier
   * transaction's (live, or from the log), once the request is checked to be the same one.
   */
  Optional<CompletableFuture<TxResult>> resultForKey(
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
      throw CoordinatorException.logUnavailable(e);
    }
  }

  /**
   * Adds {@code participant} to ACTIVE {@code txId}: a client handing it {@code payload}, or the
   * participant itself ({@code staged}: its work waits in its memory). Again for the same
   * participant: a no-op that may add {@code staged}; another non-empty payload is refused.
   *
   * @return the transaction's deadline
   */
  long enlist(String txId, String participant, byte[] payload, boolean staged) {
    Tx tx = require(txId);
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
      if (tx.branches.size() >= maxBranches) {
        throw invalid(
            "transaction " + txId + " already has the maximum of " + maxBranches + " branches");
      }
      added = new Branch(participant, tx.branches.size(), payload, digest(payload), true);
      added.staged = staged;
      tx.branches.put(participant, added);
    }
    // Lazy: the decision record carries every branch; a branch whose enlistment a crash lost
    // was not yet prepared, or is prepared and asks (GetOutcome), and hears ABORTED.
    log.queue(new Enlisted(txId, added.row()));
    return tx.deadlineAt;
  }

  /** The transaction as the log holds it, if it does. */
  Optional<StoredTransaction> logged(String txId) {
    return reader.find(txId);
  }

  /** What the log says of a transaction this process no longer runs. */
  TxResult loggedResult(String txId) {
    Optional<StoredTransaction> s = reader.find(txId);
    if (s.isEmpty()) {
      throw notFound("unknown transaction " + txId);
    }
    Decision d = s.get().decision();
    if (d == Decision.COMMIT) {
      return TxResult.committed(txId);
    }
    if (d == Decision.ABORT) {
      return TxResult.aborted(txId, s.get().abortReason());
    }
    return TxResult.unknown(
        txId,
        "not decided yet: another coordinator node runs it (commit it there), or it is aborted"
            + " when that node's lease lapses");
  }

  CoordinatorException notLive(String txId) {
    try {
      Optional<StoredTransaction> s = reader.find(txId);
      if (s.isEmpty()) {
        return notFound("unknown transaction " + txId);
      }
      return precondition("transaction " + txId + " is " + s.get().state());
    } catch (LogStoreException e) {
      return CoordinatorException.logUnavailable(e);
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
                  ? ", begun interactively (Begin): commit or roll it back by its id"
                  : ", an Execute")
              + "; use a new key for a different request");
    }
    if (interactive) {
      return; // a repeated Begin: the same transaction
    }
    List<String> had;
    synchronized (earlier) {
      had =
          earlier.branches.values().stream()
              .sorted(Comparator.comparingInt(b -> b.index))
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
}
