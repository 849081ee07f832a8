package dev.twopc.participant.internal;

import dev.twopc.proto.v1.Outcome;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the coordinator for the outcome of branches in doubt (recovered at start, or prepared longer
 * than the bound) and applies it. The participant never decides alone: IN_PROGRESS and errors just
 * mean asking again later, with backoff while the coordinator is unreachable.
 */
public final class InDoubtResolver {
  private static final Logger log = LoggerFactory.getLogger(InDoubtResolver.class);

  private final BranchEngine engine;
  private final CoordinatorLink link;
  private final Registrar registrar;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Backoff backoff;
  private final Duration inDoubtAfter;
  private final Duration checkInterval;
  private ScheduledFuture<?> task;

  private final ParticipantMetrics metrics;

  public InDoubtResolver(
      BranchEngine engine,
      CoordinatorLink link,
      Registrar registrar,
      ScheduledExecutorService scheduler,
      Clock clock,
      Backoff backoff,
      Duration inDoubtAfter,
      Duration checkInterval) {
    this(
        engine,
        link,
        registrar,
        scheduler,
        clock,
        backoff,
        inDoubtAfter,
        checkInterval,
        ParticipantMetrics.disabled());
  }

  /** With each outcome question and its answer counted in {@code metrics}. */
  public InDoubtResolver(
      BranchEngine engine,
      CoordinatorLink link,
      Registrar registrar,
      ScheduledExecutorService scheduler,
      Clock clock,
      Backoff backoff,
      Duration inDoubtAfter,
      Duration checkInterval,
      ParticipantMetrics metrics) {
    this.metrics = metrics;
    this.engine = engine;
    this.link = link;
    this.registrar = registrar;
    this.scheduler = scheduler;
    this.clock = clock;
    this.backoff = backoff;
    this.inDoubtAfter = inDoubtAfter;
    this.checkInterval = checkInterval;
  }

  public synchronized void start() {
    task =
        scheduler.scheduleWithFixedDelay(
            this::runOnce, 0, checkInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
    }
  }

  /** One pass over the due branches. */
  public void runOnce() {
    try {
      for (PendingBranch b : engine.pending()) {
        if (!clock.instant().isBefore(b.nextQueryAt)) {
          resolve(b);
        }
      }
    } catch (RuntimeException e) {
      log.error("event=in_doubt_pass_failed participant={}", engine.name(), e);
    }
  }

  private void resolve(PendingBranch b) {
    String txId = b.record.txId();
    if (!engine.isPrepared(txId)) {
      return;
    }
    b.outcomeQueries.incrementAndGet();
    Outcome outcome;
    try {
      outcome = ask(b.record.coordinator(), txId);
    } catch (StatusRuntimeException e) {
      metrics.outcomeQuery("failed");
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        // The coordinator may have lost our registration (fresh store): register again.
        registrar.registerSoon();
      }
      failed(b, "outcome query failed: " + e.getStatus().getCode() + describe(e.getStatus()), e);
      return;
    }
    metrics.outcomeQuery(
        switch (outcome) {
          case OUTCOME_COMMITTED -> "committed";
          case OUTCOME_ABORTED -> "aborted";
          default -> "in_progress";
        });
    try {
      switch (outcome) {
        case OUTCOME_COMMITTED -> {
          log.info(
              "event=in_doubt_resolved participant={} tx={} outcome=COMMITTED",
              engine.name(),
              txId);
          engine.commit(txId);
        }
        case OUTCOME_ABORTED -> {
          log.info(
              "event=in_doubt_resolved participant={} tx={} outcome=ABORTED", engine.name(), txId);
          engine.rollback(txId);
        }
        default -> {
          // Undecided: ask again after the in-doubt bound, not in a tight loop.
          b.failures.set(0);
          b.lastError = "";
          b.nextQueryAt = clock.instant().plus(inDoubtAfter);
          log.debug(
              "event=in_doubt_undecided participant={} tx={} outcome={}",
              engine.name(),
              txId,
              outcome);
        }
      }
    } catch (BranchException e) {
      failed(b, e.getMessage(), null);
    }
  }

  /**
   * Asks the coordinator the branch recorded; if that one cannot answer (or its address is not one
   * gRPC can dial: Prepare takes any string) and the configured coordinator is another (it moved,
   * or several share one log), asks that one too.
   */
  private Outcome ask(String recorded, String txId) {
    try {
      return link.getOutcome(recorded, txId, engine.name());
    } catch (StatusRuntimeException | IllegalArgumentException e) {
      if (recorded.isEmpty() || recorded.equals(link.defaultTarget())) {
        throw e;
      }
      return link.getOutcome(link.defaultTarget(), txId, engine.name());
    }
  }

  private void failed(PendingBranch b, String error, Throwable cause) {
    int n = b.failures.incrementAndGet();
    b.lastError = error;
    Duration d = backoff.delay(n);
    b.nextQueryAt = clock.instant().plus(d);
    if (n == 1 && cause != null) {
      log.warn(
          "event=in_doubt_unresolved participant={} tx={} error=\"{}\" retry_in={}",
          engine.name(),
          b.record.txId(),
          error,
          d,
          cause);
    } else {
      log.debug(
          "event=in_doubt_unresolved participant={} tx={} error=\"{}\" attempt={}",
          engine.name(),
          b.record.txId(),
          error,
          n);
    }
  }

  private static String describe(Status s) {
    return s.getDescription() == null ? "" : " " + s.getDescription();
  }
}
