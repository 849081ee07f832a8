package dev.twopc.participant.internal;

import dev.twopc.participant.ParticipantListener;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the participant registered: retries with backoff until the coordinator answers, then
 * re-registers periodically (cheap, and covers a coordinator that restarted on a fresh store), and
 * at once when a coordinator answer suggests it does not know us.
 */
public final class Registrar {
  private static final Logger log = LoggerFactory.getLogger(Registrar.class);

  private final String name;
  private volatile String address;
  private final CoordinatorLink link;
  private final ScheduledExecutorService scheduler;
  private final Backoff backoff;
  private final Duration reregisterInterval;
  private final ParticipantListener listener;
  private final Object lock = new Object();
  private ScheduledFuture<?> next;
  private int failures;
  private volatile boolean registered;
  private volatile boolean closed;
  private final CountDownLatch first = new CountDownLatch(1);

  public Registrar(
      String name,
      CoordinatorLink link,
      ScheduledExecutorService scheduler,
      Backoff backoff,
      Duration reregisterInterval,
      ParticipantListener listener) {
    this.name = name;
    this.link = link;
    this.scheduler = scheduler;
    this.backoff = backoff;
    this.reregisterInterval = reregisterInterval;
    this.listener = listener;
  }

  /** Starts registering under {@code address} (host:port). */
  public void start(String address) {
    this.address = address;
    schedule(Duration.ZERO);
  }

  /** Registers again as soon as possible. */
  public void registerSoon() {
    if (address != null) {
      schedule(Duration.ZERO);
    }
  }

  public boolean isRegistered() {
    return registered;
  }

  /** Waits up to {@code timeout} for the first accepted registration; true if it happened. */
  public boolean awaitRegistered(Duration timeout) throws InterruptedException {
    return first.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void schedule(Duration delay) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (next != null && !next.isDone()) {
        if (next.getDelay(TimeUnit.MILLISECONDS) <= delay.toMillis()) {
          return;
        }
        next.cancel(false);
      }
      next = scheduler.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void attempt() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      // This run is the scheduled one; forget it so that rescheduling below is not skipped.
      next = null;
    }
    try {
      boolean updated = link.register(name, address);
      if (!registered) {
        log.info(
            "event=registered participant={} address={} coordinator={} updated={}",
            name,
            address,
            link.defaultTarget(),
            updated);
      }
      registered = true;
      first.countDown();
      synchronized (lock) {
        failures = 0;
      }
      try {
        listener.onRegistered(link.defaultTarget());
      } catch (RuntimeException e) {
        log.warn("event=listener_failed participant={}", name, e);
      }
      schedule(reregisterInterval);
    } catch (StatusRuntimeException e) {
      int n;
      synchronized (lock) {
        n = ++failures;
      }
      Duration d = backoff.delay(n);
      if (n == 1) {
        log.warn(
            "event=register_failed participant={} coordinator={} next=retry_with_backoff",
            name,
            link.defaultTarget(),
            e);
      } else {
        log.debug(
            "event=register_failed participant={} attempt={} retry_in={} status=\"{}\"",
            name,
            n,
            d,
            e.getStatus());
      }
      schedule(d);
    } catch (RuntimeException e) {
      log.error("event=register_failed participant={} unexpected=true", name, e);
      schedule(backoff.delay(5));
    }
  }

  public void close() {
    synchronized (lock) {
      closed = true;
      if (next != null) {
        next.cancel(false);
      }
    }
  }
}
