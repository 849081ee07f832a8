package dev.twopc.coordinator;

import dev.twopc.coordinator.testing.Clients;
import dev.twopc.coordinator.testing.TestStore;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.testing.FakeParticipant;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** One coordinator on a loopback port with fake participants, cleaned up on close. */
final class CoordinatorHarness implements AutoCloseable {
  final CoordinatorServer server;
  final ManagedChannel channel;
  final List<FakeParticipant> participants = new ArrayList<>();

  /** A coordinator whose decision log is in {@code store}; {@code tweak} may change the rest. */
  CoordinatorHarness(TestStore store, UnaryOperator<CoordinatorConfig.Builder> tweak)
      throws IOException {
    this(store.apply(defaults()), tweak);
  }

  CoordinatorHarness(TestStore store) throws IOException {
    this(store, b -> b);
  }

  /** A coordinator with its RocksDB log under {@code dir}. */
  CoordinatorHarness(Path dir, UnaryOperator<CoordinatorConfig.Builder> tweak) throws IOException {
    this(defaults().dataDir(dir), tweak);
  }

  CoordinatorHarness(Path dir) throws IOException {
    this(dir, b -> b);
  }

  private CoordinatorHarness(
      CoordinatorConfig.Builder b, UnaryOperator<CoordinatorConfig.Builder> tweak)
      throws IOException {
    server = CoordinatorServer.start(tweak.apply(b).build());
    channel = Clients.channel(server.target());
  }

  private static CoordinatorConfig.Builder defaults() {
    return CoordinatorConfig.builder()
        .host("127.0.0.1")
        .port(0)
        .durability(Durability.PROCESS)
        .phase2BackoffBase(Duration.ofMillis(10))
        .phase2BackoffCap(Duration.ofMillis(100))
        .prepareTimeout(Duration.ofSeconds(2));
  }

  FakeParticipant participant(String name) throws IOException {
    FakeParticipant p = FakeParticipant.start(name);
    participants.add(p);
    p.register(server.target());
    return p;
  }

  CoordinatorGrpc.CoordinatorBlockingStub coordinator() {
    return CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  AdminGrpc.AdminBlockingStub admin() {
    return AdminGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    participants.forEach(FakeParticipant::close);
    server.close();
  }
}
