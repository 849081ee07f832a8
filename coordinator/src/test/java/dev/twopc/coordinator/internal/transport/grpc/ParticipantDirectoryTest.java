package dev.twopc.coordinator.internal.transport.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.LogStore;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A participant that restarts at the same address must not wait out gRPC's reconnect backoff (1 s
 * growing to 2 min) on the coordinator's cached channel: re-registering, and every phase-2 retry
 * (already spaced by the engine's own backoff), reset it.
 */
class ParticipantDirectoryTest {
  @TempDir Path dir;

  /** A channel that counts resetConnectBackoff calls and carries no calls. */
  private static final class RecordingChannel extends ManagedChannel {
    private final ManagedChannel inner = InProcessChannelBuilder.forName("nowhere").build();
    int resets;

    @Override
    public void resetConnectBackoff() {
      resets++;
    }

    @Override
    public ManagedChannel shutdown() {
      return inner.shutdown();
    }

    @Override
    public boolean isShutdown() {
      return inner.isShutdown();
    }

    @Override
    public boolean isTerminated() {
      return inner.isTerminated();
    }

    @Override
    public ManagedChannel shutdownNow() {
      return inner.shutdownNow();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
      return inner.awaitTermination(timeout, unit);
    }

    @Override
    public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
      return inner.newCall(method, options);
    }

    @Override
    public String authority() {
      return inner.authority();
    }
  }

  @Test
  void reRegisteringAndRetryingResetTheConnectBackoffOfTheCachedChannel() throws Exception {
    List<RecordingChannel> opened = new ArrayList<>();
    CoordinatorConfig config = CoordinatorConfig.builder().dataDir(dir).build();
    try (LogStore store = LogStore.open(config);
        DecisionLog log =
            new DecisionLog(store, config.durability(), config.maxBatchSize(), ok -> {});
        ParticipantDirectory directory =
            new ParticipantDirectory(
                log,
                Clock.systemUTC(),
                address -> {
                  RecordingChannel c = new RecordingChannel();
                  opened.add(c);
                  return c;
                })) {
      directory.register("orders", "127.0.0.1:7103").get(10, TimeUnit.SECONDS);
      RecordingChannel channel = (RecordingChannel) directory.channel("orders").orElseThrow();
      assertEquals(0, channel.resets, "a first call needs no reset");

      // The participant restarts at the same address and registers again.
      directory.register("orders", "127.0.0.1:7103").get(10, TimeUnit.SECONDS);
      assertEquals(1, channel.resets, "re-registering resets the cached channel's backoff");
      assertSame(channel, directory.channel("orders").orElseThrow(), "the channel is reused");

      assertTrue(directory.channelForRetry("orders").isPresent());
      assertEquals(2, channel.resets, "a phase-2 retry resets it too");

      // Moved to a new address: a new channel; the old one is not touched.
      directory.register("orders", "127.0.0.1:7203").get(10, TimeUnit.SECONDS);
      assertEquals(2, channel.resets);
      RecordingChannel moved = (RecordingChannel) directory.channel("orders").orElseThrow();
      assertEquals(2, opened.size());
      assertEquals(0, moved.resets);
    }
  }
}
