package dev.twopc.coordinator.internal.telemetry;

import dev.twopc.telemetry.Buckets;
import dev.twopc.telemetry.GrpcClientMetrics;
import dev.twopc.telemetry.GrpcServerMetrics;
import io.grpc.ClientInterceptor;
import io.grpc.ServerInterceptor;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The coordinator's metrics (docs/observability.md lists them). {@link #disabled()} keeps none and
 * costs a branch per call; {@link #create} registers them in a registry of this coordinator's own.
 * No label takes a transaction id or another unbounded value: paths, outcomes, states, methods and
 * status codes are fixed sets, participants are the registry's.
 */
public final class CoordinatorMetrics {
  /** How a transaction runs: Execute (prepare, decide, phase 2), Begin/Commit, one branch. */
  public enum Path {
    EXECUTE,
    INTERACTIVE,
    ONE_PHASE;

    final String label = name().toLowerCase(java.util.Locale.ROOT);
  }

  /** What the caller was told (decided) or how the transaction ended (finished). */
  public enum Result {
    COMMITTED,
    ABORTED,
    UNKNOWN;

    final String label = name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The live transactions as the gauges show them, computed once per scrape. */
  public record Live(
      Map<String, Integer> byState, int inDoubt, double oldestInDoubtSeconds, int parkedBranches) {}

  private static final CoordinatorMetrics DISABLED = new CoordinatorMetrics();

  private final PrometheusRegistry registry;
  private final Map<Path, CounterDataPoint> begun = new EnumMap<>(Path.class);
  private final Map<Path, Map<Result, CounterDataPoint>> decided = new EnumMap<>(Path.class);
  private final Map<Path, Map<Result, CounterDataPoint>> finished = new EnumMap<>(Path.class);
  private final Map<Path, DistributionDataPoint> decisionSeconds = new EnumMap<>(Path.class);
  private final Map<Path, Map<Result, DistributionDataPoint>> totalSeconds =
      new EnumMap<>(Path.class);
  private final Counter phase2Attempts;
  private final Counter operatorActions;
  private final DistributionDataPoint batchRecords;
  private final DistributionDataPoint writeSeconds;
  private final CounterDataPoint batchFailures;
  private final GrpcClientMetrics participantCalls;
  private final GrpcServerMetrics serverCalls;

  private CoordinatorMetrics() {
    registry = null;
    phase2Attempts = null;
    operatorActions = null;
    batchRecords = null;
    writeSeconds = null;
    batchFailures = null;
    participantCalls = null;
    serverCalls = null;
  }

  private CoordinatorMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    Counter begunC =
        Counter.builder()
            .name("twopc_transactions_begun")
            .help("Transactions begun, by path (execute, interactive, one_phase)")
            .labelNames("path")
            .register(registry);
    Counter decidedC =
        Counter.builder()
            .name("twopc_transactions_decided")
            .help(
                "Outcomes told to callers, by path and outcome (unknown: the decision log"
                    + " failed and the caller must ask again)")
            .labelNames("path", "outcome")
            .register(registry);
    Counter finishedC =
        Counter.builder()
            .name("twopc_transactions_finished")
            .help("Transactions finished, every branch told the decision, by path and outcome")
            .labelNames("path", "outcome")
            .register(registry);
    Histogram decisionH =
        Histogram.builder()
            .name("twopc_decision_duration_seconds")
            .help("From Commit or Execute to the durable decision, by path")
            .labelNames("path")
            .classicOnly()
            .classicUpperBounds(Buckets.LATENCY)
            .register(registry);
    Histogram totalH =
        Histogram.builder()
            .name("twopc_transaction_duration_seconds")
            .help("From begin to the last branch's phase-2 acknowledgement, by path and outcome")
            .labelNames("path", "outcome")
            .classicOnly()
            .classicUpperBounds(Buckets.LATENCY)
            .register(registry);
    for (Path p : Path.values()) {
      begun.put(p, begunC.labelValues(p.label));
      decisionSeconds.put(p, decisionH.labelValues(p.label));
      Map<Result, CounterDataPoint> d = new EnumMap<>(Result.class);
      Map<Result, CounterDataPoint> f = new EnumMap<>(Result.class);
      Map<Result, DistributionDataPoint> t = new EnumMap<>(Result.class);
      for (Result r : Result.values()) {
        d.put(r, decidedC.labelValues(p.label, r.label));
        if (r != Result.UNKNOWN) {
          f.put(r, finishedC.labelValues(p.label, r.label));
          t.put(r, totalH.labelValues(p.label, r.label));
        }
      }
      decided.put(p, d);
      finished.put(p, f);
      totalSeconds.put(p, t);
    }
    phase2Attempts =
        Counter.builder()
            .name("twopc_phase2_attempts")
            .help(
                "Commit or Rollback calls sent to branches (retries included), by participant"
                    + " and decision")
            .labelNames("participant", "decision")
            .register(registry);
    operatorActions =
        Counter.builder()
            .name("twopc_operator_actions")
            .help("Operator retries and resolutions, by action and result (done, refused)")
            .labelNames("action", "result")
            .register(registry);
    batchRecords =
        Histogram.builder()
            .name("twopc_log_batch_records")
            .help("Records per decision-log batch (one write and one sync each)")
            .classicOnly()
            .classicUpperBounds(Buckets.BATCH)
            .register(registry)
            .labelValues();
    writeSeconds =
        Histogram.builder()
            .name("twopc_log_write_duration_seconds")
            .help("Time to write and sync one decision-log batch")
            .classicOnly()
            .classicUpperBounds(Buckets.LATENCY)
            .register(registry)
            .labelValues();
    batchFailures =
        Counter.builder()
            .name("twopc_log_batch_failures")
            .help("Decision-log batches the store failed to write")
            .register(registry)
            .labelValues();
    participantCalls =
        new GrpcClientMetrics(
            registry,
            "twopc_participant",
            "participant",
            "participants (Prepare, Commit, Rollback)");
    serverCalls = new GrpcServerMetrics(registry);
  }

  public static CoordinatorMetrics disabled() {
    return DISABLED;
  }

  public static CoordinatorMetrics create(PrometheusRegistry registry) {
    return new CoordinatorMetrics(registry);
  }

  public boolean enabled() {
    return registry != null;
  }

  public void begun(Path path) {
    if (registry != null) {
      begun.get(path).inc();
    }
  }

  /** The caller was told {@code result}; {@code nanos} since Commit or Execute, or < 0. */
  public void decided(Path path, Result result, long nanos) {
    if (registry != null) {
      decided.get(path).get(result).inc();
      if (nanos >= 0 && result != Result.UNKNOWN) {
        decisionSeconds.get(path).observe(nanos / 1e9);
      }
    }
  }

  /** Every branch has the decision; {@code millis} since the transaction was created. */
  public void finished(Path path, boolean committed, long millis) {
    if (registry != null) {
      Result r = committed ? Result.COMMITTED : Result.ABORTED;
      finished.get(path).get(r).inc();
      totalSeconds.get(path).get(r).observe(millis / 1e3);
    }
  }

  public void phase2Attempt(String participant, boolean commit) {
    if (registry != null) {
      phase2Attempts.labelValues(participant, commit ? "commit" : "rollback").inc();
    }
  }

  /** {@code action}: retry, commit or abort; refused when the coordinator said no. */
  public void operatorAction(String action, boolean refused) {
    if (registry != null) {
      operatorActions.labelValues(action, refused ? "refused" : "done").inc();
    }
  }

  public void logBatch(int records, long nanos, boolean failed) {
    if (registry != null) {
      if (failed) {
        batchFailures.inc();
      } else {
        batchRecords.observe(records);
        writeSeconds.observe(nanos / 1e9);
      }
    }
  }

  /** The interceptors of the channel to {@code participant}: call latency and errors. */
  /** A message to {@code participant} on its stream ended with {@code code} after {@code nanos}. */
  public void participantCall(String participant, String method, String code, long nanos) {
    if (registry != null) {
      participantCalls.record(participant, method, code, nanos);
    }
  }

  public List<ClientInterceptor> participantInterceptors(String participant) {
    return registry == null ? List.of() : List.of(participantCalls.forPeer(participant));
  }

  public List<ServerInterceptor> serverInterceptors() {
    return registry == null ? List.of() : List.of(serverCalls);
  }

  /**
   * Registers the gauges read at scrape time: the live transactions, the store's health, the last
   * recovery, the calls refused by access control.
   */
  public void watch(
      Supplier<Live> live,
      BooleanSupplier storeUp,
      Recovered recovered,
      LongSupplier accessRefusals) {
    if (registry == null) {
      return;
    }
    Memo memo = new Memo(live);
    GaugeWithCallback.builder()
        .name("twopc_live_transactions")
        .help("Transactions in this coordinator's memory, by state")
        .labelNames("state")
        .callback(cb -> memo.get().byState().forEach((s, n) -> cb.call(n, s)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("twopc_in_doubt_transactions")
        .help(
            "Transactions in doubt now: decided and not acknowledged by every branch, or"
                + " undecided past their deadline")
        .callback(cb -> cb.call(memo.get().inDoubt()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("twopc_in_doubt_oldest_age_seconds")
        .help("Age (since begin) of the oldest transaction in doubt; 0 when none is")
        .callback(cb -> cb.call(memo.get().oldestInDoubtSeconds()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("twopc_parked_branches")
        .help("Branches still retried after the park-after time since the decision")
        .callback(cb -> cb.call(memo.get().parkedBranches()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("twopc_store_up")
        .help("1 while the decision log's store accepts writes, 0 after a failed batch")
        .callback(cb -> cb.call(storeUp.getAsBoolean() ? 1 : 0))
        .register(registry);
    GaugeWithCallback.builder()
        .name("twopc_recovery_transactions")
        .help(
            "What the last start's recovery found, by action (resumed_commit,"
                + " resumed_abort, aborted_undecided)")
        .labelNames("action")
        .callback(
            cb -> {
              cb.call(recovered.resumedCommits(), "resumed_commit");
              cb.call(recovered.resumedAborts(), "resumed_abort");
              cb.call(recovered.abortedUndecided(), "aborted_undecided");
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("twopc_recovery_duration_seconds")
        .help("How long the last start's recovery took")
        .callback(cb -> cb.call(recovered.seconds()))
        .register(registry);
    CounterWithCallback.builder()
        .name("twopc_access_refusals")
        .help("Calls refused by access control (no certificate, or a role it lacks)")
        .callback(cb -> cb.call((double) accessRefusals.getAsLong()))
        .register(registry);
  }

  /** The last recovery, as the gauges show it. */
  public record Recovered(
      int resumedCommits, int resumedAborts, int abortedUndecided, double seconds) {}

  /** One computation of the live figures per scrape, not one per gauge. */
  private static final class Memo {
    private final Supplier<Live> source;
    private Live value;
    private long at;

    Memo(Supplier<Live> source) {
      this.source = source;
    }

    synchronized Live get() {
      long now = System.nanoTime();
      if (value == null || now - at > 100_000_000L) {
        value = source.get();
        at = now;
      }
      return value;
    }
  }
}
