package dev.twopc.coordinator.internal.protocol;

import dev.twopc.coordinator.CrashPoints;
import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import dev.twopc.proto.v1.CommitBranchRequest;
import dev.twopc.proto.v1.CommitBranchResponse;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.RollbackBranchRequest;
import dev.twopc.proto.v1.RollbackBranchResponse;
import dev.twopc.telemetry.Tracing;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives phase 2: tells every branch the decision and retries with capped exponential backoff until
 * it acknowledges — forever, across restarts (recovery hands decided transactions back here). Every
 * call is treated as possibly applied; participants apply commit and rollback idempotently per
 * (txId, participant).
 */
final class PhaseTwo {
  private static final Logger log = LoggerFactory.getLogger(PhaseTwo.class);

  private final ParticipantDirectory directory;
  private final DecisionLog decisionLog;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Backoff backoff;
  private final Duration callTimeout;
  private final CrashPoints crashPoints;
  private final Consumer<Tx> onFinished;
  private final CoordinatorMetrics metrics;
  private final Tracing tracing;

  PhaseTwo(
      ParticipantDirectory directory,
      DecisionLog decisionLog,
      ScheduledExecutorService scheduler,
      Clock clock,
      Backoff backoff,
      Duration callTimeout,
      CrashPoints crashPoints,
      Consumer<Tx> onFinished,
      CoordinatorMetrics metrics,
      Tracing tracing) {
    this.metrics = metrics;
    this.tracing = tracing;
    this.directory = directory;
    this.decisionLog = decisionLog;
    this.scheduler = scheduler;
    this.clock = clock;
    this.backoff = backoff;
    this.callTimeout = callTimeout;
    this.crashPoints = crashPoints;
    this.onFinished = onFinished;
  }

  /** Sends the decision to every branch still waiting for it; finishes the tx if none is. */
  void start(Tx tx) {
    List<Branch> pending = new ArrayList<>();
    synchronized (tx) {
      for (Branch b : tx.branches.values()) {
        if (b.awaitingPhase2()) {
          pending.add(b);
        }
      }
    }
    if (pending.isEmpty()) {
      onFinished.accept(tx);
      return;
    }
    for (Branch b : pending) {
      send(tx, b);
    }
  }

  /** Operator retry: every waiting branch is tried now, its backoff cancelled. */
  void retryNow(Tx tx) {
    List<Branch> pending = new ArrayList<>();
    synchronized (tx) {
      for (Branch b : tx.branches.values()) {
        if (b.awaitingPhase2() && !b.inFlight) {
          if (b.retry != null) {
            b.retry.cancel(false);
            b.retry = null;
          }
          pending.add(b);
        }
      }
    }
    pending.forEach(b -> send(tx, b));
  }

  private void send(Tx tx, Branch b) {
    boolean commit;
    int attempt;
    synchronized (tx) {
      if (b.inFlight || !b.awaitingPhase2()) {
        return;
      }
      b.inFlight = true;
      b.retry = null;
      b.nextAttemptAt = null;
      attempt = ++b.attempts;
      b.lastAttemptAt = clock.millis();
      commit = b.state() == BranchState.COMMITTING;
    }
    Optional<ManagedChannel> channel =
        attempt > 1 ? directory.channelForRetry(b.participant) : directory.channel(b.participant);
    if (channel.isEmpty()) {
      failed(tx, b, "participant " + b.participant + " is not registered");
      return;
    }
    ParticipantGrpc.ParticipantStub stub =
        ParticipantGrpc.newStub(channel.get())
            .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    metrics.phase2Attempt(b.participant, commit);
    Span span =
        tracing.start(
            commit ? "twopc.phase2_commit" : "twopc.phase2_rollback",
            tx.trace,
            tx.id,
            b.participant);
    span.setAttribute("twopc.attempt", attempt);
    // Phase 2 outlives the client call that triggered it: never inherit its cancellation.
    Context.ROOT.run(
        () ->
            tracing.runIn(
                tx.trace,
                span,
                () -> {
                  if (commit) {
                    stub.commit(
                        CommitBranchRequest.newBuilder()
                            .setTxId(tx.id)
                            .setParticipant(b.participant)
                            .build(),
                        new Ack<>(tx, b, span));
                  } else {
                    stub.rollback(
                        RollbackBranchRequest.newBuilder()
                            .setTxId(tx.id)
                            .setParticipant(b.participant)
                            .build(),
                        new Ack<>(tx, b, span));
                  }
                }));
  }

  private final class Ack<T> implements StreamObserver<T> {
    private final Tx tx;
    private final Branch b;
    private final Span span;

    Ack(Tx tx, Branch b, Span span) {
      this.tx = tx;
      this.b = b;
      this.span = span;
    }

    @Override
    public void onNext(T value) {
      span.end();
      if (value instanceof CommitBranchResponse || value instanceof RollbackBranchResponse) {
        acknowledged(tx, b);
      }
    }

    @Override
    public void onError(Throwable t) {
      Status s = Status.fromThrowable(t);
      String error =
          Limits.text(
              s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription()),
              Limits.LAST_ERROR);
      Tracing.end(span, error);
      failed(tx, b, error);
    }

    @Override
    public void onCompleted() {}
  }

  /**
   * Not written at once: the acknowledgement goes to the log with the transaction's end, or with
   * another branch's failed attempt. If it is lost in a crash, recovery sends the decision to this
   * branch again, which participants acknowledge idempotently.
   */
  private void acknowledged(Tx tx, Branch b) {
    boolean commit;
    boolean allDone = true;
    synchronized (tx) {
      b.inFlight = false;
      if (!b.awaitingPhase2()) {
        return;
      }
      commit = b.state() == BranchState.COMMITTING;
      b.moveTo(commit ? BranchState.COMMITTED : BranchState.ROLLED_BACK);
      b.acknowledgedAt = clock.millis();
      b.lastError = null;
      b.ackUnlogged = true;
      for (Branch other : tx.branches.values()) {
        allDone &= !other.awaitingPhase2();
      }
    }
    directory.seen(b.participant);
    if (commit) {
      crashPoints.reached(CrashPoints.Point.AFTER_COMMIT_ACK);
    }
    if (allDone) {
      onFinished.accept(tx);
    }
  }

  private void failed(Tx tx, Branch b, String error) {
    long delay;
    int attempt;
    List<BranchUpdated> updates = new ArrayList<>();
    synchronized (tx) {
      b.inFlight = false;
      if (!b.awaitingPhase2()) {
        return;
      }
      attempt = b.attempts;
      b.lastError = error;
      delay = backoff.delayMillis(b.attempts);
      b.nextAttemptAt = clock.millis() + delay;
      updates.add(b.updateRecord(tx.id));
      updates.addAll(tx.takeUnloggedAcks()); // the tx lingers: show who acknowledged
      if (b.attempts == 1 || b.attempts % 10 == 0) {
        log.warn(
            "event=phase2_failed tx={} participant={} attempts={} retry_in_ms={} error=\"{}\"",
            tx.id,
            b.participant,
            b.attempts,
            delay,
            error);
      }
    }
    directory.failed(b.participant, error);
    updates.forEach(decisionLog::append);
    try {
      var f = scheduler.schedule(() -> send(tx, b), delay, TimeUnit.MILLISECONDS);
      synchronized (tx) {
        if (b.attempts == attempt && !b.inFlight) {
          b.retry = f; // unless it already ran (and perhaps scheduled the next one)
        }
      }
    } catch (java.util.concurrent.RejectedExecutionException stopping) {
      // shutting down: recovery resumes this branch at the next start
    }
  }
}
