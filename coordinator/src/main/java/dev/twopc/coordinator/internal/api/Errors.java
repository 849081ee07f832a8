package dev.twopc.coordinator.internal.api;

import dev.twopc.coordinator.internal.CoordinatorException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place domain errors become gRPC statuses. No class names or traces on the wire. */
final class Errors {
  private static final Logger log = LoggerFactory.getLogger(Errors.class);

  private Errors() {}

  static StatusRuntimeException toStatus(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof CoordinatorException e) {
      Status s =
          switch (e.kind()) {
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            case UNAVAILABLE -> Status.UNAVAILABLE;
          };
      return s.withDescription(oneLine(e.getMessage())).asRuntimeException();
    }
    if (t instanceof StatusRuntimeException e) {
      return e;
    }
    log.error("event=internal_error", t);
    return Status.INTERNAL
        .withDescription("internal error; see the coordinator's log")
        .asRuntimeException();
  }

  /**
   * Messages quote free text (a participant's NO reason, an operator's reason, a refused value):
   * its line breaks and control characters become one space, so a description stays one line.
   */
  static String oneLine(String message) {
    return message == null ? null : LINE_BREAKS.matcher(message).replaceAll(" ");
  }

  private static final java.util.regex.Pattern LINE_BREAKS =
      java.util.regex.Pattern.compile("[\\p{Cntrl}\\u2028\\u2029]+");

  static void fail(StreamObserver<?> observer, Throwable t) {
    observer.onError(toStatus(t));
  }
}
