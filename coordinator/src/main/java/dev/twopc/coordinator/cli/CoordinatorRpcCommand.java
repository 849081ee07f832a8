package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.CoordinatorGrpc;
import io.grpc.ManagedChannel;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;

/** A command that talks to the coordinator: {@code --coordinator HOST:PORT}. */
abstract class CoordinatorRpcCommand extends RpcCommand {
  @Option(
      names = "--coordinator",
      paramLabel = "HOST:PORT",
      defaultValue = "${TWOPC_COORDINATOR:-localhost:7000}",
      converter = HostPort.class,
      description =
          "The coordinator, or several nodes of one, comma-separated: the first that connects"
              + " answers (env TWOPC_COORDINATOR, default ${DEFAULT-VALUE}).")
  String coordinator;

  @Override
  String target() {
    return coordinator;
  }

  @Override
  String peer() {
    return "coordinator";
  }

  AdminGrpc.AdminBlockingStub admin(ManagedChannel channel) {
    return AdminGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  CoordinatorGrpc.CoordinatorBlockingStub coordinatorStub(ManagedChannel channel) {
    return CoordinatorGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
