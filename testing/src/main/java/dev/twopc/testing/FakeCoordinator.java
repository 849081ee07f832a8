package dev.twopc.testing;

import com.google.protobuf.Timestamp;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BeginResponse;
import dev.twopc.proto.v1.CommitRequest;
import dev.twopc.proto.v1.CommitResponse;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.EnlistResponse;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.GetOutcomeResponse;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.proto.v1.RegisterParticipantResponse;
import dev.twopc.proto.v1.TransactionView;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A scripted coordinator for participant and client tests: records registrations, enlistments,
 * outcome queries, Execute requests and the headers of the last call; answers GetOutcome and
 * GetTransaction from one map of outcomes, Begin with a new id, Commit and Execute as scripted, and
 * can refuse calls for a while.
 */
public final class FakeCoordinator extends CoordinatorGrpc.CoordinatorImplBase
    implements AutoCloseable {
  public record Registration(String name, String address) {}

  public final List<Registration> registrations = new CopyOnWriteArrayList<>();
  public final List<String> enlists = new CopyOnWriteArrayList<>();
  public final Map<String, Outcome> outcomes = new ConcurrentHashMap<>();
  public final AtomicInteger outcomeQueries = new AtomicInteger();
  public final AtomicInteger registrationsToRefuse = new AtomicInteger();

  /** If set, Commit answers with this status instead of a response; null = never answer. */
  public final AtomicReference<Status> commitStatus = new AtomicReference<>(Status.UNAVAILABLE);

  /** If set, Commit answers with it (and the outcome map learns its outcome). */
  public final AtomicReference<CommitResponse> commitResponse = new AtomicReference<>();

  /** The deadline Begin answers with. */
  public final AtomicReference<Instant> beginDeadline =
      new AtomicReference<>(Instant.ofEpochSecond(4_000_000_000L));

  /** Every Execute request, in order. */
  public final List<ExecuteRequest> executes = new CopyOnWriteArrayList<>();

  /** If set, Execute fails with it. */
  public final AtomicReference<Status> executeStatus = new AtomicReference<>();

  /** If set, Execute answers with it; otherwise it commits under a new id. */
  public final AtomicReference<ExecuteResponse> executeResponse = new AtomicReference<>();

  /** The headers of the last call. */
  public final AtomicReference<Metadata> lastHeaders = new AtomicReference<>();

  private final AtomicInteger issued = new AtomicInteger();
  private final Server server;

  private FakeCoordinator(int port) throws IOException {
    server =
        Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create())
            .addService(ServerInterceptors.intercept(this, new Headers()))
            .build()
            .start();
  }

  public static FakeCoordinator start() throws IOException {
    return new FakeCoordinator(0);
  }

  /** Starts on a given port: a coordinator "coming back" where participants expect it. */
  public static FakeCoordinator startOn(int port) throws IOException {
    return new FakeCoordinator(port);
  }

  public int port() {
    return server.getPort();
  }

  public String target() {
    return "localhost:" + port();
  }

  /** Keeps the headers of every call in {@link #lastHeaders}. */
  private final class Headers implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      lastHeaders.set(headers);
      return next.startCall(call, headers);
    }
  }

  private String newId() {
    return "tx-" + issued.incrementAndGet();
  }

  @Override
  public void begin(BeginRequest req, StreamObserver<BeginResponse> out) {
    String id = newId();
    outcomes.put(id, Outcome.OUTCOME_IN_PROGRESS);
    Instant deadline = beginDeadline.get();
    out.onNext(
        BeginResponse.newBuilder()
            .setTxId(id)
            .setDeadline(
                Timestamp.newBuilder()
                    .setSeconds(deadline.getEpochSecond())
                    .setNanos(deadline.getNano()))
            .build());
    out.onCompleted();
  }

  @Override
  public void execute(ExecuteRequest req, StreamObserver<ExecuteResponse> out) {
    executes.add(req);
    Status s = executeStatus.get();
    if (s != null) {
      out.onError(s.asRuntimeException());
      return;
    }
    ExecuteResponse r = executeResponse.get();
    if (r == null) {
      r =
          ExecuteResponse.newBuilder()
              .setTxId(newId())
              .setOutcome(Outcome.OUTCOME_COMMITTED)
              .build();
    }
    outcomes.put(r.getTxId(), r.getOutcome());
    out.onNext(r);
    out.onCompleted();
  }

  @Override
  public void getTransaction(GetTransactionRequest req, StreamObserver<TransactionView> out) {
    Outcome o = outcomes.get(req.getTxId());
    if (o == null) {
      out.onError(
          Status.NOT_FOUND.withDescription("no transaction " + req.getTxId()).asRuntimeException());
      return;
    }
    out.onNext(TransactionView.newBuilder().setTxId(req.getTxId()).setOutcome(o).build());
    out.onCompleted();
  }

  @Override
  public void registerParticipant(
      RegisterParticipantRequest req, StreamObserver<RegisterParticipantResponse> out) {
    if (registrationsToRefuse.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      out.onError(Status.UNAVAILABLE.withDescription("scripted refusal").asRuntimeException());
      return;
    }
    boolean updated = registrations.stream().anyMatch(r -> r.name().equals(req.getName()));
    registrations.add(new Registration(req.getName(), req.getAddress()));
    out.onNext(RegisterParticipantResponse.newBuilder().setUpdated(updated).build());
    out.onCompleted();
  }

  @Override
  public void enlist(EnlistRequest req, StreamObserver<EnlistResponse> out) {
    enlists.add(req.getTxId() + "/" + req.getParticipant());
    out.onNext(EnlistResponse.getDefaultInstance());
    out.onCompleted();
  }

  @Override
  public void getOutcome(GetOutcomeRequest req, StreamObserver<GetOutcomeResponse> out) {
    outcomeQueries.incrementAndGet();
    out.onNext(
        GetOutcomeResponse.newBuilder()
            .setTxId(req.getTxId())
            .setOutcome(outcomes.getOrDefault(req.getTxId(), Outcome.OUTCOME_IN_PROGRESS))
            .build());
    out.onCompleted();
  }

  @Override
  public void commit(CommitRequest req, StreamObserver<CommitResponse> out) {
    CommitResponse r = commitResponse.get();
    if (r != null) {
      outcomes.put(r.getTxId(), r.getOutcome());
      out.onNext(r);
      out.onCompleted();
      return;
    }
    Status s = commitStatus.get();
    if (s != null) {
      out.onError(s.asRuntimeException());
    }
    // null: never answer, so the client's deadline passes
  }

  @Override
  public void close() {
    Shutdown.now(server);
  }
}
