package dev.twopc.coordinator.internal.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A callback or timer task that throws is logged, and a periodic one keeps running. */
class CompletionsTest {
  private final Logger logger = (Logger) LoggerFactory.getLogger(Completions.class);
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @BeforeEach
  void capture() {
    logged.start();
    logger.addAppender(logged);
  }

  @AfterEach
  void release() {
    logger.detachAppender(logged);
    scheduler.shutdownNow();
  }

  @Test
  void aCallbackThatThrowsIsLoggedWithWhatItWas() {
    CompletableFuture<String> f = new CompletableFuture<>();
    Completions.whenDone(
        f,
        "prepare reply",
        (v, e) -> {
          throw new IllegalStateException("bug in " + v);
        });
    f.complete("voted");
    List<ILoggingEvent> events = List.copyOf(logged.list);
    assertEquals(1, events.size());
    ILoggingEvent e = events.get(0);
    assertEquals(Level.ERROR, e.getLevel());
    assertTrue(e.getFormattedMessage().startsWith("event=callback_failed what=\"prepare reply\""));
    assertTrue(e.getFormattedMessage().contains("bug in voted"), e.getFormattedMessage());
    assertEquals(
        "IllegalStateException", e.getThrowableProxy().getClassName().replaceAll(".*\\.", ""));
  }

  @Test
  void aCallbackSeesTheSourcesFailure() {
    CompletableFuture<String> f = new CompletableFuture<>();
    AtomicInteger seen = new AtomicInteger();
    Completions.whenDone(f, "x", (v, e) -> seen.set(e == null ? 1 : 2));
    f.completeExceptionally(new RuntimeException("store down"));
    assertEquals(2, seen.get());
    assertTrue(logged.list.isEmpty(), "the source's failure is the callback's to handle");
  }

  @Test
  void aPeriodicTaskThatThrowsRunsAgain() throws InterruptedException {
    CountDownLatch threeRuns = new CountDownLatch(3);
    Completions.every(
        scheduler,
        "store probe",
        () -> {
          threeRuns.countDown();
          throw new IllegalStateException("probe failed");
        },
        1,
        TimeUnit.MILLISECONDS);
    assertTrue(threeRuns.await(30, TimeUnit.SECONDS), "stopped after a run that threw");
  }

  @Test
  void aOneShotTaskThatThrowsIsLoggedAndAStoppedSchedulerIsReported() throws InterruptedException {
    CountDownLatch ran = new CountDownLatch(1);
    assertTrue(
        Completions.schedule(
            scheduler,
            "phase-2 retry",
            () -> {
              ran.countDown();
              throw new IllegalStateException("retry failed");
            },
            0,
            TimeUnit.MILLISECONDS));
    assertTrue(ran.await(30, TimeUnit.SECONDS));
    scheduler.shutdown();
    assertTrue(scheduler.awaitTermination(30, TimeUnit.SECONDS));
    assertTrue(
        logged.list.stream()
            .anyMatch(e -> e.getFormattedMessage().contains("what=\"phase-2 retry\"")));
    assertFalse(Completions.schedule(scheduler, "late", () -> {}, 0, TimeUnit.MILLISECONDS));
  }
}
