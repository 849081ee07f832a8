package dev.twopc.coordinator;

import java.io.IOException;

/**
 * A running coordinator: recovery done, gRPC served (Coordinator, Admin, health, reflection).
 * Placeholder signature; the implementation lands with the protocol.
 */
public final class CoordinatorServer implements AutoCloseable {
  private CoordinatorServer() {}

  /** Opens the decision log, runs recovery, then starts serving. */
  public static CoordinatorServer start(CoordinatorConfig config) throws IOException {
    throw new IOException("not yet");
  }

  /** The bound TCP port. */
  public int port() { return 0; }

  /** "localhost:port", for clients on this machine. */
  public String target() { return "localhost:" + port(); }

  public RecoverySummary recoverySummary() { return null; }

  /** Graceful stop: no new transactions, in-flight decisions finish, the log is closed. */
  @Override
  public void close() {}

  public void awaitTermination() throws InterruptedException {}
}
