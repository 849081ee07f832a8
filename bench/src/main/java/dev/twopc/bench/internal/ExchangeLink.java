package dev.twopc.bench.internal;

import dev.twopc.proto.v1.BranchBatch;
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.BranchReply;
import dev.twopc.proto.v1.CallError;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.ReplyBatch;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The baseline's Exchange stream to one participant, kept as the coordinator keeps its own: the
 * messages queued together leave as one batch, and each reply goes to its message's observer by id,
 * as the answer (or the failure) of the unary call it stands for. A stream that breaks fails what
 * it had pending; the next message opens a new one.
 */
final class ExchangeLink {
  private final ManagedChannel channel;
  private final AtomicLong ids = new AtomicLong();
  private volatile Stream stream;

  ExchangeLink(ManagedChannel channel) {
    this.channel = channel;
  }

  /** Sends {@code message}; {@code out} gets {@code read} of its reply, or the reply's failure. */
  <T> void send(
      BranchMessage.Builder message, StreamObserver<T> out, Function<BranchReply, T> read) {
    long id = ids.incrementAndGet();
    Stream s = current();
    s.pending.put(
        id,
        r -> {
          if (r.hasError()) {
            out.onError(
                Status.fromCodeValue(r.getError().getCode())
                    .withDescription(r.getError().getDescription())
                    .asRuntimeException());
          } else {
            out.onNext(read.apply(r));
            out.onCompleted();
          }
        });
    s.outbox.add(message.setId(id).build());
    s.flush();
    if (s.closed) {
      s.failPending();
    }
  }

  private Stream current() {
    Stream s = stream;
    if (s != null && !s.closed) {
      return s;
    }
    synchronized (this) {
      if (stream == null || stream.closed) {
        Stream fresh = new Stream();
        ParticipantGrpc.newStub(channel).exchange(fresh); // started before anyone sends on it
        stream = fresh;
      }
      return stream;
    }
  }

  private static final class Stream implements ClientResponseObserver<BranchBatch, ReplyBatch> {
    final ConcurrentHashMap<Long, Consumer<BranchReply>> pending = new ConcurrentHashMap<>();
    final Queue<BranchMessage> outbox = new ConcurrentLinkedQueue<>();
    final AtomicBoolean sending = new AtomicBoolean();
    volatile ClientCallStreamObserver<BranchBatch> requests;
    volatile boolean closed;
    volatile Status failure = Status.UNAVAILABLE;

    @Override
    public void beforeStart(ClientCallStreamObserver<BranchBatch> requests) {
      this.requests = requests;
    }

    @Override
    public void onNext(ReplyBatch batch) {
      for (BranchReply r : batch.getRepliesList()) {
        Consumer<BranchReply> c = pending.remove(r.getId());
        if (c != null) {
          c.accept(r);
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      failure = Status.fromThrowable(t);
      closed = true;
      failPending();
    }

    @Override
    public void onCompleted() {
      failure = Status.UNAVAILABLE.withDescription("the participant ended its stream");
      closed = true;
      failPending();
    }

    void flush() {
      while (sending.compareAndSet(false, true)) {
        try {
          BranchBatch.Builder b = BranchBatch.newBuilder();
          for (BranchMessage m; (m = outbox.poll()) != null; ) {
            b.addMessages(m);
          }
          if (b.getMessagesCount() > 0 && !closed) {
            requests.onNext(b.build());
          }
        } catch (RuntimeException e) {
          failure = Status.UNAVAILABLE.withDescription("the stream failed: " + e);
          closed = true;
        } finally {
          sending.set(false);
        }
        if (outbox.isEmpty()) {
          return;
        }
      }
    }

    void failPending() {
      Status s = failure;
      for (Long id : pending.keySet()) {
        Consumer<BranchReply> c = pending.remove(id);
        if (c != null) {
          c.accept(
              BranchReply.newBuilder()
                  .setId(id)
                  .setError(
                      CallError.newBuilder()
                          .setCode(s.getCode().value())
                          .setDescription(s.getDescription() == null ? "" : s.getDescription()))
                  .build());
        }
      }
    }
  }
}
