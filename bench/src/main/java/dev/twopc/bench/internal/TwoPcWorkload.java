package dev.twopc.bench.internal;

import com.google.protobuf.ByteString;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Full two-phase commit: one {@code Coordinator.Execute} per transaction, carrying one branch per
 * participant. The request is the same for every transaction (the coordinator makes the transaction
 * id), so it is built once.
 */
public final class TwoPcWorkload implements Workload {
  /** One per coordinator node; slots are spread over them in turn. */
  private final List<CoordinatorGrpc.CoordinatorStub> stubs;

  private int slots;
  private final ExecuteRequest request;
  private final long deadlineNanos;

  public TwoPcWorkload(
      ManagedChannel coordinator,
      Collection<String> participants,
      ByteString payload,
      boolean waitForCompletion,
      Duration rpcTimeout) {
    this(List.of(coordinator), participants, payload, waitForCompletion, rpcTimeout);
  }

  /** Over several coordinator nodes of one shared log, each slot sending to one of them. */
  public TwoPcWorkload(
      List<ManagedChannel> coordinators,
      Collection<String> participants,
      ByteString payload,
      boolean waitForCompletion,
      Duration rpcTimeout) {
    this.stubs = coordinators.stream().map(CoordinatorGrpc::newStub).toList();
    ExecuteRequest.Builder b = ExecuteRequest.newBuilder().setWaitForCompletion(waitForCompletion);
    for (String p : participants) {
      b.addBranches(BranchRequest.newBuilder().setParticipant(p).setPayload(payload));
    }
    this.request = b.build();
    this.deadlineNanos = rpcTimeout.toNanos();
  }

  @Override
  public String name() {
    return "2pc";
  }

  @Override
  public synchronized Slot newSlot() {
    return new ExecuteSlot(stubs.get(slots++ % stubs.size()));
  }

  private final class ExecuteSlot extends Slot implements StreamObserver<ExecuteResponse> {
    private final CoordinatorGrpc.CoordinatorStub stub;
    private int outcome;

    ExecuteSlot(CoordinatorGrpc.CoordinatorStub stub) {
      this.stub = stub;
    }

    /**
     * Under the root context: started from the callback that ended the previous Execute, the call
     * would otherwise take that call's context as its parent, a chain growing by one link per
     * transaction (kept in memory, and logged by gRPC as an error past 1,000 links).
     */
    @Override
    protected void fire() {
      outcome = Outcome.UNKNOWN;
      Context.ROOT.run(
          () -> stub.withDeadlineAfter(deadlineNanos, TimeUnit.NANOSECONDS).execute(request, this));
    }

    @Override
    public void onNext(ExecuteResponse r) {
      outcome =
          switch (r.getOutcome()) {
            case OUTCOME_COMMITTED -> Outcome.COMMITTED;
            case OUTCOME_ABORTED -> Outcome.ABORTED;
            default -> Outcome.UNKNOWN;
          };
    }

    @Override
    public void onError(Throwable t) {
      done(Outcome.error(t));
    }

    @Override
    public void onCompleted() {
      done(outcome);
    }
  }
}
