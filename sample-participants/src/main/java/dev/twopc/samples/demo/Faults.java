package dev.twopc.samples.demo;

import dev.twopc.testing.ForkedJvm;
import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The chaos run's fault injector: {@code kill -9} of the coordinator and the services at random
 * moments, each victim started again on its port and data after a short random downtime.
 *
 * <p>Everything random comes from one seeded {@link Random}: the gaps between kills (uniform in
 * half to one and a half times {@code killEvery}), the victims and the downtimes. Victims go in
 * rounds: each round is the four processes in a random order, so any four consecutive kills hit the
 * coordinator and every service once. A process that is still down when its turn comes is skipped,
 * so more than one can be down at a time. What the same seed cannot repeat is where in the load
 * each kill lands.
 */
final class Faults implements AutoCloseable {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
  private final Cluster cluster;
  private final Random random;
  private final Duration killEvery;
  private final Duration minDown;
  private final Duration maxDown;
  private final History history;
  private final PrintStream out;
  private final long t0;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "chaos-timer"));
  private final ExecutorService restarts =
      Executors.newCachedThreadPool(r -> daemon(r, "chaos-restart"));
  private final Set<String> down = ConcurrentHashMap.newKeySet();
  private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
  private final Deque<String> round = new ArrayDeque<>();
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile boolean stopped;
  private long endNanos;

  /** {@code t0}: the run's start ({@link System#nanoTime}), for the times printed. */
  Faults(
      Cluster cluster,
      Random random,
      Duration killEvery,
      Duration minDown,
      Duration maxDown,
      History history,
      PrintStream out,
      long t0) {
    this.cluster = cluster;
    this.random = random;
    this.killEvery = killEvery;
    this.minDown = minDown;
    this.maxDown = maxDown;
    this.history = history;
    this.out = out;
    this.t0 = t0;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Starts killing, for {@code duration} from now. */
  void start(Duration duration) {
    endNanos = System.nanoTime() + duration.toNanos();
    later(ended::countDown, duration.toNanos());
    scheduleNextKill();
  }

  /** Waits until the {@code duration} given to {@link #start} has passed. */
  void awaitEnd() throws InterruptedException {
    ended.await();
  }

  private void scheduleNextKill() {
    long gap = (long) (killEvery.toNanos() * (0.5 + random.nextDouble()));
    if (stopped || System.nanoTime() + gap > endNanos) {
      return;
    }
    later(this::killOne, gap);
  }

  /**
   * Runs {@code task} on the timer after {@code nanos}. A task that throws is a failure of the run
   * (not a silently lost future): without it the run would go on with fewer faults than it says.
   */
  private void later(Runnable task, long nanos) {
    Runnable guarded =
        () -> {
          try {
            task.run();
          } catch (RuntimeException e) {
            failures.add("fault injection failed: " + e);
            ended.countDown();
          }
        };
    // the future is only for cancelling, which shutdownNow does; failures are kept above
    Object unused = timer.schedule(guarded, nanos, TimeUnit.NANOSECONDS);
  }

  private synchronized void killOne() {
    if (stopped) {
      return;
    }
    String victim = nextVictim();
    if (victim != null) {
      ForkedJvm p = cluster.current(victim);
      long killedAt = System.nanoTime();
      try {
        p.kill9();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      down.add(victim);
      history.killed(victim);
      long downNanos =
          minDown.toNanos()
              + (long) (random.nextDouble() * (maxDown.toNanos() - minDown.toNanos()));
      say("kill -9 %s (pid %d); restart in %.1f s", victim, p.pid(), downNanos / 1e9);
      later(() -> restarts.execute(() -> restart(victim, killedAt)), downNanos);
    }
    scheduleNextKill();
  }

  /** The next process of the round that is up; a new shuffled round when one is used up. */
  private String nextVictim() {
    if (round.isEmpty()) {
      List<String> all = new ArrayList<>();
      all.addAll(cluster.coordinators());
      all.addAll(Cluster.SERVICES);
      Collections.shuffle(all, random);
      round.addAll(all);
    }
    for (Iterator<String> it = round.iterator(); it.hasNext(); ) {
      String name = it.next();
      if (!down.contains(name)) {
        it.remove();
        return name;
      }
    }
    return null; // all of this round's remaining victims are down: wait for the next tick
  }

  private void restart(String name, long killedAt) {
    long r0 = System.nanoTime();
    try {
      ForkedJvm p = cluster.start(name);
      long ready = System.nanoTime();
      String line = p.awaitPrefix(Cluster.readyLine(name), Duration.ZERO);
      int restored = p.count("recovered prepared branch");
      history.restarted(
          name, Duration.ofNanos(ready - r0), Duration.ofNanos(ready - killedAt), line, restored);
      say(
          "%s back (pid %d): serving %.1f s after restart, %.1f s after the kill; %s",
          name,
          p.pid(),
          (ready - r0) / 1e9,
          (ready - killedAt) / 1e9,
          Cluster.isCoordinator(name) ? line : restored + " prepared branch(es) restored");
    } catch (Exception e) {
      failures.add(name + " did not come back after kill -9: " + e.getMessage());
      say("%s did NOT come back: %s", name, e.getMessage());
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    } finally {
      down.remove(name);
      synchronized (this) {
        notifyAll();
      }
    }
  }

  /**
   * Stops injecting faults and waits until every killed process is serving again (or failed to), up
   * to {@code timeout}. Returns whether all came back.
   */
  boolean stopAndAwaitAllUp(Duration timeout) throws InterruptedException {
    synchronized (this) {
      stopped = true; // no kill from now on, so none schedules a restart after the shutdown
    }
    timer.shutdown(); // restarts already scheduled still run
    if (!timer.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      return false;
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (!down.isEmpty()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
    return failures.isEmpty();
  }

  /** Why processes did not come back, if any did not. */
  List<String> failures() {
    return List.copyOf(failures);
  }

  /** Names of the processes down right now. */
  Set<String> down() {
    return Set.copyOf(down);
  }

  private void say(String format, Object... args) {
    out.printf(
        Locale.ROOT,
        "  %6.1f s  %s%n",
        (System.nanoTime() - t0) / 1e9,
        String.format(Locale.ROOT, format, args));
    // The same event with the clock time the process logs are stamped with.
    history.note(
        STAMP.format(LocalTime.now(ZoneId.systemDefault()))
            + " "
            + String.format(Locale.ROOT, format, args));
  }

  @Override
  public void close() {
    stopped = true;
    timer.shutdownNow();
    restarts.shutdownNow();
  }
}
