package dev.twopc.client;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Options of {@link TransactionClient#begin(TxOptions)} and {@link TransactionClient#execute(
 * java.util.List, TxOptions)}. Immutable; start from {@link #defaults()}.
 *
 * @param timeout the transaction aborts if undecided by then; null for the coordinator's default
 * @param idempotencyKey a retry with the same key returns the same transaction; empty for none
 * @param waitForCompletion answer only after every branch acknowledged phase 2
 */
public record TxOptions(
    Duration timeout,
    String idempotencyKey,
    boolean waitForCompletion,
    Map<String, String> labels) {
  private static final TxOptions DEFAULTS = new TxOptions(null, "", false, Map.of());

  public TxOptions {
    if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    labels = Map.copyOf(labels);
  }

  public static TxOptions defaults() {
    return DEFAULTS;
  }

  public TxOptions withTimeout(Duration d) {
    return new TxOptions(d, idempotencyKey, waitForCompletion, labels);
  }

  public TxOptions withIdempotencyKey(String key) {
    return new TxOptions(timeout, key, waitForCompletion, labels);
  }

  public TxOptions withWaitForCompletion(boolean wait) {
    return new TxOptions(timeout, idempotencyKey, wait, labels);
  }

  public TxOptions withLabels(Map<String, String> l) {
    return new TxOptions(timeout, idempotencyKey, waitForCompletion, l);
  }
}
