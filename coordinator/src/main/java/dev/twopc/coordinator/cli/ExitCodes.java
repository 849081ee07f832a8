package dev.twopc.coordinator.cli;

/** The {@code twopc} exit codes, documented in docs/operations.md. */
final class ExitCodes {
  /** Done. */
  static final int OK = 0;

  /** Anything else: an unexpected server error, the coordinator failed to start. */
  static final int FAILURE = 1;

  /** Bad arguments (picocli usage error), or the server said INVALID_ARGUMENT. */
  static final int USAGE = 2;

  /** The coordinator (or participant) could not be reached, or did not answer in time. */
  static final int UNREACHABLE = 3;

  /** Unknown transaction (NOT_FOUND). */
  static final int NOT_FOUND = 4;

  /** The coordinator refused (FAILED_PRECONDITION), e.g. an unsafe resolution. */
  static final int REFUSED = 5;

  /** The caller's certificate may not do this (PERMISSION_DENIED, UNAUTHENTICATED). */
  static final int DENIED = 6;

  private ExitCodes() {}
}
