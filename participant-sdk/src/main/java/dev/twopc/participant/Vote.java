package dev.twopc.participant;

import java.util.Objects;

/**
 * A branch's answer to prepare: {@link #yes()}, {@link #no(String)} with a reason, or {@link
 * #readOnly()}. Immutable.
 */
public final class Vote {
  /** The kinds of vote. */
  public enum Kind {
    /** The branch is prepared and will commit if told to. */
    YES,
    /** The branch refuses; the transaction aborts. Carries a reason. */
    NO,
    /** The branch has nothing to commit and leaves phase 2. */
    READ_ONLY
  }

  private static final Vote YES = new Vote(Kind.YES, "");
  private static final Vote READ_ONLY = new Vote(Kind.READ_ONLY, "");

  private final Kind kind;
  private final String reason;

  private Vote(Kind kind, String reason) {
    this.kind = kind;
    this.reason = reason;
  }

  /** Prepared: the SDK records the branch durably, then answers YES. */
  public static Vote yes() {
    return YES;
  }

  /** Refused, with a reason shown to the client and to operators. */
  public static Vote no(String reason) {
    Objects.requireNonNull(reason, "reason");
    if (reason.isBlank()) {
      throw new IllegalArgumentException("reason must not be blank");
    }
    return new Vote(Kind.NO, reason);
  }

  /**
   * Nothing to commit. The SDK rolls back the local transaction (a read-only branch must not have
   * written anything) and the branch leaves phase 2.
   */
  public static Vote readOnly() {
    return READ_ONLY;
  }

  public Kind kind() {
    return kind;
  }

  /** The reason of a NO vote; empty otherwise. */
  public String reason() {
    return reason;
  }

  public boolean isYes() {
    return kind == Kind.YES;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Vote v && v.kind == kind && v.reason.equals(reason);
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + reason.hashCode();
  }

  @Override
  public String toString() {
    return kind == Kind.NO ? "NO(" + reason + ")" : kind.name();
  }
}
