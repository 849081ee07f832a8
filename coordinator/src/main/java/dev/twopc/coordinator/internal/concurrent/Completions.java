package dev.twopc.coordinator.internal.concurrent;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Callbacks and timer tasks whose failure is not lost. {@code future.whenComplete(action)} and
 * {@code scheduler.schedule(task)} return a future that holds whatever the action throws; nobody
 * reads it, so a bug in a callback would leave a transaction stuck without a word (and a periodic
 * task that throws stops for good). These run the action, and log what it throws at ERROR with its
 * stack trace; the liveness check then finds the transaction it left.
 */
public final class Completions {
  private static final Logger log = LoggerFactory.getLogger(Completions.class);

  private Completions() {}

  /** Runs {@code action} when {@code future} completes, in the thread that completes it. */
  public static <T> void whenDone(
      CompletableFuture<T> future, String what, BiConsumer<? super T, ? super Throwable> action) {
    // The returned stage only repeats the source's outcome: action's own failure is caught below.
    Object unused =
        future.whenComplete(
            (value, error) -> {
              try {
                action.accept(value, error);
              } catch (RuntimeException | Error e) {
                failed(what, e);
                if (e instanceof VirtualMachineError) {
                  throw e;
                }
              }
            });
  }

  /**
   * Runs {@code task} once after {@code delay}; false if the scheduler is shut down (the
   * coordinator is stopping, and recovery picks the work up at the next start).
   */
  public static boolean schedule(
      ScheduledExecutorService scheduler, String what, Runnable task, long delay, TimeUnit unit) {
    try {
      // The returned future is only for cancelling; the task's failure is logged by guarded().
      Object unused = scheduler.schedule(guarded(what, task), delay, unit);
      return true;
    } catch (RejectedExecutionException stopping) {
      return false;
    }
  }

  /**
   * Runs {@code task} every {@code period} until the scheduler shuts down; a run that throws is
   * logged and the next one still runs.
   */
  public static void every(
      ScheduledExecutorService scheduler, String what, Runnable task, long period, TimeUnit unit) {
    // Stopped by shutting the scheduler down; a failing run is logged by guarded(), not kept.
    Object unused = scheduler.scheduleWithFixedDelay(guarded(what, task), period, period, unit);
  }

  private static Runnable guarded(String what, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        failed(what, e);
        if (e instanceof VirtualMachineError) {
          throw e;
        }
      }
    };
  }

  private static void failed(String what, Throwable e) {
    log.error("event=callback_failed what=\"{}\" error=\"{}\"", what, e.toString(), e);
  }
}
