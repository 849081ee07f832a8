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
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.BranchReply;
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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@link ParticipantTransport} over gRPC on the {@link ParticipantDirectory}'s channels: Prepare,
 * Commit and Rollback on one Exchange stream per participant ({@link ParticipantStreams}) when
 * given a stream timer and the participant serves it, else, and for one-phase calls, unary calls.
 * Each call gets a span under the transaction's trace, and runs outside the caller's gRPC context:
 * the transaction outlives the client call that started it, so its prepares and phase 2 must not
 * inherit that call's cancellation. Replies and failures also update what the directory shows of
 * the participant (last seen, last error).
 */
public final class GrpcParticipantTransport implements ParticipantTransport {
  private final ParticipantDirectory directory;
  private final Supplier<String> advertisedAddress;
  private final Tracing tracing;
  private final ParticipantStreams streams; // null: unary calls only
  private final CallRecorder recorder;

  /** How a message sent on a stream is counted (a unary call is counted by its interceptor). */
  @FunctionalInterface
  public interface CallRecorder {
    void record(String participant, String method, String code, long nanos);
  }

  /** Unary calls only (the engine's tests). */
  public GrpcParticipantTransport(
      ParticipantDirectory directory, Supplier<String> advertisedAddress, Tracing tracing) {
    this(directory, advertisedAddress, tracing, null, (p, m, c, n) -> {});
  }

  /**
   * @param advertisedAddress where participants reach this coordinator (sent with each Prepare, so
   *     a participant in doubt knows whom to ask)
   * @param streamTimer with it, Prepare, Commit and Rollback travel on one Exchange stream per
   *     participant (their deadlines kept on this timer); without it (null), as unary calls
   * @param recorder counts each message sent on a stream
   */
  public GrpcParticipantTransport(
      ParticipantDirectory directory,
      Supplier<String> advertisedAddress,
      Tracing tracing,
      ScheduledExecutorService streamTimer,
      CallRecorder recorder) {
    this.directory = directory;
    this.advertisedAddress = advertisedAddress;
    this.tracing = tracing;
    this.streams = streamTimer == null ? null : new ParticipantStreams(streamTimer);
    this.recorder = recorder;
  }

  /**
   * Cancels the participants' streams, failing what is pending on them (call it before the
   * directory closes its channels, which would otherwise wait for the streams to end).
   */
  public void close() {
    if (streams != null) {
      streams.close();
    }
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
    Function<PrepareResponse, VoteReply> toReply =
        r -> {
          span.setAttribute("twopc.vote", r.getVote().name());
          return new VoteReply(vote(r), r.getReason());
        };
    Runnable unary =
        () ->
            call(
                c.trace(),
                span,
                stub(channel.get(), c.timeoutMillis()),
                (stub, observer) -> stub.prepare(req, observer),
                toReply,
                c.participant(),
                reply);
    exchange(
        c.participant(),
        channel.get(),
        "Prepare",
        BranchMessage.newBuilder().setPrepare(req),
        c.timeoutMillis(),
        c.trace(),
        span,
        BranchReply.BodyCase.PREPARE,
        r -> toReply.apply(r.getPrepare()),
        unary,
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
        "Commit",
        BranchMessage.newBuilder().setCommit(req),
        BranchReply.BodyCase.COMMIT,
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
        "Rollback",
        BranchMessage.newBuilder().setRollback(req),
        BranchReply.BodyCase.ROLLBACK,
        (ParticipantStub s, StreamObserver<RollbackBranchResponse> observer) ->
            s.rollback(req, observer));
  }

  /** A phase-2 call: any reply is the acknowledgement. */
  private <R> CompletableFuture<Void> phaseTwo(
      BranchCall c,
      String spanName,
      String method,
      BranchMessage.Builder message,
      BranchReply.BodyCase expected,
      Start<R> start) {
    Optional<ManagedChannel> channel = channel(c);
    if (channel.isEmpty()) {
      return CompletableFuture.failedFuture(CallFailed.notRegistered(c.participant()));
    }
    CompletableFuture<Void> ack = new CompletableFuture<>();
    Span span = tracing.start(spanName, c.trace(), c.txId(), c.participant());
    span.setAttribute("twopc.attempt", c.attempt());
    Runnable unary =
        () ->
            call(
                c.trace(),
                span,
                stub(channel.get(), c.timeoutMillis()),
                start,
                r -> (Void) null,
                c.participant(),
                ack);
    exchange(
        c.participant(),
        channel.get(),
        method,
        message,
        c.timeoutMillis(),
        c.trace(),
        span,
        expected,
        r -> (Void) null,
        unary,
        ack);
    return ack;
  }

  /**
   * Sends {@code message} on the participant's stream, or as the {@code unary} call when there is
   * no stream to it or the message is large (a message the participant refuses as too large ends
   * its whole stream, failing the others on it); {@code toReply} reads a reply of the {@code
   * expected} kind.
   */
  private <T> void exchange(
      String participant,
      ManagedChannel channel,
      String method,
      BranchMessage.Builder message,
      long timeoutMillis,
      io.opentelemetry.context.Context trace,
      Span span,
      BranchReply.BodyCase expected,
      Function<BranchReply, T> toReply,
      Runnable unary,
      CompletableFuture<T> reply) {
    if (streams == null
        || !streams.usable(participant, channel)
        || (message.hasPrepare()
            && message.getPrepare().getPayload().size() > ParticipantStreams.MAX_MESSAGE_BYTES)) {
      unary.run();
      return;
    }
    long start = System.nanoTime();
    message.putAllTrace(tracing.inject(trace, span));
    CompletableFuture<?> unused =
        streams
            .send(participant, channel, message, timeoutMillis)
            .whenComplete(
                (r, error) -> {
                  CallFailed failed;
                  if (error == null && r.getBodyCase() == expected) {
                    T value = toReply.apply(r);
                    span.end();
                    directory.seen(participant);
                    recorder.record(participant, method, "OK", System.nanoTime() - start);
                    reply.complete(value);
                    return;
                  } else if (error == null && !r.hasError()) {
                    failed = new CallFailed("INTERNAL", "a reply of another kind", true);
                  } else if (error == null) {
                    Status s = Status.fromCodeValue(r.getError().getCode());
                    failed =
                        new CallFailed(
                            s.getCode().name(), emptyToNull(r.getError().getDescription()), true);
                  } else if (error instanceof CallFailed f
                      && f.code().equals(ParticipantStreams.UNSUPPORTED)
                      && !f.sent()) {
                    unary.run(); // nothing ran: the participant takes unary calls only
                    return;
                  } else {
                    failed =
                        error instanceof CallFailed f
                            ? f
                            : new CallFailed("INTERNAL", String.valueOf(error), true);
                  }
                  recorder.record(participant, method, failed.code(), System.nanoTime() - start);
                  fail(span, participant, failed, reply);
                });
  }

  private void fail(Span span, String participant, CallFailed failed, CompletableFuture<?> reply) {
    Tracing.end(span, failed.getMessage());
    directory.failed(participant, Limits.text(failed.getMessage(), Limits.LAST_ERROR));
    reply.completeExceptionally(failed);
  }

  private static String emptyToNull(String s) {
    return s.isEmpty() ? null : s;
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
            fail(
                span,
                participant,
                new CallFailed(s.getCode().name(), s.getDescription(), true),
                reply);
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
