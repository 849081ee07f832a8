package dev.twopc.bench.internal;

import io.grpc.Status;

/** How one transaction ended, as a small int so counting it is an array index. */
public final class Outcome {
  public static final int COMMITTED = 0;
  public static final int ABORTED = 1;

  /** The coordinator answered UNKNOWN (or an outcome the bench does not know). */
  public static final int UNKNOWN = 2;

  private static final int ERROR_BASE = 3;

  /** Number of distinct outcomes: the three above and one per gRPC status code. */
  public static final int COUNT = ERROR_BASE + Status.Code.values().length;

  private Outcome() {}

  /** The outcome of a call that failed with {@code t}. */
  public static int error(Throwable t) {
    return ERROR_BASE + Status.fromThrowable(t).getCode().value();
  }

  public static boolean isError(int outcome) {
    return outcome >= ERROR_BASE;
  }

  /** The gRPC status code name of an error outcome. */
  public static String codeName(int outcome) {
    return Status.fromCodeValue(outcome - ERROR_BASE).getCode().name();
  }
}
