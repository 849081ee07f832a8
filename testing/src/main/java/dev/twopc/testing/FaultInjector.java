package dev.twopc.testing;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Context;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A gRPC {@link ClientInterceptor} that injects network faults into unary calls, drawn from a
 * {@link Random} seeded per hop. Each call gets at most one fault:
 *
 * <ul>
 *   <li>{@link Fault#DROP_REQUEST}: the call fails UNAVAILABLE without reaching the server;
 *   <li>{@link Fault#DROP_RESPONSE}: the server executes the call, the client sees UNAVAILABLE or
 *       DEADLINE_EXCEEDED instead of the answer;
 *   <li>{@link Fault#DELAY}: the request leaves after a random delay (deadline still running);
 *   <li>{@link Fault#DUPLICATE}: the request is delivered twice, the second answer ignored;
 *   <li>{@link Fault#REORDER}: a duplicate is delivered late, after later messages;
 *   <li>{@link Fault#FAIL}: the call fails at once with a transport-like error status.
 * </ul>
 *
 * <p>Delays run on the given scheduler, never by sleeping on a gRPC thread. {@link #quiet()} stops
 * new faults (calls already delayed or duplicated still complete). Thread-safe.
 *
 * <pre>{@code
 * FaultInjector faults = new FaultInjector("client->coordinator", seed, Profile.moderate(),
 *     scheduler);
 * Channel channel = ClientInterceptors.intercept(managedChannel, faults);
 * ...
 * faults.quiet();
 * }</pre>
 *
 * The seed fixes the sequence of faults drawn, in the order calls are made; with concurrent calls
 * that order depends on thread timing, so a seed reproduces a run's shape, not every interleaving.
 */
public final class FaultInjector implements ClientInterceptor {
  /** The kinds of fault. */
  public enum Fault {
    NONE,
    DROP_REQUEST,
    DROP_RESPONSE,
    DELAY,
    DUPLICATE,
    REORDER,
    FAIL
  }

  /**
   * Per-call probabilities of each fault (their sum at most 1) and the delay bounds.
   *
   * @param maxDelayMillis upper bound of a {@link Fault#DELAY}
   * @param maxReorderMillis upper bound of how late a {@link Fault#REORDER} duplicate arrives
   */
  public record Profile(
      double dropRequest,
      double dropResponse,
      double delay,
      double duplicate,
      double reorder,
      double fail,
      long maxDelayMillis,
      long maxReorderMillis) {
    public Profile {
      double[] ps = {dropRequest, dropResponse, delay, duplicate, reorder, fail};
      double sum = 0;
      for (double p : ps) {
        if (p < 0 || p > 1) {
          throw new IllegalArgumentException("probabilities must be in 0..1, was " + p);
        }
        sum += p;
      }
      if (sum > 1.0 + 1e-9) {
        throw new IllegalArgumentException("probabilities must add up to at most 1, was " + sum);
      }
      if (maxDelayMillis < 1 || maxReorderMillis < 1) {
        throw new IllegalArgumentException("delay bounds must be >= 1 ms");
      }
    }

    /** No faults. */
    public static Profile none() {
      return new Profile(0, 0, 0, 0, 0, 0, 1, 1);
    }

    /** About one call in three gets a fault. */
    public static Profile moderate() {
      return new Profile(0.05, 0.05, 0.10, 0.05, 0.05, 0.03, 150, 400);
    }

    /** A profile with every probability drawn from {@code random}, up to {@code maxEach}. */
    public static Profile random(Random random, double maxEach) {
      return new Profile(
          random.nextDouble() * maxEach,
          random.nextDouble() * maxEach,
          random.nextDouble() * maxEach * 2,
          random.nextDouble() * maxEach,
          random.nextDouble() * maxEach,
          random.nextDouble() * maxEach,
          20 + random.nextInt(200),
          50 + random.nextInt(500));
    }

    @Override
    public String toString() {
      return String.format(
          "dropRequest=%.2f dropResponse=%.2f delay=%.2f(<=%dms) duplicate=%.2f"
              + " reorder=%.2f(<=%dms) fail=%.2f",
          dropRequest,
          dropResponse,
          delay,
          maxDelayMillis,
          duplicate,
          reorder,
          maxReorderMillis,
          fail);
    }
  }

  private static final Status.Code[] FAIL_CODES = {
    Status.Code.UNAVAILABLE,
    Status.Code.INTERNAL,
    Status.Code.UNKNOWN,
    Status.Code.RESOURCE_EXHAUSTED,
    Status.Code.DEADLINE_EXCEEDED
  };

  private final String hop;
  private final Random random;
  private final Profile profile;
  private final ScheduledExecutorService scheduler;
  private final Predicate<MethodDescriptor<?, ?>> applies;
  private final Map<Fault, AtomicLong> counts = new EnumMap<>(Fault.class);
  private volatile boolean quiet;

  /** Faults on every unary method. */
  public FaultInjector(String hop, long seed, Profile profile, ScheduledExecutorService scheduler) {
    this(hop, seed, profile, scheduler, m -> true);
  }

  /** Faults only on the unary methods {@code applies} accepts. */
  public FaultInjector(
      String hop,
      long seed,
      Profile profile,
      ScheduledExecutorService scheduler,
      Predicate<MethodDescriptor<?, ?>> applies) {
    this.hop = hop;
    this.random = new Random(seed ^ hop.hashCode());
    this.profile = profile;
    this.scheduler = scheduler;
    this.applies = applies;
    for (Fault f : Fault.values()) {
      counts.put(f, new AtomicLong());
    }
  }

  /** Stops injecting faults into new calls. */
  public void quiet() {
    quiet = true;
  }

  /** Starts injecting faults again. */
  public void noisy() {
    quiet = false;
  }

  public String hop() {
    return hop;
  }

  /** How many calls got each fault so far (NONE: calls passed through untouched). */
  public Map<Fault, Long> counts() {
    Map<Fault, Long> out = new EnumMap<>(Fault.class);
    counts.forEach((f, n) -> out.put(f, n.get()));
    return out;
  }

  /** Calls that got a fault other than NONE. */
  public long faults() {
    return counts().entrySet().stream()
        .filter(e -> e.getKey() != Fault.NONE)
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  @Override
  public String toString() {
    return hop + " " + counts();
  }

  private record Draw(Fault fault, long delayMillis, Status.Code code) {}

  private Draw draw() {
    synchronized (random) {
      double x = random.nextDouble();
      Profile p = profile;
      Fault f;
      if ((x -= p.dropRequest()) < 0) {
        f = Fault.DROP_REQUEST;
      } else if ((x -= p.dropResponse()) < 0) {
        f = Fault.DROP_RESPONSE;
      } else if ((x -= p.delay()) < 0) {
        f = Fault.DELAY;
      } else if ((x -= p.duplicate()) < 0) {
        f = Fault.DUPLICATE;
      } else if ((x -= p.reorder()) < 0) {
        f = Fault.REORDER;
      } else if ((x -= p.fail()) < 0) {
        f = Fault.FAIL;
      } else {
        f = Fault.NONE;
      }
      long delay =
          switch (f) {
            case DELAY -> 1 + random.nextInt((int) p.maxDelayMillis());
            case REORDER -> 1 + random.nextInt((int) p.maxReorderMillis());
            default -> 0;
          };
      Status.Code code =
          switch (f) {
            case FAIL -> FAIL_CODES[random.nextInt(FAIL_CODES.length)];
            case DROP_RESPONSE ->
                random.nextBoolean() ? Status.Code.UNAVAILABLE : Status.Code.DEADLINE_EXCEEDED;
            default -> Status.Code.UNAVAILABLE;
          };
      return new Draw(f, delay, code);
    }
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
    if (quiet || method.getType() != MethodDescriptor.MethodType.UNARY || !applies.test(method)) {
      return next.newCall(method, options);
    }
    Draw d = draw();
    counts.get(d.fault()).incrementAndGet();
    String where = " (fault injected on " + hop + " " + method.getBareMethodName() + ")";
    Executor callbacks = options.getExecutor() != null ? options.getExecutor() : scheduler;
    return switch (d.fault()) {
      case NONE -> next.newCall(method, options);
      case DROP_REQUEST ->
          new FailedCall<>(
              Status.UNAVAILABLE.withDescription("request dropped" + where), callbacks);
      case FAIL ->
          new FailedCall<>(
              Status.fromCode(d.code()).withDescription("call failed" + where), callbacks);
      case DROP_RESPONSE ->
          new ResponseDroppedCall<>(
              next.newCall(method, options),
              Status.fromCode(d.code()).withDescription("response dropped" + where));
      case DELAY ->
          new DelayedCall<>(
              () -> next.newCall(method, options), d.delayMillis(), scheduler, callbacks);
      case DUPLICATE, REORDER ->
          new DuplicatedCall<>(
              next.newCall(method, options),
              () ->
                  next.newCall(
                      method,
                      options
                          .withDeadline(null)
                          .withDeadlineAfter(10, TimeUnit.SECONDS)
                          .withExecutor(scheduler)),
              d.delayMillis(),
              scheduler);
    };
  }

  /** Fails without reaching the server. */
  private static final class FailedCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
    private final Status status;
    private final Executor callbacks;
    private final AtomicBoolean closed = new AtomicBoolean();
    private Listener<RespT> listener;

    FailedCall(Status status, Executor callbacks) {
      this.status = status;
      this.callbacks = callbacks;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      this.listener = listener;
      close(status);
    }

    private void close(Status s) {
      if (closed.compareAndSet(false, true)) {
        Listener<RespT> l = listener;
        callbacks.execute(() -> l.onClose(s, new Metadata()));
      }
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void cancel(String message, Throwable cause) {
      if (listener != null) {
        close(Status.CANCELLED.withDescription(message).withCause(cause));
      }
    }

    @Override
    public void halfClose() {}

    @Override
    public void sendMessage(ReqT message) {}
  }

  /** Reaches the server; whatever it answers, the caller sees {@code status}. */
  private static final class ResponseDroppedCall<ReqT, RespT>
      extends ForwardingClientCall.SimpleForwardingClientCall<ReqT, RespT> {
    private final Status status;

    ResponseDroppedCall(ClientCall<ReqT, RespT> delegate, Status status) {
      super(delegate);
      this.status = status;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      super.start(
          new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onHeaders(Metadata h) {}

            @Override
            public void onMessage(RespT message) {}

            @Override
            public void onClose(Status ignored, Metadata trailers) {
              super.onClose(status, new Metadata());
            }
          },
          headers);
    }
  }

  /** Forwards the call, then sends the same request again (now or later), answer ignored. */
  private static final class DuplicatedCall<ReqT, RespT>
      extends ForwardingClientCall.SimpleForwardingClientCall<ReqT, RespT> {
    private final Supplier<ClientCall<ReqT, RespT>> duplicates;
    private final long delayMillis;
    private final ScheduledExecutorService scheduler;
    private Metadata headers;
    private ReqT message;

    DuplicatedCall(
        ClientCall<ReqT, RespT> delegate,
        Supplier<ClientCall<ReqT, RespT>> duplicates,
        long delayMillis,
        ScheduledExecutorService scheduler) {
      super(delegate);
      this.duplicates = duplicates;
      this.delayMillis = delayMillis;
      this.scheduler = scheduler;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      this.headers = new Metadata();
      this.headers.merge(headers);
      super.start(listener, headers);
    }

    @Override
    public void sendMessage(ReqT message) {
      this.message = message;
      super.sendMessage(message);
    }

    @Override
    public void halfClose() {
      super.halfClose();
      if (message == null) {
        return;
      }
      ReqT m = message;
      Metadata h = headers;
      // The duplicate is independent of the caller: its cancellation must not reach it.
      Runnable send =
          () ->
              Context.ROOT.run(
                  () -> {
                    ClientCall<ReqT, RespT> dup = duplicates.get();
                    dup.start(new Listener<>() {}, h);
                    dup.request(1);
                    dup.sendMessage(m);
                    dup.halfClose();
                  });
      if (delayMillis == 0) {
        send.run();
      } else {
        try {
          // fire and forget: a send that fails shows on the call it replays onto
          var unused = scheduler.schedule(send, delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
          // the test is over
        }
      }
    }
  }

  /** Holds every operation until the delay has passed, then replays it on the real call. */
  private static final class DelayedCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
    private final Supplier<ClientCall<ReqT, RespT>> factory;
    private final Executor callbacks;
    private final List<Consumer<ClientCall<ReqT, RespT>>> pending = new ArrayList<>();
    private ClientCall<ReqT, RespT> real;
    private boolean released;
    private boolean cancelled;
    private Listener<RespT> listener;

    DelayedCall(
        Supplier<ClientCall<ReqT, RespT>> factory,
        long delayMillis,
        ScheduledExecutorService scheduler,
        Executor callbacks) {
      this.factory = factory;
      this.callbacks = callbacks;
      try {
        // fire and forget: release replays onto the real call, whose listener sees any failure
        var unused =
            scheduler.schedule(
                () -> Context.ROOT.run(this::release), delayMillis, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException stopping) {
        release();
      }
    }

    private void release() {
      ClientCall<ReqT, RespT> call;
      synchronized (this) {
        if (cancelled) {
          return;
        }
        released = true;
        call = factory.get();
      }
      // Replayed outside the lock: a real call may call its listener synchronously.
      while (true) {
        List<Consumer<ClientCall<ReqT, RespT>>> ops;
        synchronized (this) {
          if (pending.isEmpty()) {
            real = call;
            return;
          }
          ops = new ArrayList<>(pending);
          pending.clear();
        }
        ops.forEach(op -> op.accept(call));
      }
    }

    private void run(Consumer<ClientCall<ReqT, RespT>> op) {
      ClientCall<ReqT, RespT> now;
      synchronized (this) {
        if (cancelled) {
          return;
        }
        if (real == null) {
          pending.add(op);
          return;
        }
        now = real;
      }
      op.accept(now);
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      synchronized (this) {
        this.listener = listener;
      }
      run(c -> c.start(listener, headers));
    }

    @Override
    public void request(int numMessages) {
      run(c -> c.request(numMessages));
    }

    @Override
    public void cancel(String message, Throwable cause) {
      Listener<RespT> l;
      synchronized (this) {
        if (released) {
          l = null;
        } else {
          cancelled = true;
          l = listener;
        }
      }
      if (l == null) {
        run(c -> c.cancel(message, cause));
      } else {
        callbacks.execute(
            () ->
                l.onClose(
                    Status.CANCELLED.withDescription(message).withCause(cause), new Metadata()));
      }
    }

    @Override
    public void halfClose() {
      run(ClientCall::halfClose);
    }

    @Override
    public void sendMessage(ReqT message) {
      run(c -> c.sendMessage(message));
    }

    @Override
    public synchronized boolean isReady() {
      return real != null && real.isReady();
    }
  }
}
