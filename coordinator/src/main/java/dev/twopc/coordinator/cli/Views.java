package dev.twopc.coordinator.cli;

import com.google.protobuf.Timestamp;
import dev.twopc.proto.v1.Branch;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.telemetry.Durations;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** Small pieces of human output shared by the commands: enum names, timestamps, ages. */
final class Views {
  private Views() {}

  /** {@code TRANSACTION_STATE_COMMITTING} becomes {@code COMMITTING}; unset becomes "-". */
  static String name(Enum<?> value) {
    String n = value.name();
    if (n.equals("UNRECOGNIZED")) {
      return "?";
    }
    if (n.endsWith("_UNSPECIFIED")) {
      return "-";
    }
    for (String prefix :
        new String[] {"TRANSACTION_STATE_", "BRANCH_STATE_", "OUTCOME_", "VOTE_", "RESOLUTION_"}) {
      if (n.startsWith(prefix)) {
        return n.substring(prefix.length());
      }
    }
    return n;
  }

  static boolean isSet(Timestamp t) {
    return t.getSeconds() != 0 || t.getNanos() != 0;
  }

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  /** RFC 3339 in UTC to the millisecond, or "-" when unset. */
  static String time(Timestamp t) {
    return isSet(t) ? instant(t).truncatedTo(ChronoUnit.MILLIS).toString() : "-";
  }

  /** "2024-05-01T10:00:00.123Z (3m12s ago)", or "-" when unset. */
  static String timeAndAge(Timestamp t, Instant now) {
    if (!isSet(t)) {
      return "-";
    }
    Duration d = Duration.between(instant(t), now);
    return time(t)
        + (d.isNegative()
            ? " (in " + Durations.age(d.negated()) + ")"
            : " (" + Durations.age(d) + " ago)");
  }

  /** The coordinator's idea of the age when it sent one, else measured here. */
  static Duration age(TransactionView tx, Instant now) {
    if (tx.hasAge()) {
      return Duration.ofSeconds(tx.getAge().getSeconds(), tx.getAge().getNanos());
    }
    return isSet(tx.getCreatedAt())
        ? Duration.between(instant(tx.getCreatedAt()), now)
        : Duration.ZERO;
  }

  /** The most attempts any branch has had. */
  static int attempts(TransactionView tx) {
    int max = 0;
    for (Branch b : tx.getBranchesList()) {
      max = Math.max(max, b.getAttempts());
    }
    return max;
  }

  /** "participant: error" of the branch whose error is newest, or "" when no branch has one. */
  static String lastError(TransactionView tx) {
    Branch newest = null;
    for (Branch b : tx.getBranchesList()) {
      if (b.getLastError().isEmpty()) {
        continue;
      }
      if (newest == null || compare(b.getLastAttemptAt(), newest.getLastAttemptAt()) > 0) {
        newest = b;
      }
    }
    return newest == null ? "" : newest.getParticipant() + ": " + newest.getLastError();
  }

  private static int compare(Timestamp a, Timestamp b) {
    int c = Long.compare(a.getSeconds(), b.getSeconds());
    return c != 0 ? c : Integer.compare(a.getNanos(), b.getNanos());
  }

  static String yesNo(boolean b) {
    return b ? "yes" : "no";
  }

  static String orDash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }
}
