package dev.twopc.participant;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.Durability;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.Shutdown;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The real coordinator, embedded, on an ephemeral (or given) port and a temp data dir. */
final class RealCoordinator implements AutoCloseable {
  private final CoordinatorServer server;
  private final ManagedChannel channel;

  private RealCoordinator(int port, Path dataDir) throws IOException {
    server =
        CoordinatorServer.start(
            CoordinatorConfig.builder()
                .port(port)
                .dataDir(dataDir)
                .durability(Durability.PROCESS)
                .phase2BackoffBase(Duration.ofMillis(20))
                .phase2BackoffCap(Duration.ofMillis(500))
                .build());
    channel = Grpc.newChannelBuilder(server.target(), InsecureChannelCredentials.create()).build();
  }

  static RealCoordinator start(Path dataDir) throws IOException {
    return new RealCoordinator(0, dataDir);
  }

  static RealCoordinator startOn(int port, Path dataDir) throws IOException {
    return new RealCoordinator(port, dataDir);
  }

  int port() {
    return server.port();
  }

  String target() {
    return server.target();
  }

  CoordinatorGrpc.CoordinatorBlockingStub stub() {
    return CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  boolean isRegistered(String name) {
    return stub()
        .listParticipants(ListParticipantsRequest.getDefaultInstance())
        .getParticipantsList()
        .stream()
        .anyMatch(p -> p.getName().equals(name));
  }

  TransactionView transaction(String txId) {
    return stub().getTransaction(GetTransactionRequest.newBuilder().setTxId(txId).build());
  }

  @Override
  public void close() {
    Shutdown.now(channel);
    server.close();
  }
}
