package dev.twopc.participant;

/**
 * A lock could not be had within the configured wait. Thrown by {@link PrepareContext#lock}; the
 * SDK turns it into a NO vote carrying the message.
 */
public final class LockUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String key;

  public LockUnavailableException(String key, String message) {
    super(message);
    this.key = key;
  }

  /** The key that could not be locked. */
  public String key() {
    return key;
  }
}
