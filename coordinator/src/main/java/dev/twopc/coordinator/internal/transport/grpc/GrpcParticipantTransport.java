package dev.twopc.coordinator.internal.transport.grpc;

import com.google.protobuf.ByteString;
import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.model.Vote;
import dev.twopc.coordinator.internal.transport.BranchCall;
import dev.twopc.coordinator.internal.transport.CallFailed;
import dev.twopc.coordinator.internal.transport.OnePhaseCall;
import dev.twopc.coordinator.internal.transport.OnePhaseReply;
import dev.twopc.coordinator.internal.transport.ParticipantTransport;
import dev.twopc.coordinator.internal.transport.PrepareCall;
import dev.twopc.coordinator.internal.transport.VoteReply;
import dev.twopc.proto.v1.CommitBranchRequest;
import dev.twopc.proto.v1.CommitBranchResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.ParticipantGrpc.ParticipantStub;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.PrepareResponse;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.proto.v1.RollbackBranchResponse;
import dev.twopc.telemetry.Tracing;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@link ParticipantTransport} over unary gRPC calls on the {@link ParticipantDirectory}'s
 * channels. Each call gets a span under the transaction's trace, and runs outside the caller's gRPC
 * context: the transaction outlives the client call that started it, so its prepares and phase 2
 * must not inherit that call's cancellation. Replies and failures also update what the directory
 * shows of the participant (last seen, last error).
 */
public final class GrpcParticipantTransport implements ParticipantTransport {
  private final ParticipantDirectory directory;
  private final Supplier<String> advertisedAddress;
  private final Tracing tracing;

  /**
   * @param advertisedAddress where participants reach this coordinator (sent with each Prepare, so
   *     a participant in doubt knows whom to ask)
   */
  public GrpcParticipantTransport(
      ParticipantDirectory directory, Supplier<String> advertisedAddress, Tracing tracing) {
    this.directory = directory;
    this.advertisedAddress = advertisedAddress;
    this.tracing = tracing;
  }

  @Override
  public boolean knows(String participant) {
    return directory.isRegistered(participant);
  }

  @Override
  public CompletableFuture<VoteReply> prepare(PrepareCall c) {
    Optional<ManagedChannel> channel = directory.channel(c.participant());
    if (channel.isEmpty()) {
      return CompletableFuture.failedFuture(CallFailed.notRegistered(c.participant()));
    }
    PrepareRequest req =
        PrepareRequest.newBuilder()
            .setTxId(c.txId())
            .setParticipant(c.participant())
            .setPayload(c.payload() == null ? ByteString.EMPTY : ByteString.copyFrom(c.payload()))
            .setTimeout(duration(c.timeoutMillis()))
            .setCoordinator(advertisedAddress.get())
            .setEnlisted(c.enlisted())
            .setStaged(c.staged())
            .build();
    CompletableFuture<VoteReply> reply = new CompletableFuture<>();
    Span span = tracing.start("twopc.prepare", c.trace(), c.txId(), c.participant());
    call(
        c.trace(),
        span,
        stub(channel.get(), c.timeoutMillis()),
        (stub, observer) -> stub.prepare(req, observer),
        (PrepareResponse r) -> {
          span.setAttribute("twopc.vote", r.getVote().name());
          return new VoteReply(vote(r), r.getReason());
        },
        c.participant(),
        reply);
    return reply;
  }

  @Override
  public CompletableFuture<OnePhaseReply> commitOnePhase(OnePhaseCall c) {
    Optional<ManagedChannel> channel = directory.channel(c.participant());
    if (channel.isEmpty()) {
      return CompletableFuture.failedFuture(CallFailed.notRegistered(c.participant()));
    }
    CommitBranchRequest req =
        CommitBranchRequest.newBuilder()
            .setTxId(c.txId())
            .setParticipant(c.participant())
            .setOnePhase(true)
            .setPayload(ByteString.copyFrom(c.payload()))
            .setTimeout(duration(c.timeoutMillis()))
            .build();
    CompletableFuture<OnePhaseReply> reply = new CompletableFuture<>();
    Span span = tracing.start("twopc.one_phase_commit", c.trace(), c.txId(), c.participant());
    call(
        c.trace(),
        span,
        stub(channel.get(), c.timeoutMillis()),
        (stub, observer) -> stub.commit(req, observer),
        (CommitBranchResponse r) -> {
          span.setAttribute("twopc.outcome", r.getOutcome().name());
          return new OnePhaseReply(r.getOutcome() == Outcome.OUTCOME_COMMITTED, r.getReason());
        },
        c.participant(),
        reply);
    return reply;
  }

  @Override
  public CompletableFuture<OnePhaseReply> askOnePhase(BranchCall c) {
    Optional<ManagedChannel> channel = channel(c);
    if (channel.isEmpty()) {
      return CompletableFuture.failedFuture(CallFailed.notRegistered(c.participant()));
    }
    RollbackBranchRequest req =
        RollbackBranchRequest.newBuilder()
            .setTxId(c.txId())
            .setParticipant(c.participant())
            .setOnePhaseOutcome(true)
            .build();
    CompletableFuture<OnePhaseReply> reply = new CompletableFuture<>();
    call(
        c.trace(),
        Span.getInvalid(),
        stub(channel.get(), c.timeoutMillis()),
        (ParticipantStub stub, StreamObserver<RollbackBranchResponse> observer) ->
            stub.rollback(req, observer),
        (RollbackBranchResponse r) ->
            r.getOutcome() == Outcome.OUTCOME_COMMITTED
                ? new OnePhaseReply(true, "")
                : new OnePhaseReply(false, "rolled back after the coordinator restarted"),
        c.participant(),
        reply);
    return reply;
  }

  @Override
  public CompletableFuture<Void> commit(BranchCall c) {
    CommitBranchRequest req =
        CommitBranchRequest.newBuilder().setTxId(c.txId()).setParticipant(c.participant()).build();
    return phaseTwo(
        c,
        "twopc.phase2_commit",
        (ParticipantStub s, StreamObserver<CommitBranchResponse> observer) ->
            s.commit(req, observer));
  }

  @Override
  public CompletableFuture<Void> rollback(BranchCall c) {
    RollbackBranchRequest req =
        RollbackBranchRequest.newBuilder()
            .setTxId(c.txId())
            .setParticipant(c.participant())
            .build();
    return phaseTwo(
        c,
        "twopc.phase2_rollback",
        (ParticipantStub s, StreamObserver<RollbackBranchResponse> observer) ->
            s.rollback(req, observer));
  }

  /** A phase-2 call: any reply is the acknowledgement. */
  private <R> CompletableFuture<Void> phaseTwo(BranchCall c, String spanName, Start<R> start) {
    Optional<ManagedChannel> channel = channel(c);
    if (channel.isEmpty()) {
      return CompletableFuture.failedFuture(CallFailed.notRegistered(c.participant()));
    }
    CompletableFuture<Void> ack = new CompletableFuture<>();
    Span span = tracing.start(spanName, c.trace(), c.txId(), c.participant());
    span.setAttribute("twopc.attempt", c.attempt());
    call(
        c.trace(),
        span,
        stub(channel.get(), c.timeoutMillis()),
        start,
        r -> (Void) null,
        c.participant(),
        ack);
    return ack;
  }

  /** A retry connects now rather than when gRPC's reconnect backoff would let it. */
  private Optional<ManagedChannel> channel(BranchCall c) {
    return c.attempt() > 1
        ? directory.channelForRetry(c.participant())
        : directory.channel(c.participant());
  }

  private static ParticipantStub stub(ManagedChannel channel, long timeoutMillis) {
    return ParticipantGrpc.newStub(channel)
        .withDeadlineAfter(Math.max(1, timeoutMillis), TimeUnit.MILLISECONDS);
  }

  /** How a call is started on a stub with its observer. */
  private interface Start<R> {
    void start(ParticipantStub stub, StreamObserver<R> observer);
  }

  private <R, T> void call(
      io.opentelemetry.context.Context trace,
      Span span,
      ParticipantStub stub,
      Start<R> start,
      Function<R, T> toReply,
      String participant,
      CompletableFuture<T> reply) {
    StreamObserver<R> observer =
        new StreamObserver<>() {
          @Override
          public void onNext(R r) {
            T value = toReply.apply(r);
            span.end();
            directory.seen(participant);
            reply.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            CallFailed failed = new CallFailed(s.getCode().name(), s.getDescription(), true);
            Tracing.end(span, failed.getMessage());
            directory.failed(participant, Limits.text(failed.getMessage(), Limits.LAST_ERROR));
            reply.completeExceptionally(failed);
          }

          @Override
          public void onCompleted() {}
        };
    Context.ROOT.run(() -> tracing.runIn(trace, span, () -> start.start(stub, observer)));
  }

  private static Vote vote(PrepareResponse r) {
    return switch (r.getVote()) {
      case VOTE_YES -> Vote.YES;
      case VOTE_READ_ONLY -> Vote.READ_ONLY;
      default -> Vote.NO;
    };
  }

  private static com.google.protobuf.Duration duration(long millis) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(millis / 1000)
        .setNanos((int) (millis % 1000) * 1_000_000)
        .build();
  }
}
