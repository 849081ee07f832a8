package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The only writer of the decision log. Records queue up and one thread applies whatever has queued
 * in one database transaction (group commit), fsyncs the batch in {@link Durability#FSYNC} mode,
 * and only then completes the records' futures: a future that completed normally means the record
 * is durable. Concurrent COMMIT decisions therefore share one durable write.
 *
 * <p>The futures of a written batch are completed in log order on a second thread when more records
 * are already waiting, so that their callbacks (waking the callers, the engine's follow-up: answers
 * and phase-2 calls) run while the writer writes and syncs the next batch; one hand-off per batch,
 * not per record. With nothing waiting there is nothing to overlap, and the writer completes them
 * itself (a hand-off costs a thread wake-up, about 75 us here).
 */
public final class DecisionLog implements LogWriter, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DecisionLog.class);

  /** What a {@link LogRecord.Decided} append completes with: the decision now in the log. */
  public record DecisionResult(Decision decision, boolean written) {}

  private record Pending(LogRecord record, CompletableFuture<Object> done) {}

  private static final Pending STOP = new Pending(null, null);

  private final LogStore store;
  private final Durability durability;
  private final int maxBatch;
  private final Consumer<Boolean> health;
  private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private final ExecutorService completer =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "twopc-log-completer");
            t.setDaemon(true);
            return t;
          });

  /** Completions handed to the completer and not yet run (only the writer adds). */
  private final AtomicInteger handedOff = new AtomicInteger();

  private volatile boolean closed;
  private final CoordinatorMetrics metrics;
  private volatile boolean healthy = true;

  /**
   * @param health told {@code false} when a batch fails to write, {@code true} when writes succeed
   *     again
   */
  public DecisionLog(
      LogStore store, Durability durability, int maxBatch, Consumer<Boolean> health) {
    this(store, durability, maxBatch, health, CoordinatorMetrics.disabled());
  }

  /** With each batch's size and write time, and each failed batch, kept in {@code metrics}. */
  public DecisionLog(
      LogStore store,
      Durability durability,
      int maxBatch,
      Consumer<Boolean> health,
      CoordinatorMetrics metrics) {
    this.metrics = metrics;
    this.store = store;
    this.durability = durability;
    this.maxBatch = maxBatch;
    this.health = health;
    this.writer = new Thread(this::run, "twopc-log-writer");
    this.writer.setDaemon(true);
    this.writer.start();
  }

  /**
   * Queues a record. The future completes when the batch holding it is durable, or exceptionally if
   * the batch could not be written (then nothing of the batch is in the log unless the commit
   * reached the store before the error: a failed append is "maybe written").
   */
  @Override
  public CompletableFuture<Void> append(LogRecord record) {
    if (record instanceof LogRecord.Decided) {
      throw new IllegalArgumentException("a decision is written with decide(), not append()");
    }
    return submit(record).thenApply(r -> null);
  }

  @Override
  public CompletableFuture<DecisionResult> decide(LogRecord.Decided decision) {
    return submit(decision).thenApply(DecisionResult.class::cast);
  }

  @Override
  public void queue(LogRecord record) {
    // Nobody waits: the record's future is completed by the writer and dropped. A failed batch
    // is logged and turns health off there.
    Object unused = submit(record);
  }

  /** Records a participant's address; completes with whether the name was registered before. */
  public CompletableFuture<Boolean> register(LogRecord.Registered registered) {
    return submit(registered).thenApply(Boolean.class::cast);
  }

  /** Deletes a batch of old finished transactions; completes with how many it deleted. */
  public CompletableFuture<Integer> prune(LogRecord.Prune prune) {
    return submit(prune).thenApply(Integer.class::cast);
  }

  private CompletableFuture<Object> submit(LogRecord record) {
    CompletableFuture<Object> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(new LogStoreException("the decision log is closed", null));
      return done;
    }
    queue.add(new Pending(record, done));
    return done;
  }

  @Override
  public boolean healthy() {
    return healthy;
  }

  private void run() {
    List<Pending> batch = new ArrayList<>(maxBatch);
    boolean stopping = false;
    while (!stopping) {
      try {
        Pending first = queue.poll(1, TimeUnit.SECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, maxBatch - 1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (batch.remove(STOP)) {
        stopping = true;
      }
      if (!batch.isEmpty()) {
        writeBatch(batch);
      }
      batch.clear();
    }
  }

  private void writeBatch(List<Pending> batch) {
    List<LogRecord> records = new ArrayList<>(batch.size());
    for (Pending p : batch) {
      records.add(p.record());
    }
    List<Object> results;
    long started = System.nanoTime();
    try {
      results = store.write(records, durability);
      metrics.logBatch(records.size(), System.nanoTime() - started, false);
    } catch (RuntimeException e) {
      metrics.logBatch(records.size(), 0, true);
      if (batch.size() == 1) {
        failed(batch, e);
        return;
      }
      // One record the store refuses must not fail the others: write them one by one, so only
      // the bad one fails. Safe to repeat: nothing of a failed batch was written, and a batch
      // that was committed anyway ("maybe written") holds only idempotent records or decisions
      // that are insert-if-absent.
      log.warn(
          "event=log_batch_failed records={} store=\"{}\" error=\"{}\" next=retry_one_by_one",
          batch.size(),
          store.description(),
          e.toString());
      int ok = 0;
      RuntimeException last = e;
      for (Pending p : batch) {
        try {
          Object r = store.write(List.of(p.record()), durability).get(0);
          ok++;
          complete(() -> p.done().complete(r));
        } catch (RuntimeException one) {
          last = one;
          log.error(
              "event=log_record_refused record={} store=\"{}\" error=\"{}\"",
              p.record().getClass().getSimpleName(),
              store.description(),
              one.toString());
          RuntimeException refused = one;
          complete(() -> p.done().completeExceptionally(refused));
        }
      }
      // Health tells whether the store works, not whether a record was good.
      if (ok > 0) {
        setHealthy(true);
      } else {
        unhealthy(batch.size(), last);
      }
      return;
    }
    setHealthy(true);
    // Safety rule 1: the futures complete only now, after the store made the batch durable.
    List<Pending> written = List.copyOf(batch);
    complete(
        () -> {
          for (int i = 0; i < written.size(); i++) {
            written.get(i).done().complete(results.get(i));
          }
        });
  }

  /**
   * Runs {@code completions} after every earlier one: on the completer when records are waiting to
   * be written (overlap), else right here once the completer is idle (order kept).
   */
  private void complete(Runnable completions) {
    if (queue.isEmpty() && handedOff.get() == 0) {
      completions.run();
      return;
    }
    handedOff.incrementAndGet();
    completer.execute(
        () -> {
          try {
            completions.run();
          } finally {
            handedOff.decrementAndGet();
          }
        });
  }

  private void failed(List<Pending> batch, RuntimeException e) {
    unhealthy(batch.size(), e);
    List<Pending> lost = List.copyOf(batch);
    complete(() -> lost.forEach(p -> p.done().completeExceptionally(e)));
  }

  private void unhealthy(int records, RuntimeException e) {
    if (healthy) {
      log.error("event=log_write_failed records={} store=\"{}\"", records, store.description(), e);
    }
    setHealthy(false);
  }

  private void setHealthy(boolean now) {
    if (healthy != now) {
      healthy = now;
      if (now) {
        log.info("event=log_write_recovered store=\"{}\"", store.description());
      }
      health.accept(now);
    }
  }

  /** Writes what is queued, then stops the writer. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    queue.add(STOP);
    try {
      writer.join(10_000);
      completer.shutdown(); // after the writer: its last batch's futures are queued already
      completer.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
