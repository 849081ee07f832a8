package dev.twopc.testing;

import dev.twopc.proto.v1.CommitRequest;
import dev.twopc.proto.v1.CommitResponse;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.EnlistResponse;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.GetOutcomeResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.proto.v1.RegisterParticipantResponse;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A scripted coordinator for participant tests: records registrations, enlistments and outcome
 * queries, answers GetOutcome from a map (default IN_PROGRESS) and can refuse calls for a while.
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

  public final AtomicReference<CommitResponse> commitResponse = new AtomicReference<>();
  private final Server server;

  private FakeCoordinator(int port) throws IOException {
    server =
        Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create())
            .addService(this)
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
