package dev.twopc.coordinator.cli;

import com.google.protobuf.ByteString;
import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.Durability;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.testing.FakeParticipant;
import dev.twopc.testing.Shutdown;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A real coordinator over gRPC on an ephemeral port, with its H2 log in a temp dir. */
final class TestCoordinator implements AutoCloseable {
  final CoordinatorServer server;
  final ManagedChannel channel;

  private TestCoordinator(CoordinatorServer server) {
    this.server = server;
    this.channel = ManagedChannelBuilder.forTarget(server.target()).usePlaintext().build();
  }

  static TestCoordinator start(Path dataDir) throws IOException {
    return new TestCoordinator(CoordinatorServer.start(config(dataDir).build()));
  }

  /** As {@link #start}, serving /metrics on an ephemeral port ({@link #metricsUrl}). */
  static TestCoordinator startWithMetrics(Path dataDir) throws IOException {
    return new TestCoordinator(
        CoordinatorServer.start(
            config(dataDir).metricsPort(0).parkAfter(Duration.ofMillis(300)).build()));
  }

  private static CoordinatorConfig.Builder config(Path dataDir) {
    return CoordinatorConfig.builder()
        .port(0)
        .dataDir(dataDir)
        .durability(Durability.PROCESS)
        .phase2BackoffBase(Duration.ofMillis(20))
        .phase2BackoffCap(Duration.ofMillis(200));
  }

  String metricsUrl() {
    return "http://127.0.0.1:" + server.metricsPort().getAsInt() + "/metrics";
  }

  String target() {
    return server.target();
  }

  /** Starts a scripted participant and registers it here. */
  FakeParticipant participant(String name) throws IOException {
    FakeParticipant p = FakeParticipant.start(name);
    p.register(target());
    return p;
  }

  dev.twopc.proto.v1.AdminGrpc.AdminBlockingStub admin() {
    return dev.twopc.proto.v1.AdminGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  CoordinatorGrpc.CoordinatorBlockingStub stub() {
    return CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
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
    Shutdown.now(channel);
    server.close();
  }
}
