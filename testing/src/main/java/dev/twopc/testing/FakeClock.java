package dev.twopc.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Time that moves only when a test moves it, as grpc-java's FakeClock: a scheduler, monotonic
 * {@link #nanoTime} and a wall {@link Clock} on one timeline. Scheduled tasks run on the test's
 * thread, in time order, when {@link #forward} passes their time. Not thread-safe: one test thread.
 */
public final class FakeClock {
  private static final long WALL_START = 1_800_000_000_000L; // 2027-01-15, any fixed instant

  private final PriorityQueue<Task> tasks = new PriorityQueue<>();
  private volatile long nanos; // read by other threads through the clock
  private long sequence;

  private final Clock clock =
      new Clock() {
        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return Instant.ofEpochMilli(millis());
        }

        @Override
        public long millis() {
          return WALL_START + nanos / 1_000_000;
        }
      };

  private final ScheduledExecutorService scheduler = new Scheduler();

  /** Monotonic time: nanoseconds since this clock was made. */
  public long nanoTime() {
    return nanos;
  }

  public Clock clock() {
    return clock;
  }

  public ScheduledExecutorService scheduler() {
    return scheduler;
  }

  /** Moves time on by {@code d}, running every task that falls due, in order; returns how many. */
  public int forward(Duration d) {
    long until = nanos + d.toNanos();
    int ran = 0;
    while (!tasks.isEmpty() && tasks.peek().at <= until) {
      Task t = tasks.poll();
      nanos = Math.max(nanos, t.at);
      if (!t.isCancelled()) {
        ran++;
        t.run();
      }
    }
    nanos = until;
    return ran;
  }

  /** Runs the tasks due now (delay 0). */
  public int runDue() {
    return forward(Duration.ZERO);
  }

  /** Tasks scheduled and not cancelled or run. */
  public int pending() {
    int n = 0;
    for (Task t : tasks) {
      n += t.isCancelled() ? 0 : 1;
    }
    return n;
  }

  /** When the next pending task is due, from now; null if none. */
  public Duration nextDue() {
    long min = Long.MAX_VALUE;
    for (Task t : tasks) {
      if (!t.isCancelled()) {
        min = Math.min(min, t.at);
      }
    }
    return min == Long.MAX_VALUE ? null : Duration.ofNanos(Math.max(0, min - nanos));
  }

  private final class Task implements ScheduledFuture<Object> {
    final long at;
    final long seq = sequence++;
    final Runnable command;
    boolean cancelled;
    boolean done;

    Task(long at, Runnable command) {
      this.at = at;
      this.command = command;
    }

    void run() {
      done = true;
      command.run();
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(at - nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      Task t = (Task) o;
      return at != t.at ? Long.compare(at, t.at) : Long.compare(seq, t.seq);
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      if (done) {
        return false;
      }
      cancelled = true;
      done = true;
      return true;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return done;
    }

    @Override
    public Object get() {
      return null;
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      return null;
    }
  }

  /** Only what the engine uses: {@code schedule} and {@code execute}. */
  private final class Scheduler implements ScheduledExecutorService {
    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      Task t = new Task(nanos + Math.max(0, unit.toNanos(delay)), command);
      tasks.add(t);
      return t;
    }

    @Override
    public void execute(Runnable command) {
      var unused = schedule(command, 0, TimeUnit.NANOSECONDS); // execute has no future to give
    }

    @Override
    @SuppressWarnings("unchecked")
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
      return (ScheduledFuture<V>)
          schedule(
              () -> {
                try {
                  callable.call();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              delay,
              unit);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(
        Runnable command, long initialDelay, long period, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(
        Runnable command, long initialDelay, long delay, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void shutdown() {}

    @Override
    public List<Runnable> shutdownNow() {
      return new ArrayList<>();
    }

    @Override
    public boolean isShutdown() {
      return false;
    }

    @Override
    public boolean isTerminated() {
      return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
      throw new UnsupportedOperationException();
    }

    @Override
    public <T> Future<T> submit(Runnable task, T result) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<?> submit(Runnable task) {
      throw new UnsupportedOperationException();
    }

    @Override
    public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks) {
      throw new UnsupportedOperationException();
    }

    @Override
    public <T> List<Future<T>> invokeAll(
        Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks) {
      throw new UnsupportedOperationException();
    }

    @Override
    public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }
  }
}
