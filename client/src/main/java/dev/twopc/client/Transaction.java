package dev.twopc.client;

import java.time.Instant;
import java.util.Objects;

/** An interactive transaction begun by {@link TransactionClient#begin()}. */
public record Transaction(String txId, Instant deadline) {
  public Transaction {
    Objects.requireNonNull(txId, "txId");
    Objects.requireNonNull(deadline, "deadline");
  }
}
