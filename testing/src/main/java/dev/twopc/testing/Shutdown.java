package dev.twopc.testing;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.util.concurrent.TimeUnit;

/** Stops what tests start: at once, waiting a few seconds for it to go, keeping an interrupt. */
public final class Shutdown {
  private static final long WAIT_SECONDS = 5;

  private Shutdown() {}

  public static void now(Server server) {
    server.shutdownNow();
    try {
      server.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public static void now(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
