package dev.twopc.coordinator.internal.api;

import static dev.twopc.coordinator.internal.CoordinatorException.notFound;

import dev.twopc.coordinator.internal.CoordinatorException;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.protocol.TransactionEngine;
import dev.twopc.coordinator.internal.protocol.TransactionEngine.LiveView;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.coordinator.internal.log.LogStoreException;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * Reads transactions for clients and operators: the log's record, overlaid with the live
 * progress of a transaction this process is still running (the log's lazy writes lag it).
 */
public final class TransactionQueries {
  private final LogReader reader;
  private final TransactionEngine engine;
  private final Views views;
  private final Clock clock;

  public TransactionQueries(LogReader reader, TransactionEngine engine, Views views,
      Clock clock) {
    this.reader = reader;
    this.engine = engine;
    this.views = views;
    this.clock = clock;
  }

  public TransactionView get(String txId) {
    Optional<LiveView> live = engine.live(txId);
    Optional<StoredTransaction> logged;
    try {
      logged = reader.find(txId);
    } catch (LogStoreException e) {
      throw CoordinatorException.unavailable("decision log unavailable", e);
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
      t = new StoredTransaction(t.txId(), t.state(), t.createdAt(), t.deadlineAt(), t.decision(),
          t.decidedAt(), t.decidedBy(), t.abortReason(), t.finishedAt(), t.idempotencyKey(),
          t.labels(), t.branches(), logged.actions());
    }
    return views.view(t, live.nextAttempts(), now);
  }

  Optional<LiveView> live(String txId) {
    return engine.live(txId);
  }
}
