package dev.twopc.bench.internal;

import dev.twopc.proto.v1.BranchBatch;
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.BranchReply;
import dev.twopc.proto.v1.CallError;
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
import dev.twopc.proto.v1.ReplyBatch;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.proto.v1.RollbackBranchResponse;
import dev.twopc.proto.v1.Vote;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A participant with no durable work, for measuring the coordinator alone (what the peers' "empty"
 * transactions measure): Prepare votes YES from memory, Commit and Rollback forget the branch, a
 * one-phase Commit commits. It keeps the prepared ids only so that ListPrepared tells the bench
 * when phase 2 is done. Plaintext on loopback; handlers run on the transport thread, as none of
 * them blocks.
 */
public final class MemoryParticipant implements AutoCloseable {
  private final String name;
  private final Server server;
  private final Set<String> prepared = ConcurrentHashMap.newKeySet();

  /** One-phase commits, for a restarted coordinator's one_phase_outcome question. */
  private final Set<String> onePhaseCommitted = ConcurrentHashMap.newKeySet();

  private MemoryParticipant(String name, int port) throws IOException {
    this.name = name;
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
            .directExecutor()
            .addService(new Service())
            .build()
            .start();
  }

  /** Serves on {@code port} (0: a free one) on 127.0.0.1. */
  public static MemoryParticipant start(String name, int port) throws IOException {
    return new MemoryParticipant(name, port);
  }

  public String address() {
    return "localhost:" + server.getPort();
  }

  /**
   * Registers with the coordinator at {@code coordinator}, retrying UNAVAILABLE until {@code
   * timeout} has passed.
   */
  public void register(String coordinator, Duration timeout) throws InterruptedException {
    ManagedChannel ch =
        Channels.open(Channels.first(coordinator), InsecureChannelCredentials.create());
    try {
      long until = System.nanoTime() + timeout.toNanos();
      while (true) {
        try {
          CoordinatorGrpc.newBlockingStub(ch)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .registerParticipant(
                  RegisterParticipantRequest.newBuilder()
                      .setName(name)
                      .setAddress(address())
                      .build());
          return;
        } catch (StatusRuntimeException e) {
          if (System.nanoTime() > until) {
            throw e;
          }
          Thread.sleep(100); // the coordinator is still starting
        }
      }
    } finally {
      ch.shutdownNow();
    }
  }

  @Override
  public void close() {
    server.shutdownNow();
  }

  private final class Service extends ParticipantGrpc.ParticipantImplBase {
    @Override
    public void prepare(PrepareRequest req, StreamObserver<PrepareResponse> out) {
      prepared.add(req.getTxId());
      out.onNext(PrepareResponse.newBuilder().setVote(Vote.VOTE_YES).build());
      out.onCompleted();
    }

    @Override
    public void commit(CommitBranchRequest req, StreamObserver<CommitBranchResponse> out) {
      if (req.getOnePhase()) {
        onePhaseCommitted.add(req.getTxId());
      } else {
        prepared.remove(req.getTxId());
      }
      out.onNext(CommitBranchResponse.newBuilder().setOutcome(Outcome.OUTCOME_COMMITTED).build());
      out.onCompleted();
    }

    @Override
    public void rollback(RollbackBranchRequest req, StreamObserver<RollbackBranchResponse> out) {
      prepared.remove(req.getTxId());
      boolean committed = req.getOnePhaseOutcome() && onePhaseCommitted.contains(req.getTxId());
      out.onNext(
          RollbackBranchResponse.newBuilder()
              .setOutcome(committed ? Outcome.OUTCOME_COMMITTED : Outcome.OUTCOME_ABORTED)
              .build());
      out.onCompleted();
    }

    /**
     * The coordinator's stream: each batch is answered at once with one batch, on the transport
     * thread (nothing here waits), in the order of the messages.
     */
    @Override
    public StreamObserver<BranchBatch> exchange(StreamObserver<ReplyBatch> out) {
      return new StreamObserver<>() {
        @Override
        public void onNext(BranchBatch batch) {
          ReplyBatch.Builder replies = ReplyBatch.newBuilder();
          for (BranchMessage m : batch.getMessagesList()) {
            BranchReply.Builder r = replies.addRepliesBuilder().setId(m.getId());
            switch (m.getBodyCase()) {
              case PREPARE -> {
                prepared.add(m.getPrepare().getTxId());
                r.setPrepare(PrepareResponse.newBuilder().setVote(Vote.VOTE_YES));
              }
              case COMMIT -> {
                prepared.remove(m.getCommit().getTxId());
                r.setCommit(
                    CommitBranchResponse.newBuilder().setOutcome(Outcome.OUTCOME_COMMITTED));
              }
              case ROLLBACK -> {
                prepared.remove(m.getRollback().getTxId());
                r.setRollback(
                    RollbackBranchResponse.newBuilder().setOutcome(Outcome.OUTCOME_ABORTED));
              }
              default ->
                  r.setError(
                      CallError.newBuilder()
                          .setCode(Status.Code.INVALID_ARGUMENT.value())
                          .setDescription("an empty branch message"));
            }
          }
          out.onNext(replies.build());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }

    @Override
    public void listPrepared(ListPreparedRequest req, StreamObserver<ListPreparedResponse> out) {
      ListPreparedResponse.Builder b = ListPreparedResponse.newBuilder();
      for (String tx : prepared) {
        b.addBranches(PreparedBranch.newBuilder().setTxId(tx).setParticipant(name));
      }
      out.onNext(b.build());
      out.onCompleted();
    }
  }
}
