package dev.twopc.participant.internal;

import dev.twopc.proto.v1.BranchBatch;
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.BranchReply;
import dev.twopc.proto.v1.CallError;
import dev.twopc.proto.v1.ReplyBatch;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The participant's end of one Exchange stream from a coordinator. Each message runs on the handler
 * pool as its unary call would, so a branch waiting for a lock or the store holds up no other; the
 * replies that are ready together leave as one batch. When the coordinator ends the stream, it is
 * closed once every message it sent has been answered; when it cancels it, the answers still
 * running are dropped (each branch is durable and its outcome is asked again).
 */
final class BranchExchange implements StreamObserver<BranchBatch> {
  private final Function<BranchMessage, BranchReply> handler;
  private final Executor executor;
  private final ServerCallStreamObserver<ReplyBatch> out;
  private final Queue<BranchReply> ready = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean sending = new AtomicBoolean();
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicBoolean finished = new AtomicBoolean();
  private volatile boolean halfClosed;
  private volatile boolean gone;

  BranchExchange(
      Function<BranchMessage, BranchReply> handler,
      Executor executor,
      ServerCallStreamObserver<ReplyBatch> out) {
    this.handler = handler;
    this.executor = executor;
    this.out = out;
    out.setOnCancelHandler(() -> gone = true);
  }

  @Override
  public void onNext(BranchBatch batch) {
    for (BranchMessage m : batch.getMessagesList()) {
      running.incrementAndGet();
      try {
        executor.execute(() -> answer(handler.apply(m)));
      } catch (RejectedExecutionException e) {
        answer(
            BranchReply.newBuilder()
                .setId(m.getId())
                .setError(
                    CallError.newBuilder()
                        .setCode(Status.Code.UNAVAILABLE.value())
                        .setDescription("participant is stopping"))
                .build());
      }
    }
  }

  @Override
  public void onError(Throwable t) {
    gone = true;
  }

  @Override
  public void onCompleted() {
    halfClosed = true;
    send();
  }

  private void answer(BranchReply reply) {
    ready.add(reply);
    running.decrementAndGet();
    send();
  }

  /** Sends what is ready, one sender at a time (a stream's observer is not thread-safe). */
  private void send() {
    while (sending.compareAndSet(false, true)) {
      try {
        ReplyBatch.Builder b = null;
        for (BranchReply r; (r = ready.poll()) != null; ) {
          if (b == null) {
            b = ReplyBatch.newBuilder();
          }
          b.addReplies(r);
        }
        if (b != null && !gone) {
          out.onNext(b.build());
        }
        if (halfClosed
            && running.get() == 0
            && ready.isEmpty()
            && !gone
            && finished.compareAndSet(false, true)) {
          out.onCompleted();
        }
      } catch (RuntimeException e) {
        gone = true; // cancelled between the check and the write
      } finally {
        sending.set(false);
      }
      if (ready.isEmpty()) {
        return;
      }
    }
  }
}
