package dev.twopc.coordinator.internal.api;

import static dev.twopc.coordinator.internal.CoordinatorException.notFound;

import dev.twopc.coordinator.internal.CoordinatorException;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.protocol.TransactionEngine;
import dev.twopc.coordinator.internal.protocol.TransactionEngine.LiveView;
import dev.twopc.coordinator.internal.protocol.TxIds;
import dev.twopc.proto.v1.TransactionView;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads transactions for clients and operators: the log's record, overlaid with the live progress
 * of a transaction this process is still running (the log's lazy writes lag it).
 */
public final class TransactionQueries {
  private final LogReader reader;
  private final TransactionEngine engine;
  private final Views views;
  private final Clock clock;
  private final Duration retention;

  public TransactionQueries(
      LogReader reader, TransactionEngine engine, Views views, Clock clock, Duration retention) {
    this.reader = reader;
    this.engine = engine;
    this.views = views;
    this.clock = clock;
    this.retention = retention;
  }

  /**
   * False only when the coordinator knows {@code txId} and {@code participant} has no branch in it:
   * a participant may ask the outcome of its own branches only. An id with no record is answered
   * (ABORTED, presumed abort) whoever asks; it tells nothing about other branches.
   */
  public boolean mayHaveBranch(String txId, String participant) {
    Optional<LiveView> live = engine.live(txId);
    Optional<StoredTransaction> tx;
    try {
      tx = live.isPresent() ? Optional.of(live.get().tx()) : reader.find(txId);
    } catch (LogStoreException e) {
      throw CoordinatorException.logUnavailable(e);
    }
    // No record, or one without branches (an ABORT tombstone GetOutcome wrote: the answer is
    // ABORTED, whoever asks): every prepared participant in doubt must be able to hear it.
    return tx.isEmpty()
        || tx.get().branches().isEmpty()
        || tx.get().branches().stream().anyMatch(b -> b.participant().equals(participant));
  }

  /**
   * What a client is told about {@code txId}: the transaction, or, for an id this coordinator
   * issued within the retention of which the log has no record, ABORTED. That is presumed abort: a
   * COMMIT is logged before anyone hears of it and kept for the retention after the transaction
   * finished, so no record means nothing was decided (an unkeyed Execute that never reached a
   * decision, or a transaction lost with a coordinator crash before its decision). Older or
   * never-issued ids are NOT_FOUND, and that is final.
   */
  public TransactionView forClient(String txId) {
    try {
      return get(txId);
    } catch (CoordinatorException e) {
      if (e.kind() != CoordinatorException.Kind.NOT_FOUND) {
        throw e;
      }
      long now = clock.millis();
      OptionalLong created = TxIds.createdAt(txId);
      if (created.isEmpty() || created.getAsLong() > now + CLOCK_SKEW_MILLIS) {
        throw notFound("no transaction " + txId + ": not an id this coordinator issued");
      }
      if (created.getAsLong() < now - retention.toMillis()) {
        throw notFound(
            "no record of transaction "
                + txId
                + ": older than the retention ("
                + retention
                + "), pruned after it finished, or never issued");
      }
      return views.view(
          new StoredTransaction(
              txId,
              TxState.ABORTED,
              created.getAsLong(),
              created.getAsLong(),
              Decision.ABORT,
              null,
              "presumed",
              PRESUMED_ABORT,
              null,
              null,
              Map.of(),
              List.of(),
              List.of()),
          Map.of(),
          now);
    }
  }

  /** The transaction begun or executed with idempotency key {@code key}, for a client. */
  public TransactionView forClientByKey(String key) {
    Optional<String> txId = engine.liveTxIdForKey(key);
    if (txId.isEmpty()) {
      try {
        txId = reader.txIdForKey(key);
      } catch (LogStoreException e) {
        throw CoordinatorException.logUnavailable(e);
      }
    }
    if (txId.isEmpty()) {
      txId = engine.liveTxIdForKey(key); // it may have been logged between the two reads
    }
    if (txId.isEmpty()) {
      throw notFound(
          "no transaction used idempotency key "
              + key
              + " within the retention ("
              + retention
              + "): nothing committed under it");
    }
    return forClient(txId.get());
  }

  static final String PRESUMED_ABORT =
      "no record of this transaction: presumed aborted (it" + " never reached a decision)";
  private static final long CLOCK_SKEW_MILLIS = 60_000;

  public TransactionView get(String txId) {
    Optional<LiveView> live = engine.live(txId);
    Optional<StoredTransaction> logged;
    try {
      logged = reader.find(txId);
    } catch (LogStoreException e) {
      throw CoordinatorException.logUnavailable(e);
    }
    if (live.isEmpty() && logged.isEmpty()) {
      // the transaction may have finished between the two reads
      live = engine.live(txId);
      if (live.isEmpty()) {
        throw notFound("unknown transaction " + txId);
      }
    }
    return overlay(logged.orElse(null), live.orElse(null));
  }

  TransactionView overlay(StoredTransaction logged, LiveView live) {
    long now = clock.millis();
    if (live == null) {
      return views.view(logged, Map.of(), now);
    }
    StoredTransaction t = live.tx();
    if (logged != null) {
      t =
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
              logged.actions());
    }
    return views.view(t, live.nextAttempts(), now);
  }

  Optional<LiveView> live(String txId) {
    return engine.live(txId);
  }
}
