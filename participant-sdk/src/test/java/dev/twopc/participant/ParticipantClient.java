package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.ByteString;
import dev.twopc.proto.v1.CommitBranchRequest;
import dev.twopc.proto.v1.CommitBranchResponse;
import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.ListPreparedResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.PrepareResponse;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.testing.Shutdown;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.util.concurrent.TimeUnit;

/** Plays the coordinator's side of the Participant service in tests, over real gRPC. */
final class ParticipantClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final String participant;
  private final String coordinator;

  ParticipantClient(int port, String participant, String coordinator) {
    this.channel =
        Grpc.newChannelBuilder("localhost:" + port, InsecureChannelCredentials.create()).build();
    this.participant = participant;
    this.coordinator = coordinator;
  }

  ParticipantGrpc.ParticipantBlockingStub stub() {
    return ParticipantGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  PrepareResponse prepare(String txId, String payload) {
    return prepare(txId, payload, false);
  }

  /** {@code staged}: as the coordinator sends it for a branch the participant enlisted itself. */
  PrepareResponse prepare(String txId, String payload, boolean staged) {
    return stub()
        .prepare(
            PrepareRequest.newBuilder()
                .setTxId(txId)
                .setParticipant(participant)
                .setPayload(ByteString.copyFrom(payload, UTF_8))
                .setCoordinator(coordinator)
                .setEnlisted(staged)
                .setStaged(staged)
                .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(10))
                .build());
  }

  CommitBranchResponse commit(String txId) {
    return stub()
        .commit(CommitBranchRequest.newBuilder().setTxId(txId).setParticipant(participant).build());
  }

  CommitBranchResponse commitOnePhase(String txId, String payload) {
    return stub()
        .commit(
            CommitBranchRequest.newBuilder()
                .setTxId(txId)
                .setParticipant(participant)
                .setOnePhase(true)
                .setPayload(ByteString.copyFrom(payload, UTF_8))
                .build());
  }

  void rollback(String txId) {
    stub()
        .rollback(
            RollbackBranchRequest.newBuilder().setTxId(txId).setParticipant(participant).build());
  }

  /** What a restarted coordinator asks about a one-phase commit whose answer it lost. */
  Outcome onePhaseOutcome(String txId) {
    return stub()
        .rollback(
            RollbackBranchRequest.newBuilder()
                .setTxId(txId)
                .setParticipant(participant)
                .setOnePhaseOutcome(true)
                .build())
        .getOutcome();
  }

  ListPreparedResponse listPrepared() {
    return stub().listPrepared(ListPreparedRequest.getDefaultInstance());
  }

  @Override
  public void close() {
    Shutdown.now(channel);
  }
}
