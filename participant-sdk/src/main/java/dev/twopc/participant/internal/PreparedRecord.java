package dev.twopc.participant.internal;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A prepared branch as recorded in the pending map: enough to commit or roll back after a crash.
 */
// The payload is copied in and out; records are never compared or hashed, only stored and read.
@SuppressWarnings("ArrayRecordComponent")
public record PreparedRecord(
    String txId,
    byte[] payload,
    List<byte[]> staged,
    Map<String, LockManager.Mode> locks,
    String coordinator,
    Instant preparedAt) {
  public PreparedRecord {
    Objects.requireNonNull(txId, "txId");
    payload = payload.clone();
    staged = staged.stream().map(byte[]::clone).toList();
    locks = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(locks));
    Objects.requireNonNull(coordinator, "coordinator");
    Objects.requireNonNull(preparedAt, "preparedAt");
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }

  @Override
  public List<byte[]> staged() {
    return staged.stream().map(byte[]::clone).toList();
  }
}
