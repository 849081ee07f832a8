package dev.twopc.coordinator.testing;

import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/** Coordinator calls left running while a test does something else (kills the node, say). */
public final class AsyncCalls {
  private AsyncCalls() {}

  /** Execute, its answer (or the call's failure) in the future. */
  public static CompletableFuture<ExecuteResponse> execute(
      CoordinatorGrpc.CoordinatorStub stub, ExecuteRequest request) {
    CompletableFuture<ExecuteResponse> answer = new CompletableFuture<>();
    stub.execute(
        request,
        new StreamObserver<>() {
          @Override
          public void onNext(ExecuteResponse r) {
            answer.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            answer.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    return answer;
  }
}
