package dev.twopc.participant.internal;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import dev.twopc.participant.PreparedBranchInfo;
import dev.twopc.participant.Vote;
import dev.twopc.proto.v1.BranchBatch;
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.BranchReply;
import dev.twopc.proto.v1.CallError;
import dev.twopc.proto.v1.CommitBranchRequest;
import dev.twopc.proto.v1.CommitBranchResponse;
import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.ListPreparedResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.PrepareResponse;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.proto.v1.ReplyBatch;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.proto.v1.RollbackBranchResponse;
import dev.twopc.telemetry.Tracing;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Participant gRPC service: the only place branch results become gRPC statuses. */
public final class ParticipantService extends ParticipantGrpc.ParticipantImplBase {
  private static final Logger log = LoggerFactory.getLogger(ParticipantService.class);

  private final BranchEngine engine;

  private final ParticipantMetrics metrics;
  private final Tracing tracing;
  private final Executor executor;

  /** Untimed and untraced; a stream's messages run on the calling thread. */
  public ParticipantService(BranchEngine engine) {
    this(engine, ParticipantMetrics.disabled(), Tracing.off(), Runnable::run);
  }

  /**
   * With each operation timed in {@code metrics} and spanned in {@code tracing}; each message of an
   * Exchange stream runs on {@code executor} (the handlers block on their store and on locks, so
   * the messages of one stream must not wait for each other).
   */
  public ParticipantService(
      BranchEngine engine, ParticipantMetrics metrics, Tracing tracing, Executor executor) {
    this.engine = engine;
    this.metrics = metrics;
    this.tracing = tracing;
    this.executor = executor;
  }

  /**
   * Runs the engine's part of {@code operation} as a span of {@code trace} (the coordinator's,
   * carried in the call's metadata or in the stream's message) and times it; {@code result} names
   * the outcome.
   */
  private <T> T observed(
      String operation,
      String txId,
      Context trace,
      Supplier<T> call,
      java.util.function.Function<T, String> result) {
    Span span = tracing.start("twopc.branch." + operation, trace, txId, engine.name());
    long start = System.nanoTime();
    try {
      T r = call.get();
      String res = result.apply(r);
      span.setAttribute("twopc.result", res);
      Tracing.end(span, null);
      metrics.operation(operation, res, System.nanoTime() - start);
      return r;
    } catch (RuntimeException e) {
      Tracing.end(span, e.toString());
      metrics.operation(operation, "error", System.nanoTime() - start);
      throw e;
    }
  }

  @Override
  public void prepare(PrepareRequest req, StreamObserver<PrepareResponse> out) {
    respond(out, () -> prepare(req, tracing.current()));
  }

  @Override
  public void commit(CommitBranchRequest req, StreamObserver<CommitBranchResponse> out) {
    respond(out, () -> commit(req, tracing.current()));
  }

  @Override
  public void rollback(RollbackBranchRequest req, StreamObserver<RollbackBranchResponse> out) {
    respond(out, () -> rollback(req, tracing.current()));
  }

  @Override
  public StreamObserver<BranchBatch> exchange(StreamObserver<ReplyBatch> out) {
    return new BranchExchange(this::handle, executor, (ServerCallStreamObserver<ReplyBatch>) out);
  }

  /**
   * One message of an Exchange stream: its reply, or the status its unary call would have failed
   * with, under the message's id.
   */
  private BranchReply handle(BranchMessage m) {
    Context trace = tracing.extract(m.getTraceMap());
    BranchReply.Builder r = BranchReply.newBuilder().setId(m.getId());
    try {
      switch (m.getBodyCase()) {
        case PREPARE -> r.setPrepare(prepare(m.getPrepare(), trace));
        case COMMIT -> r.setCommit(commit(m.getCommit(), trace));
        case ROLLBACK -> r.setRollback(rollback(m.getRollback(), trace));
        default ->
            throw new BranchException(
                BranchException.Kind.INVALID_ARGUMENT,
                "a branch message holds a prepare, a commit or a rollback");
      }
    } catch (RuntimeException e) {
      Status s = status(e);
      r.setError(
          CallError.newBuilder()
              .setCode(s.getCode().value())
              .setDescription(s.getDescription() == null ? "" : s.getDescription()));
    }
    return r.build();
  }

  private PrepareResponse prepare(PrepareRequest req, Context trace) {
    check(req.getTxId(), req.getParticipant());
    if (!req.getCoordinator().isEmpty() && !Ids.isCoordinatorTarget(req.getCoordinator())) {
      // not quoted back: it may be huge or hold line breaks
      throw new BranchException(
          BranchException.Kind.INVALID_ARGUMENT,
          "coordinator must be a gRPC target (host:port), 1-255 characters of"
              + " [A-Za-z0-9._:/[]%-]");
    }
    java.time.Duration timeout = req.hasTimeout() ? toJava(req.getTimeout()) : null;
    Vote v =
        observed(
            "prepare",
            req.getTxId(),
            trace,
            () ->
                engine.prepare(
                    req.getTxId(),
                    req.getPayload().toByteArray(),
                    timeout,
                    req.getCoordinator(),
                    req.getEnlisted(),
                    req.getStaged()),
            vote -> vote.kind().name().toLowerCase(java.util.Locale.ROOT));
    return PrepareResponse.newBuilder().setVote(toProto(v)).setReason(v.reason()).build();
  }

  private CommitBranchResponse commit(CommitBranchRequest req, Context trace) {
    check(req.getTxId(), req.getParticipant());
    if (req.getOnePhase()) {
      java.time.Duration timeout = req.hasTimeout() ? toJava(req.getTimeout()) : null;
      BranchEngine.OnePhaseResult r =
          observed(
              "one_phase",
              req.getTxId(),
              trace,
              () -> engine.commitOnePhase(req.getTxId(), req.getPayload().toByteArray(), timeout),
              o -> o.committed() ? "committed" : "aborted");
      return CommitBranchResponse.newBuilder()
          .setOutcome(r.committed() ? Outcome.OUTCOME_COMMITTED : Outcome.OUTCOME_ABORTED)
          .setReason(r.reason())
          .build();
    }
    observed(
        "commit",
        req.getTxId(),
        trace,
        () -> {
          engine.commit(req.getTxId());
          return "done";
        },
        done -> done);
    return CommitBranchResponse.newBuilder().setOutcome(Outcome.OUTCOME_COMMITTED).build();
  }

  private RollbackBranchResponse rollback(RollbackBranchRequest req, Context trace) {
    check(req.getTxId(), req.getParticipant());
    if (req.getOnePhaseOutcome()) {
      return RollbackBranchResponse.newBuilder()
          .setOutcome(
              engine.committedElseRollback(req.getTxId())
                  ? Outcome.OUTCOME_COMMITTED
                  : Outcome.OUTCOME_ABORTED)
          .build();
    }
    observed(
        "rollback",
        req.getTxId(),
        trace,
        () -> {
          engine.rollback(req.getTxId());
          return "done";
        },
        done -> done);
    return RollbackBranchResponse.newBuilder().setOutcome(Outcome.OUTCOME_ABORTED).build();
  }

  @Override
  public void listPrepared(ListPreparedRequest req, StreamObserver<ListPreparedResponse> out) {
    respond(
        out,
        () -> {
          ListPreparedResponse.Builder b = ListPreparedResponse.newBuilder();
          for (PreparedBranchInfo p : engine.listPrepared()) {
            b.addBranches(
                PreparedBranch.newBuilder()
                    .setTxId(p.txId())
                    .setParticipant(p.participant())
                    .setPreparedAt(timestamp(p.preparedAt()))
                    .setAge(duration(p.age()))
                    .addAllLockKeys(p.lockKeys())
                    .setCoordinator(p.coordinator())
                    .setOutcomeQueries(p.outcomeQueries())
                    .setLastError(p.lastError()));
          }
          return b.build();
        });
  }

  private void check(String txId, String participant) {
    if (!Ids.isTxId(txId)) {
      throw new BranchException(
          BranchException.Kind.INVALID_ARGUMENT,
          "tx_id must be 1-128 characters of [A-Za-z0-9._:-]");
    }
    if (!participant.isEmpty() && !Ids.isParticipantName(participant)) {
      // not quoted back: it may be huge or hold line breaks
      throw new BranchException(
          BranchException.Kind.INVALID_ARGUMENT,
          "participant must be 1-64 characters of [A-Za-z0-9._-]");
    }
    if (!participant.isEmpty() && !participant.equals(engine.name())) {
      throw new BranchException(
          BranchException.Kind.NOT_FOUND,
          "participant " + participant + " is not served here (this is " + engine.name() + ")");
    }
  }

  private <T> void respond(StreamObserver<T> out, Supplier<T> call) {
    T result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      out.onError(status(e).asRuntimeException());
      return;
    }
    out.onNext(result);
    out.onCompleted();
  }

  /**
   * The status a call that failed with {@code e} ends with (logged when it is not the caller's).
   */
  private Status status(RuntimeException e) {
    if (e instanceof BranchException b) {
      if (b.kind() == BranchException.Kind.UNAVAILABLE) {
        metrics.storeError();
      }
      return toStatus(b);
    }
    if (e instanceof StoreException) {
      metrics.storeError();
      log.warn("event=store_failed participant={}", engine.name(), e);
      return Status.UNAVAILABLE.withDescription("participant store unavailable");
    }
    if (e instanceof StatusRuntimeException s) {
      return s.getStatus();
    }
    log.error("event=call_failed participant={}", engine.name(), e);
    return Status.INTERNAL.withDescription("participant failed; see its log");
  }

  private static Status toStatus(BranchException e) {
    Status s =
        switch (e.kind()) {
          case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
          case NOT_FOUND -> Status.NOT_FOUND;
          case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
          case UNAVAILABLE -> Status.UNAVAILABLE;
        };
    return s.withDescription(e.getMessage());
  }

  private static dev.twopc.proto.v1.Vote toProto(Vote v) {
    return switch (v.kind()) {
      case YES -> dev.twopc.proto.v1.Vote.VOTE_YES;
      case NO -> dev.twopc.proto.v1.Vote.VOTE_NO;
      case READ_ONLY -> dev.twopc.proto.v1.Vote.VOTE_READ_ONLY;
    };
  }

  /** The most a google.protobuf.Duration may hold: 10,000 years. */
  private static final long MAX_DURATION_SECONDS = 315_576_000_000L;

  /** A valid google.protobuf.Duration; anything else would overflow the deadline arithmetic. */
  private static java.time.Duration toJava(Duration d) {
    long s = d.getSeconds();
    int n = d.getNanos();
    if (s < -MAX_DURATION_SECONDS
        || s > MAX_DURATION_SECONDS
        || n < -999_999_999
        || n > 999_999_999
        || (s > 0 && n < 0)
        || (s < 0 && n > 0)) {
      throw new BranchException(
          BranchException.Kind.INVALID_ARGUMENT,
          "timeout is not a valid duration: seconds " + s + ", nanos " + n);
    }
    return java.time.Duration.ofSeconds(s, n);
  }

  private static Timestamp timestamp(java.time.Instant at) {
    long seconds = at.getEpochSecond();
    int nanos = at.getNano(); // the part after the whole second, as the proto wants it
    return Timestamp.newBuilder().setSeconds(seconds).setNanos(nanos).build();
  }

  private static Duration duration(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.toSeconds()).setNanos(d.toNanosPart()).build();
  }
}
