package dev.twopc.coordinator.cli;

import com.google.protobuf.Timestamp;
import dev.twopc.proto.v1.CommitBranchRequest;
import dev.twopc.proto.v1.CommitBranchResponse;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.ListPreparedResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.PrepareResponse;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.proto.v1.RollbackBranchResponse;
import dev.twopc.proto.v1.Vote;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted participant on a loopback Netty server: votes YES, keeps prepared branches in
 * memory, and fails Commit with UNAVAILABLE while {@link #failCommits} is set.
 */
final class FakeParticipant implements AutoCloseable {
  final String name;
  final AtomicBoolean failCommits = new AtomicBoolean();
  final AtomicInteger commits = new AtomicInteger();
  final AtomicInteger failedCommits = new AtomicInteger();
  final AtomicInteger rollbacks = new AtomicInteger();
  /** Prepared and not yet committed or rolled back: tx id to when. */
  final Map<String, Instant> prepared = new ConcurrentHashMap<>();
  private final Server server;

  private FakeParticipant(String name) throws IOException {
    this.name = name;
    this.server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
        .addService(new Service())
        .build()
        .start();
  }

  static FakeParticipant start(String name) throws IOException {
    return new FakeParticipant(name);
  }

  String address() {
    return "localhost:" + server.getPort();
  }

  /** Coordinator.RegisterParticipant(name, address). */
  FakeParticipant registerWith(String coordinatorTarget) {
    ManagedChannel ch = ManagedChannelBuilder.forTarget(coordinatorTarget).usePlaintext().build();
    try {
      CoordinatorGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .registerParticipant(RegisterParticipantRequest.newBuilder()
              .setName(name).setAddress(address()).build());
    } finally {
      ch.shutdownNow();
    }
    return this;
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }

  private final class Service extends ParticipantGrpc.ParticipantImplBase {
    @Override
    public void prepare(PrepareRequest req, StreamObserver<PrepareResponse> out) {
      prepared.putIfAbsent(req.getTxId(), Instant.now());
      out.onNext(PrepareResponse.newBuilder().setVote(Vote.VOTE_YES).build());
      out.onCompleted();
    }

    @Override
    public void commit(CommitBranchRequest req, StreamObserver<CommitBranchResponse> out) {
      if (failCommits.get()) {
        failedCommits.incrementAndGet();
        out.onError(Status.UNAVAILABLE.withDescription("fake participant " + name + " is down")
            .asRuntimeException());
        return;
      }
      prepared.remove(req.getTxId());
      commits.incrementAndGet();
      out.onNext(CommitBranchResponse.newBuilder().setOutcome(Outcome.OUTCOME_COMMITTED).build());
      out.onCompleted();
    }

    @Override
    public void rollback(RollbackBranchRequest req, StreamObserver<RollbackBranchResponse> out) {
      prepared.remove(req.getTxId());
      rollbacks.incrementAndGet();
      out.onNext(RollbackBranchResponse.getDefaultInstance());
      out.onCompleted();
    }

    @Override
    public void listPrepared(ListPreparedRequest req, StreamObserver<ListPreparedResponse> out) {
      ListPreparedResponse.Builder r = ListPreparedResponse.newBuilder();
      Instant now = Instant.now();
      prepared.forEach((tx, at) -> {
        java.time.Duration age = java.time.Duration.between(at, now);
        r.addBranches(PreparedBranch.newBuilder()
            .setTxId(tx)
            .setParticipant(name)
            .setPreparedAt(Timestamp.newBuilder().setSeconds(at.getEpochSecond())
                .setNanos(at.getNano()))
            .setAge(com.google.protobuf.Duration.newBuilder().setSeconds(age.getSeconds())
                .setNanos(age.getNano()))
            .addLockKeys("sku-1")
            .setCoordinator("localhost:7000")
            .setOutcomeQueries(2)
            .setLastError("UNAVAILABLE: coordinator unreachable"));
      });
      out.onNext(r.build());
      out.onCompleted();
    }
  }
}
