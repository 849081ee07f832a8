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
    return new TestCoordinator(CoordinatorServer.start(CoordinatorConfig.builder()
        .port(0)
        .dataDir(dataDir)
        .durability(Durability.PROCESS)
        .phase2BackoffBase(Duration.ofMillis(20))
        .phase2BackoffCap(Duration.ofMillis(200))
        .build()));
  }

  String target() {
    return server.target();
  }

  CoordinatorGrpc.CoordinatorBlockingStub stub() {
    return CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** Execute with one branch per participant; answers as soon as the decision is durable. */
  ExecuteResponse execute(String... participants) {
    ExecuteRequest.Builder req = ExecuteRequest.newBuilder();
    for (String p : participants) {
      req.addBranches(BranchRequest.newBuilder().setParticipant(p)
          .setPayload(ByteString.copyFromUtf8("work for " + p)));
    }
    return stub().execute(req.build());
  }

  /** Begin, then enlist each participant: an ACTIVE transaction nobody has voted in. */
  String begin(String... participants) {
    String tx = stub().begin(BeginRequest.newBuilder()
        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(600)).build()).getTxId();
    for (String p : participants) {
      stub().enlist(EnlistRequest.newBuilder().setTxId(tx).setParticipant(p).build());
    }
    return tx;
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }
}
