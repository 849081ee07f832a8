package dev.twopc.coordinator.cli;

import dev.twopc.telemetry.Durations;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.time.Duration;

/** Turns a failed call into one line on stderr and an exit code; never a stack trace. */
final class RpcErrors {
  private RpcErrors() {}

  /**
   * @param peer what was called, for the message: "coordinator" or "participant"
   * @param target the address called
   */
  static int report(
      StatusRuntimeException e,
      ManagedChannel channel,
      String peer,
      String target,
      Duration timeout,
      PrintWriter err) {
    Status status = e.getStatus();
    String description = oneLine(status.getDescription());
    int code;
    String message;
    switch (status.getCode()) {
      case UNAVAILABLE:
        code = ExitCodes.UNREACHABLE;
        if (neverConnected(e, channel)) {
          message =
              "cannot reach " + peer + " at " + target + " (" + rootCause(e, description) + ")";
        } else {
          message = peer + " at " + target + " is unavailable: " + orCode(description, status);
        }
        break;
      case DEADLINE_EXCEEDED:
        code = ExitCodes.UNREACHABLE;
        message =
            "no answer from "
                + peer
                + " at "
                + target
                + " within "
                + Durations.format(timeout)
                + " (raise --timeout?)";
        break;
      case NOT_FOUND:
        code = ExitCodes.NOT_FOUND;
        message = orCode(description, status);
        break;
      case FAILED_PRECONDITION:
        code = ExitCodes.REFUSED;
        message = "refused: " + orCode(description, status);
        break;
      case PERMISSION_DENIED:
      case UNAUTHENTICATED:
        code = ExitCodes.DENIED;
        message = "not allowed by " + peer + " at " + target + ": " + orCode(description, status);
        break;
      case INVALID_ARGUMENT:
        code = ExitCodes.USAGE;
        message = "invalid argument: " + orCode(description, status);
        break;
      case UNIMPLEMENTED:
        code = ExitCodes.FAILURE;
        message = peer + " at " + target + " does not serve this call (UNIMPLEMENTED)";
        break;
      default:
        code = ExitCodes.FAILURE;
        message =
            peer
                + " at "
                + target
                + " failed: "
                + status.getCode()
                + (description.isEmpty() ? "" : ": " + description);
    }
    err.println("twopc: " + message);
    err.flush();
    return code;
  }

  /**
   * A status that came over the wire carries no cause; one made locally because the connection
   * failed does. The channel state is a second witness.
   */
  private static boolean neverConnected(StatusRuntimeException e, ManagedChannel channel) {
    return e.getCause() != null || channel.getState(false) != ConnectivityState.READY;
  }

  private static String rootCause(Throwable e, String fallback) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    // Netty says "finishConnect(..) failed with error(-111): Connection refused"; keep the end
    String m =
        t == e
            ? null
            : oneLine(t.getMessage()).replaceFirst("^.*failed with error\\(-?\\d+\\): ", "");
    if (m == null || m.isEmpty()) {
      return fallback.isEmpty() ? "UNAVAILABLE" : fallback;
    }
    return m;
  }

  private static String orCode(String description, Status status) {
    return description.isEmpty() ? status.getCode().toString() : description;
  }

  static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s+", " ").trim();
  }
}
