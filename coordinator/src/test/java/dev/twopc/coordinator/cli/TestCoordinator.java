package dev.twopc.coordinator.cli;

import com.google.protobuf.ByteString;
import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.testing.InProcessCoordinator;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.MiniCluster;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real coordinator over gRPC on an ephemeral port, its log in a temp dir, for the CLI tests: a
 * {@link MiniCluster} with the in-process launcher and slower retries than the protocol tests'.
 */
final class TestCoordinator implements AutoCloseable {
  private final MiniCluster cluster;
  final ManagedChannel channel;

  private TestCoordinator(MiniCluster cluster) {
    this.cluster = cluster;
    this.channel = cluster.channel();
  }

  static TestCoordinator start(Path dir) throws IOException {
    return new TestCoordinator(
        MiniCluster.start(dir, InProcessCoordinator.launcher(TestCoordinator::slower)));
  }

  /** As {@link #start}, serving /metrics on an ephemeral port ({@link #metricsUrl}). */
  static TestCoordinator startWithMetrics(Path dir) throws IOException {
    return new TestCoordinator(
        MiniCluster.start(
            dir,
            InProcessCoordinator.launcher(
                b -> slower(b).metricsPort(0).parkAfter(Duration.ofMillis(300)))));
  }

  private static CoordinatorConfig.Builder slower(CoordinatorConfig.Builder b) {
    return b.phase2BackoffBase(Duration.ofMillis(20)).phase2BackoffCap(Duration.ofMillis(200));
  }

  String metricsUrl() {
    return "http://127.0.0.1:"
        + InProcessCoordinator.server(cluster).metricsPort().getAsInt()
        + "/metrics";
  }

  String target() {
    return cluster.target();
  }

  /** The coordinator's data directory (its embedded log). */
  Path dataDir() {
    return cluster.dataDir();
  }

  /** Starts a scripted participant and registers it here. */
  FakeParticipant participant(String name) throws IOException {
    return cluster.participant(name);
  }

  AdminGrpc.AdminBlockingStub admin() {
    return cluster.admin();
  }

  CoordinatorGrpc.CoordinatorBlockingStub stub() {
    return cluster.stub();
  }

  static ExecuteRequest executeRequest(boolean waitForCompletion, FakeParticipant... branches) {
    ExecuteRequest.Builder req =
        ExecuteRequest.newBuilder().setWaitForCompletion(waitForCompletion);
    for (FakeParticipant p : branches) {
      req.addBranches(
          BranchRequest.newBuilder()
              .setParticipant(p.name())
              .setPayload(ByteString.copyFromUtf8("work for " + p.name())));
    }
    return req.build();
  }

  /** Execute; answers as soon as the decision is durable (phase 2 may still be running). */
  ExecuteResponse execute(FakeParticipant... branches) {
    return stub().execute(executeRequest(false, branches));
  }

  /** Execute and wait until every branch acknowledged phase 2. */
  ExecuteResponse executeAndWait(FakeParticipant... branches) {
    return stub().execute(executeRequest(true, branches));
  }

  /** Begin, then enlist each participant: an ACTIVE transaction nobody has voted in yet. */
  String begin(FakeParticipant... branches) {
    String tx =
        stub()
            .begin(
                BeginRequest.newBuilder()
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(600))
                    .build())
            .getTxId();
    for (FakeParticipant p : branches) {
      stub().enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant(p.name()).build());
    }
    return tx;
  }

  @Override
  public void close() {
    cluster.close();
  }
}
