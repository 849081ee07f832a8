package dev.twopc.coordinator.internal;

/**
 * The one place for how long a value that reaches the decision log may be. The log's columns (see
 * {@code log.jdbc.Schema}) are sized to hold these; a test checks each limit against its column.
 * Lengths are Java chars (UTF-16 units): a string within N of them is within N code points and N
 * characters by any database's count.
 *
 * <p>Identifiers (tx ids, participant names, idempotency keys, addresses, labels) are validated
 * against these limits at the API and refused with INVALID_ARGUMENT. Free text (reasons, errors,
 * operator names, refusals, decided_by) is never refused: {@link #text} bounds it where it enters,
 * so no write can fail because of a value.
 */
public final class Limits {
  private Limits() {}

  /** twopc_tx.tx_id; the most {@code maxIdLength} may be configured to. */
  public static final int TX_ID = 128;

  /** twopc_branch.participant, twopc_participant.name. */
  public static final int PARTICIPANT = 64;

  /** twopc_participant.address. */
  public static final int ADDRESS = 256;

  /** twopc_tx.idempotency_key. */
  public static final int IDEMPOTENCY_KEY = 256;

  /** twopc_tx.abort_reason, twopc_branch.vote_reason, twopc_action.reason. */
  public static final int REASON = 1024;

  /** twopc_branch.last_error (and a participant's last error shown by ListParticipants). */
  public static final int LAST_ERROR = 1024;

  /** twopc_action.refusal. */
  public static final int REFUSAL = 1024;

  /** twopc_action.operator. */
  public static final int OPERATOR = 128;

  /** twopc_tx.decided_by. */
  public static final int DECIDED_BY = 128;

  /** Labels per transaction. */
  public static final int LABELS = 32;

  public static final int LABEL_KEY = 64;
  public static final int LABEL_VALUE = 256;

  /** twopc_tx.labels: the URL-encoded {@code k=v&k=v} form of all of a transaction's labels. */
  public static final int LABELS_ENCODED = 8192;

  /** Marks a value that was cut. */
  static final char ELLIPSIS = '\u2026';

  /**
   * {@code s} made storable in {@code max} chars: NUL (which PostgreSQL refuses in text) and
   * unpaired surrogates become U+FFFD, and a longer value is cut at a code point boundary, never
   * inside a surrogate pair, ending in "…". Null stays null.
   */
  public static String text(String s, int max) {
    if (s == null) {
      return null;
    }
    int n = s.length();
    if (n <= max && clean(s)) {
      return s; // the common case: no copy
    }
    StringBuilder sb = new StringBuilder(Math.min(n, max));
    int keep = n <= max ? n : max - 1; // room for the ellipsis
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
        if (sb.length() + 2 > keep) {
          break;
        }
        sb.append(c).append(s.charAt(i + 1));
        i += 2;
        continue;
      }
      if (sb.length() + 1 > keep) {
        break;
      }
      sb.append(c == 0 || Character.isSurrogate(c) ? '\uFFFD' : c);
      i++;
    }
    if (i < n) {
      sb.append(ELLIPSIS);
    }
    return sb.toString();
  }

  /** True if {@code s} has no NUL and no unpaired surrogate. */
  private static boolean clean(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (c == 0) {
        return false;
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= n || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }
}
