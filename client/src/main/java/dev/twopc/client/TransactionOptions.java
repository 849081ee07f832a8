package dev.twopc.client;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * Options of {@link TransactionClient#begin(TransactionOptions)} and {@link
 * TransactionClient#execute( java.util.List, TransactionOptions)}. Immutable; start from {@link
 * #defaults()}.
 *
 * @param timeout the transaction aborts if undecided by then; null for the coordinator's default
 * @param idempotencyKey a retry with the same key returns the same transaction; empty for none
 * @param waitForCompletion answer only after every branch acknowledged phase 2
 */
public record TransactionOptions(
    Duration timeout,
    String idempotencyKey,
    boolean waitForCompletion,
    Map<String, String> labels) {
  private static final TransactionOptions DEFAULTS =
      new TransactionOptions(null, "", false, Map.of());

  public TransactionOptions {
    if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    labels = Map.copyOf(labels);
  }

  public static TransactionOptions defaults() {
    return DEFAULTS;
  }

  public TransactionOptions withTimeout(Duration d) {
    return new TransactionOptions(d, idempotencyKey, waitForCompletion, labels);
  }

  public TransactionOptions withIdempotencyKey(String key) {
    return new TransactionOptions(timeout, key, waitForCompletion, labels);
  }

  public TransactionOptions withWaitForCompletion(boolean wait) {
    return new TransactionOptions(timeout, idempotencyKey, wait, labels);
  }

  public TransactionOptions withLabels(Map<String, String> l) {
    return new TransactionOptions(timeout, idempotencyKey, waitForCompletion, l);
  }
}
