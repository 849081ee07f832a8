package dev.twopc.participant.internal;

import dev.twopc.telemetry.Buckets;
import dev.twopc.telemetry.GrpcServerMetrics;
import io.grpc.ServerInterceptor;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A participant's metrics, opt-in (docs/observability.md lists them). {@link #disabled()} keeps
 * none. Labels are operations, results and status codes: no transaction id.
 */
public final class ParticipantMetrics {
  private static final ParticipantMetrics DISABLED = new ParticipantMetrics();

  private final PrometheusRegistry registry;
  private final Histogram duration;
  private final Counter operations;
  private final Counter storeErrors;
  private final Counter outcomeQueries;
  private final GrpcServerMetrics serverCalls;

  private ParticipantMetrics() {
    registry = null;
    duration = null;
    operations = null;
    storeErrors = null;
    outcomeQueries = null;
    serverCalls = null;
  }

  private ParticipantMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    duration =
        Histogram.builder()
            .name("twopc_branch_operation_duration_seconds")
            .help(
                "Time to prepare, commit, roll back or one-phase commit a branch here, store"
                    + " write and handler included, by operation")
            .labelNames("operation")
            .classicOnly()
            .classicUpperBounds(Buckets.LATENCY)
            .register(registry);
    operations =
        Counter.builder()
            .name("twopc_branch_operations")
            .help(
                "Branch operations by operation and result (prepare: yes, no, read_only;"
                    + " commit and rollback: done; any: error)")
            .labelNames("operation", "result")
            .register(registry);
    storeErrors =
        Counter.builder()
            .name("twopc_branch_store_errors")
            .help("Calls that failed on this participant's store")
            .register(registry);
    outcomeQueries =
        Counter.builder()
            .name("twopc_branch_outcome_queries")
            .help(
                "Outcome questions asked of the coordinator for branches in doubt, by answer"
                    + " (committed, aborted, in_progress, failed)")
            .labelNames("result")
            .register(registry);
    serverCalls = new GrpcServerMetrics(registry);
  }

  public static ParticipantMetrics disabled() {
    return DISABLED;
  }

  public static ParticipantMetrics create(PrometheusRegistry registry) {
    return new ParticipantMetrics(registry);
  }

  public boolean enabled() {
    return registry != null;
  }

  /** {@code operation} ended with {@code result} after {@code nanos}. */
  public void operation(String operation, String result, long nanos) {
    if (registry != null) {
      operations.labelValues(operation, result).inc();
      duration.labelValues(operation).observe(nanos / 1e9);
    }
  }

  public void storeError() {
    if (registry != null) {
      storeErrors.inc();
    }
  }

  public void outcomeQuery(String result) {
    if (registry != null) {
      outcomeQueries.labelValues(result).inc();
    }
  }

  public List<ServerInterceptor> serverInterceptors() {
    return registry == null ? List.of() : List.of(serverCalls);
  }

  /**
   * The gauges read at scrape time: prepared and in-doubt branches, lock waits, and the group
   * commits of a single-connection store.
   */
  public void watch(
      BranchEngine engine,
      LockManager locks,
      BranchStore store,
      Clock clock,
      Duration inDoubtAfter) {
    if (registry == null) {
      return;
    }
    store
        .group()
        .ifPresent(
            group -> {
              CounterWithCallback.builder()
                  .name("twopc_branch_store_commits")
                  .help(
                      "COMMITs of the embedded store's connection, one sync each; each makes the"
                          + " local transactions that arrived together durable")
                  .callback(cb -> cb.call((double) group.commits()))
                  .register(registry);
              CounterWithCallback.builder()
                  .name("twopc_branch_store_committed_transactions")
                  .help(
                      "Local transactions (prepares, commits, rollbacks) those COMMITs made durable;"
                          + " divided by twopc_branch_store_commits, the group commit's batch")
                  .callback(cb -> cb.call((double) group.committed()))
                  .register(registry);
            });
    GaugeWithCallback.builder()
        .name("twopc_branch_prepared")
        .help("Branches prepared here and waiting for the decision, locks held")
        .callback(cb -> cb.call(engine.pending().size()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("twopc_branch_prepared_oldest_age_seconds")
        .help("How long the oldest prepared branch has waited for its decision; 0 if none")
        .callback(
            cb -> {
              Instant now = clock.instant();
              double oldest = 0;
              for (PendingBranch b : engine.pending()) {
                oldest =
                    Math.max(oldest, Duration.between(b.record.preparedAt(), now).toMillis() / 1e3);
              }
              cb.call(oldest);
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("twopc_branch_in_doubt")
        .help(
            "Prepared branches older than the in-doubt bound: this participant asks the"
                + " coordinator for their outcome")
        .callback(
            cb -> {
              Instant due = clock.instant().minus(inDoubtAfter);
              cb.call(
                  (double)
                      engine.pending().stream()
                          .filter(b -> !b.record.preparedAt().isAfter(due))
                          .count());
            })
        .register(registry);
    CounterWithCallback.builder()
        .name("twopc_branch_lock_waits")
        .help("Lock requests that had to wait for another transaction")
        .callback(cb -> cb.call((double) locks.waits()))
        .register(registry);
    CounterWithCallback.builder()
        .name("twopc_branch_lock_timeouts")
        .help("Lock waits that timed out (the branch votes NO unless its handler recovers)")
        .callback(cb -> cb.call((double) locks.timeouts()))
        .register(registry);
  }
}
