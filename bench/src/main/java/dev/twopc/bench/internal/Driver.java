package dev.twopc.bench.internal;

import dev.twopc.testing.ForkedJvm;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Recorder;

/**
 * Runs one phase of load: warm-up, then the measured window, then the drain. Closed loop: each of C
 * slots starts its next transaction from the callback that ended the previous one. Open loop: one
 * thread starts transactions at fixed intended times, and latency counts from the intended time, so
 * a stall of the system under test shows as latency of every transaction that should have started
 * during it (no coordinated omission).
 *
 * <p>Hot path (the callbacks, on gRPC's network threads): a {@link Recorder} (wait-free recording),
 * {@link LongAdder}s, no locks.
 */
public final class Driver {
  /** The longest latency recorded, in microseconds (one hour); longer ones are clamped. */
  static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);

  private final Workload workload;
  private final Load load;
  private final Cluster cluster;
  private final Recorder recorder = new Recorder(1, HIGHEST_MICROS, 3);
  private final LongAdder[] counts = new LongAdder[Outcome.COUNT];
  private final LongAdder committedInWindow = new LongAdder();
  private final LongAdder committedSecondHalf = new LongAdder();
  private final LongAdder notSent = new LongAdder();
  // Failed calls start the next transaction from here, not from the failing callback: a call
  // can fail synchronously, and restarting inline would recurse.
  private final ExecutorService retrier;
  private final AtomicReference<Slot> free = new AtomicReference<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final CountDownLatch finished;
  private final long t0;
  private final long measureStart;
  private final long measureEnd;

  private Driver(Workload workload, Load load, Cluster cluster) {
    this.workload = workload;
    this.load = load;
    this.cluster = cluster;
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new LongAdder();
    }
    retrier =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "bench-" + workload.name() + "-restart");
              t.setDaemon(true);
              return t;
            });
    finished = new CountDownLatch(load.open() ? 1 : load.concurrency());
    t0 = System.nanoTime();
    measureStart = t0 + load.warmup().toNanos();
    measureEnd = measureStart + load.duration().toNanos();
  }

  /** Runs {@code workload} with {@code load} against {@code cluster} and returns what it saw. */
  public static PhaseResult run(Workload workload, Load load, Cluster cluster)
      throws InterruptedException {
    return new Driver(workload, load, cluster).run();
  }

  private PhaseResult run() throws InterruptedException {
    PhaseResult result = new PhaseResult(workload.name());
    ScheduledExecutorService clock =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bench-cpu-sampler");
              t.setDaemon(true);
              return t;
            });
    Map<String, Long> cpuAtStart = new LinkedHashMap<>();
    Map<String, Long> cpuAtEnd = new LinkedHashMap<>();
    Future<?> sampledAtStart =
        clock.schedule(
            () -> cpuAtStart.putAll(cpuNow()),
            measureStart - System.nanoTime(),
            TimeUnit.NANOSECONDS);
    Future<?> sampledAtEnd =
        clock.schedule(
            () -> cpuAtEnd.putAll(cpuNow()), measureEnd - System.nanoTime(), TimeUnit.NANOSECONDS);
    try {
      if (load.open()) {
        generate();
      } else {
        for (int i = 0; i < load.concurrency(); i++) {
          Slot s = slot();
          s.start = System.nanoTime();
          s.fire();
        }
      }
      awaitFinished();
    } finally {
      retrier.shutdownNow();
      clock.shutdown();
      clock.awaitTermination(10, TimeUnit.SECONDS);
    }
    sampled(sampledAtStart);
    sampled(sampledAtEnd);
    recorder.getIntervalHistogramInto(result.latencyMicros);
    for (int i = 0; i < counts.length; i++) {
      result.counts[i] = counts[i].sum();
    }
    result.committedInWindow = committedInWindow.sum();
    result.committedSecondHalf = committedSecondHalf.sum();
    result.notSent = notSent.sum();
    result.windowNanos = measureEnd - measureStart;
    cpuAtEnd.forEach((k, v) -> result.cpuNanos.put(k, v - cpuAtStart.getOrDefault(k, v)));
    return result;
  }

  /** A CPU sample that failed fails the run rather than report a CPU figure of nothing. */
  private static void sampled(Future<?> sample) throws InterruptedException {
    try {
      sample.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not sample the processes' CPU time: " + e, e);
    }
  }

  /** The open loop's generator, on the calling thread, until the end of the measured window. */
  private void generate() {
    inFlight.set(1); // the generator's own token: drained only after it stops
    double interval = 1e9 / load.rate();
    for (long i = 0; ; i++) {
      long intended = t0 + (long) (i * interval);
      if (intended >= measureEnd) {
        break;
      }
      long wait = intended - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
        while (System.nanoTime() < intended) {
          Thread.onSpinWait(); // parkNanos may return early
        }
      }
      if (inFlight.get() > load.maxInFlight()) {
        if (intended >= measureStart) {
          notSent.increment();
        }
        continue;
      }
      Slot s = pop();
      s.start = intended;
      inFlight.incrementAndGet();
      s.fire();
    }
    if (inFlight.decrementAndGet() == 0) {
      finished.countDown();
    }
  }

  private void awaitFinished() throws InterruptedException {
    long limit = measureEnd + load.rpcTimeout().toNanos() * 3 + TimeUnit.SECONDS.toNanos(30);
    while (!finished.await(250, TimeUnit.MILLISECONDS)) {
      cluster.checkAlive();
      if (System.nanoTime() > limit) {
        throw new IllegalStateException(
            workload.name()
                + ": transactions still in flight "
                + Duration.ofNanos(System.nanoTime() - measureEnd).toSeconds()
                + " s after the end of the measured window");
      }
    }
  }

  /** Called once per transaction, on whatever thread ended it. */
  void completed(Slot s, int outcome) {
    long now = System.nanoTime();
    long start = s.start;
    if (start >= measureStart && start < measureEnd) {
      recorder.recordValue(Math.min(Math.max(1, (now - start) / 1000), HIGHEST_MICROS));
      counts[outcome].increment();
    }
    if (outcome == Outcome.COMMITTED && now >= measureStart && now < measureEnd) {
      committedInWindow.increment();
      if (now - measureStart >= (measureEnd - measureStart) / 2) {
        committedSecondHalf.increment();
      }
    }
    if (load.open()) {
      push(s);
      if (inFlight.decrementAndGet() == 0) {
        finished.countDown();
      }
    } else if (now >= measureEnd) {
      finished.countDown();
    } else if (Outcome.isError(outcome)) {
      try {
        retrier.execute(
            () -> {
              s.start = System.nanoTime();
              s.fire();
            });
      } catch (RejectedExecutionException e) {
        finished.countDown(); // the phase was abandoned (a process died): this slot stops
      }
    } else {
      s.start = now;
      s.fire();
    }
  }

  private Slot slot() {
    Slot s = workload.newSlot();
    s.driver = this;
    return s;
  }

  // The open loop's free slots: a stack linked through the slots themselves. Only the generator
  // pops, so a pop's compare-and-set cannot be fooled by the same slot coming back (no ABA).

  private Slot pop() {
    while (true) {
      Slot top = free.get();
      if (top == null) {
        return slot();
      }
      if (free.compareAndSet(top, top.next)) {
        top.next = null;
        return top;
      }
    }
  }

  private void push(Slot s) {
    while (true) {
      Slot top = free.get();
      s.next = top;
      if (free.compareAndSet(top, s)) {
        return;
      }
    }
  }

  private Map<String, Long> cpuNow() {
    Map<String, Long> m = new LinkedHashMap<>();
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      m.put("bench", os.getProcessCpuTime());
    }
    List<ForkedJvm> children = cluster.children();
    for (ForkedJvm c : children) {
      c.cpu().ifPresent(d -> m.put(c.name(), d.toNanos()));
    }
    return m;
  }
}
