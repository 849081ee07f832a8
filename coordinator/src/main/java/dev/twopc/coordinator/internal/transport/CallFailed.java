package dev.twopc.coordinator.internal.transport;

/**
 * A call that got no reply. {@link #sent()} false means nothing reached the participant (it is not
 * registered): safe to treat as never sent. Otherwise the call may have been applied.
 */
public final class CallFailed extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String code;
  private final String detail;
  private final boolean sent;

  /**
   * @param code the status code's name, e.g. UNAVAILABLE or DEADLINE_EXCEEDED
   * @param detail the status description, or null
   */
  public CallFailed(String code, String detail, boolean sent) {
    super(detail == null ? code : code + " " + detail, null, false, false);
    this.code = code;
    this.detail = detail;
    this.sent = sent;
  }

  /** Nothing was sent: {@code participant} is not registered. */
  public static CallFailed notRegistered(String participant) {
    return new CallFailed(
        "NOT_REGISTERED", "participant " + participant + " is not registered", false);
  }

  public String code() {
    return code;
  }

  /** The status description, or null. */
  public String detail() {
    return detail;
  }

  /** False if the call never left this process. */
  public boolean sent() {
    return sent;
  }
}
