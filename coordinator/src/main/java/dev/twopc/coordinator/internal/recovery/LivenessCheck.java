package dev.twopc.coordinator.internal.recovery;

import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.protocol.TransactionEngine;
import dev.twopc.coordinator.internal.protocol.TransactionEngine.Stuck;
import java.io.IOException;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The liveness invariant, enforced: every transaction that is not final has a call in flight or a
 * scheduled next attempt. Run periodically, it finds (1) live transactions that nothing is moving
 * on ({@link TransactionEngine#stuck}) and (2) transactions the log holds as unfinished that the
 * engine is not running at all. Whatever it finds on two runs in a row (one sighting may be a step
 * in progress) is a violation: logged as {@code event=liveness_violation}, counted, and repaired,
 * by the engine's own paths ({@link TransactionEngine#unstick}, or resuming from the log as
 * recovery does).
 */
public final class LivenessCheck {
  private static final Logger log = LoggerFactory.getLogger(LivenessCheck.class);

  private final LogReader reader;
  private final Supplier<List<StoredTransaction>> mine;
  private final DecisionLog decisionLog;
  private final TransactionEngine engine;
  private final Clock clock;
  private final long graceMillis;
  private final AtomicLong violations = new AtomicLong();
  private Set<String> suspects = new HashSet<>();

  public LivenessCheck(
      LogReader reader,
      DecisionLog decisionLog,
      TransactionEngine engine,
      Clock clock,
      long graceMillis) {
    this(reader, reader::unfinished, decisionLog, engine, clock, graceMillis);
  }

  /**
   * @param mine the unfinished transactions this process is to drive: the whole log's when it is
   *     the only writer, the ones it owns on a log several nodes share
   */
  public LivenessCheck(
      LogReader reader,
      Supplier<List<StoredTransaction>> mine,
      DecisionLog decisionLog,
      TransactionEngine engine,
      Clock clock,
      long graceMillis) {
    this.reader = reader;
    this.mine = mine;
    this.decisionLog = decisionLog;
    this.engine = engine;
    this.clock = clock;
    this.graceMillis = graceMillis;
  }

  /** Violations found since start. */
  public long violations() {
    return violations.get();
  }

  /** One run; returns the violations it found (and repaired). Not thread-safe: one caller. */
  public synchronized int run() {
    Set<String> seen = new HashSet<>();
    int found = 0;
    for (Stuck s : engine.stuck(graceMillis)) {
      String key = "live " + s.txId() + " " + s.state() + " " + s.progress();
      seen.add(key);
      if (suspects.contains(key)) {
        found++;
        log.error(
            "event=liveness_violation tx={} state={} detail=\"{}\" repair=unstick",
            s.txId(),
            s.state(),
            s.detail());
        engine.unstick(s.txId());
      }
    }
    if (decisionLog.healthy()) {
      try {
        for (StoredTransaction t : mine.get()) {
          if (engine.live(t.txId()).isPresent()) {
            continue;
          }
          String key = "lost " + t.txId();
          seen.add(key);
          if (suspects.contains(key) && engine.live(t.txId()).isEmpty()) {
            StoredTransaction now = reader.find(t.txId()).orElse(null);
            if (now == null || now.finished() || engine.live(t.txId()).isPresent()) {
              continue; // it finished between the reads
            }
            t = now;
            found++;
            log.error(
                "event=liveness_violation tx={} state={} detail=\"unfinished in the log,"
                    + " not run by the engine\" repair=resume",
                t.txId(),
                t.state());
            Recovery.resumeOne(
                t,
                decisionLog,
                engine,
                clock,
                "the coordinator had lost track of it before a decision (liveness check)");
          }
        }
      } catch (LogStoreException | IOException e) {
        log.warn("event=liveness_check_failed error=\"{}\"", e.toString());
      }
    }
    suspects = seen;
    violations.addAndGet(found);
    return found;
  }
}
