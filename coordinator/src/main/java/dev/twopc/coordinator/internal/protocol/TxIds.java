package dev.twopc.coordinator.internal.protocol;

import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Transaction ids: time-ordered UUIDs (version 7 layout: 48 bits of milliseconds, then 74 random
 * bits). New ids sort after older ones, so the log's indexes on tx_id grow at their right edge, and
 * an id tells when it was issued.
 */
public final class TxIds {
  private TxIds() {}

  static String newTxId(long nowMillis) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (nowMillis << 16) | 0x7000L | (r.nextLong() & 0x0FFFL);
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }

  /** When {@code txId} was issued, if it is an id of this form (a version 7 UUID). */
  public static OptionalLong createdAt(String txId) {
    if (txId.length() != 36) {
      return OptionalLong.empty();
    }
    UUID u;
    try {
      u = UUID.fromString(txId);
    } catch (IllegalArgumentException e) {
      return OptionalLong.empty();
    }
    if (u.version() != 7 || u.variant() != 2 || !u.toString().equals(txId)) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(u.getMostSignificantBits() >>> 16);
  }
}
