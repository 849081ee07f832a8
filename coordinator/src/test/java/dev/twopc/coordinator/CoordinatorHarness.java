package dev.twopc.coordinator;

import dev.twopc.coordinator.testing.InProcessCoordinator;
import dev.twopc.coordinator.testing.TestStore;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.MiniCluster;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * One in-process coordinator with fake participants, for the coordinator's own tests: a {@link
 * MiniCluster} with the {@link InProcessCoordinator} launcher, cleaned up on close.
 */
final class CoordinatorHarness implements AutoCloseable {
  final MiniCluster cluster;

  /** A coordinator whose decision log is in {@code store}; {@code tweak} may change the rest. */
  CoordinatorHarness(TestStore store, UnaryOperator<CoordinatorConfig.Builder> tweak)
      throws IOException {
    this(Files.createTempDirectory("twopc-harness"), b -> tweak.apply(store.apply(b)));
  }

  CoordinatorHarness(TestStore store) throws IOException {
    this(store, b -> b);
  }

  /** A coordinator with its RocksDB log under {@code dir}. */
  CoordinatorHarness(Path dir, UnaryOperator<CoordinatorConfig.Builder> tweak) throws IOException {
    cluster = MiniCluster.start(dir, InProcessCoordinator.launcher(tweak));
  }

  /** The coordinator running now (a new one after {@link MiniCluster#restart}). */
  CoordinatorServer server() {
    return InProcessCoordinator.server(cluster);
  }

  ManagedChannel channel() {
    return cluster.channel();
  }

  CoordinatorHarness(Path dir) throws IOException {
    this(dir, b -> b);
  }

  FakeParticipant participant(String name) throws IOException {
    return cluster.participant(name);
  }

  CoordinatorGrpc.CoordinatorBlockingStub coordinator() {
    return cluster.stub();
  }

  AdminGrpc.AdminBlockingStub admin() {
    return cluster.admin();
  }

  @Override
  public void close() {
    cluster.close();
  }
}
