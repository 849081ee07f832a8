package dev.twopc.coordinator.internal.transport.grpc;

import dev.twopc.coordinator.internal.transport.CallFailed;
import dev.twopc.proto.v1.BranchBatch;
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.BranchReply;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.ReplyBatch;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived Exchange stream per participant, on the {@link ParticipantDirectory}'s channel to
 * it, carrying Prepare, Commit and Rollback messages: the messages queued together leave as one
 * batch, and each reply completes its message's future by id. A message fails with {@link
 * CallFailed} (sent, so possibly applied) when its stream breaks or its time runs out, exactly as
 * its unary call would; a stream that answered nothing for a whole message's time is taken as dead
 * and replaced. A participant that does not serve Exchange fails the first stream UNIMPLEMENTED
 * (before any message ran): its messages fail {@link #UNSUPPORTED}, for the caller to send as unary
 * calls, and it gets no stream again until it registers another address.
 */
final class ParticipantStreams {
  private static final Logger log = LoggerFactory.getLogger(ParticipantStreams.class);

  /** The failure of a message to a participant that does not serve Exchange: nothing ran. */
  static final String UNSUPPORTED = "UNIMPLEMENTED";

  private static final int MAX_BATCH = 512;

  /**
   * A batch stops growing past this many bytes: well inside the smallest inbound limit a
   * participant may set (64 KiB), since a message too large for it would end the whole stream.
   * Larger messages are not sent on a stream at all ({@link #MAX_MESSAGE_BYTES}).
   */
  private static final int MAX_BATCH_BYTES = 32 * 1024;

  /** A message with more payload than this goes as a unary call, where it fails only itself. */
  static final int MAX_MESSAGE_BYTES = 16 * 1024;

  private static final long SWEEP_MILLIS = 20;

  private final Map<String, Stream> streams = new ConcurrentHashMap<>();
  private final Map<String, ManagedChannel> unaryOnly = new ConcurrentHashMap<>();

  /**
   * Every stream not yet closed, the ones {@link #streams} no longer names included (replaced when
   * their participant registered another address): their pending messages keep their deadlines.
   */
  private final Set<Stream> live = ConcurrentHashMap.newKeySet();

  private final AtomicLong ids = new AtomicLong();

  /** Deadlines are checked on {@code scheduler}, until it stops (the channels close with it). */
  ParticipantStreams(ScheduledExecutorService scheduler) {
    ScheduledFuture<?> unused =
        scheduler.scheduleWithFixedDelay(
            this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** False for a participant whose server at {@code channel} does not serve Exchange. */
  boolean usable(String participant, ManagedChannel channel) {
    return unaryOnly.get(participant) != channel;
  }

  /**
   * Sends {@code message} (its id is set here) to {@code participant} on its stream over {@code
   * channel}, opening one if needed; the future is its reply or a {@link CallFailed}.
   */
  CompletableFuture<BranchReply> send(
      String participant, ManagedChannel channel, BranchMessage.Builder message, long timeout) {
    long id = ids.incrementAndGet();
    long now = System.nanoTime();
    Pending p =
        new Pending(
            now,
            now + TimeUnit.MILLISECONDS.toNanos(Math.max(1, timeout)),
            new CompletableFuture<>());
    BranchMessage m = message.setId(id).build();
    Stream s = stream(participant, channel);
    s.pending.put(id, p);
    s.outbox.add(m);
    s.flush();
    // A stream that closed meanwhile failed what it saw pending; if it did not see this one,
    // it is this caller's to fail.
    if (s.closed && s.pending.remove(id) != null) {
      p.future.completeExceptionally(s.failure);
    }
    return p.future;
  }

  private Stream stream(String participant, ManagedChannel channel) {
    Stream s = streams.get(participant);
    if (s != null && !s.closed && s.channel == channel) {
      return s;
    }
    // Opened inside compute, so no one sends on it before it has started; a start that fails at
    // once closes only the stream itself, never touching this map.
    return streams.compute(
        participant,
        (name, old) -> {
          if (old != null && !old.closed && old.channel == channel) {
            return old;
          }
          if (old != null && !old.closed) {
            old.end(); // re-registered elsewhere: its answers still come back on it
          }
          Stream fresh = new Stream(name, channel);
          fresh.open();
          return fresh;
        });
  }

  /** Cancels every stream; a message sent after this opens a new one. */
  void close() {
    for (Stream s : live) {
      s.cancel("the coordinator is stopping");
    }
  }

  /**
   * Fails the messages whose time ran out, and replaces a stream that answered none of them. Never
   * throws: a periodic task that throws is not run again, and then no deadline would be kept.
   */
  private void sweep() {
    try {
      sweepOnce();
    } catch (RuntimeException e) {
      log.error("event=stream_sweep_failed", e);
    }
  }

  private void sweepOnce() {
    long now = System.nanoTime();
    for (Stream s : live) {
      boolean dead = false;
      for (Map.Entry<Long, Pending> e : s.pending.entrySet()) {
        Pending p = e.getValue();
        if (now - p.deadline >= 0 && s.pending.remove(e.getKey(), p)) {
          p.future.completeExceptionally(
              new CallFailed(
                  "DEADLINE_EXCEEDED",
                  "no answer on the participant's stream within "
                      + TimeUnit.NANOSECONDS.toMillis(p.deadline - p.sent)
                      + " ms",
                  true));
          dead |= s.lastReply - p.sent < 0;
        }
      }
      if (dead) {
        s.cancel("the participant answered nothing on its stream in time");
      }
    }
  }

  private record Pending(long sent, long deadline, CompletableFuture<BranchReply> future) {}

  private final class Stream implements ClientResponseObserver<BranchBatch, ReplyBatch> {
    final String participant;
    final ManagedChannel channel;
    final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
    final Queue<BranchMessage> outbox = new ConcurrentLinkedQueue<>();
    final AtomicBoolean sending = new AtomicBoolean();
    final AtomicBoolean ended = new AtomicBoolean();
    volatile ClientCallStreamObserver<BranchBatch> requests;
    volatile CallFailed failure;
    volatile boolean closed;
    volatile long lastReply = System.nanoTime();

    Stream(String participant, ManagedChannel channel) {
      this.participant = participant;
      this.channel = channel;
    }

    /** Starts the call outside any caller's gRPC context: it outlives every request. */
    void open() {
      live.add(this);
      Context.ROOT.run(() -> ParticipantGrpc.newStub(channel).exchange(this));
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<BranchBatch> requests) {
      this.requests = requests;
    }

    @Override
    public void onNext(ReplyBatch batch) {
      lastReply = System.nanoTime();
      for (BranchReply r : batch.getRepliesList()) {
        Pending p = pending.remove(r.getId());
        if (p != null) {
          p.future.complete(r);
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      Status s = Status.fromThrowable(t);
      if (s.getCode() == Status.Code.UNIMPLEMENTED) {
        unaryOnly.put(participant, channel);
        close(
            new CallFailed(
                UNSUPPORTED, "the participant does not serve the Exchange stream", false));
      } else {
        close(new CallFailed(s.getCode().name(), s.getDescription(), true));
      }
    }

    @Override
    public void onCompleted() {
      close(new CallFailed("UNAVAILABLE", "the participant ended its stream", true));
    }

    /** Sends what is queued, one sender at a time (a stream's observer is not thread-safe). */
    void flush() {
      while (sending.compareAndSet(false, true)) {
        try {
          synchronized (this) {
            if (closed || ended.get()) {
              outbox.clear();
            } else {
              BranchBatch.Builder b = BranchBatch.newBuilder();
              int bytes = 0;
              for (BranchMessage m;
                  b.getMessagesCount() < MAX_BATCH
                      && bytes < MAX_BATCH_BYTES
                      && (m = outbox.poll()) != null; ) {
                b.addMessages(m);
                bytes += m.getSerializedSize();
              }
              if (b.getMessagesCount() > 0) {
                requests.onNext(b.build());
              }
            }
          }
        } catch (RuntimeException e) {
          close(new CallFailed("UNAVAILABLE", "the stream failed: " + e, true));
        } finally {
          sending.set(false);
        }
        if (outbox.isEmpty()) {
          return;
        }
      }
    }

    /** No more messages: the participant answers what it has, then ends the stream. */
    void end() {
      synchronized (this) {
        if (!closed && ended.compareAndSet(false, true)) {
          requests.onCompleted();
        }
      }
    }

    void cancel(String why) {
      close(new CallFailed("UNAVAILABLE", why, true));
      synchronized (this) {
        if (requests != null) {
          requests.cancel(why, null);
        }
      }
    }

    private void close(CallFailed why) {
      if (failure == null) {
        failure = why;
      }
      closed = true;
      live.remove(this);
      for (Long id : pending.keySet()) {
        Pending p = pending.remove(id);
        if (p != null) {
          p.future.completeExceptionally(failure);
        }
      }
    }
  }
}
