package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.testing.Records;
import dev.twopc.testing.ChildProtocol;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The child JVM of {@link CrashTortureTest}: opens the store named on its command line as the
 * coordinator does at start (open, then recovery's reads), prints {@code READY}, then has {@code
 * writers} threads append forced COMMIT decisions for fresh transactions through the real {@link
 * DecisionLog} (group commit) until it is killed. Each decision is reported on stdout ({@code A
 * <txId>}, one write per line, flushed) only after its append's future completed, which is the
 * moment the coordinator would tell the client COMMITTED.
 *
 * <p>Most transactions are then finished (lazily, as phase 2 does), so recovery's work list stays
 * small over many cycles; one in eight is left decided-but-unfinished so that every reopen has real
 * recovery work.
 *
 * <p>Args: {@code rocks DIR MODE WRITERS} or {@code jdbc URL USER PASSWORD MODE WRITERS}.
 */
public final class CrashTortureChild {
  private CrashTortureChild() {}

  private static final OutputStream OUT = new FileOutputStream(FileDescriptor.out);

  /** One write(2) per line, so a line is in the pipe whole or not at all. */
  static synchronized void say(String line) {
    try {
      OUT.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
      OUT.flush();
    } catch (IOException e) {
      Runtime.getRuntime().halt(3); // the parent is gone
    }
  }

  public static void main(String[] args) throws Exception {
    if (args[0].equals("warm")) {
      warm(Path.of(args[1]));
      return;
    }
    ChildProtocol.haltWithParent(Duration.ofMinutes(2));
    CoordinatorConfig.Builder b = CoordinatorConfig.builder();
    Durability mode;
    int writers;
    if (args[0].equals("rocks")) {
      mode = Durability.valueOf(args[2]);
      writers = Integer.parseInt(args[3]);
      b.dataDir(Path.of(args[1]));
    } else {
      mode = Durability.valueOf(args[4]);
      writers = Integer.parseInt(args[5]);
      b.jdbcUrl(args[1]).jdbcUser(args[2]).jdbcPassword(args[3]);
    }
    CoordinatorConfig config = b.durability(mode).build();

    say("OPENING");
    long t0 = System.nanoTime();
    LogStore store = LogStore.open(config);
    // What recovery reads at start, before the coordinator serves anything.
    int unfinished = store.unfinished().size();
    long finished = store.countFinished();
    long openMillis = (System.nanoTime() - t0) / 1_000_000;
    say("READY " + openMillis + " " + unfinished + " " + finished);

    // On PostgreSQL, as a node of a shared log: inserts are insert-if-absent and the ends are
    // owner-only writes, matched against this incarnation's epoch.
    store.leases().ifPresent(l -> l.join("torture", "torture", 3_600_000));
    DecisionLog log = new DecisionLog(store, mode, config.maxBatchSize(), ok -> {});
    for (int t = 0; t < writers; t++) {
      Thread w = new Thread(() -> write(log), "torture-writer-" + t);
      w.start();
    }
  }

  private static void write(DecisionLog log) {
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    while (true) {
      String id = UUID.randomUUID().toString();
      long now = System.currentTimeMillis();
      // As TransactionEngine logs an unkeyed Execute: begin and decision in one forced record.
      Decided decided = Records.executeCommitted(id, now, "protocol", "a", "b");
      DecisionLog.DecisionResult r;
      try {
        r = log.decide(decided).get();
      } catch (Exception e) {
        say("E " + id + " " + e.toString().replace('\n', ' '));
        continue;
      }
      if (r.decision() != Decision.COMMIT) {
        say("E " + id + " decision " + r.decision());
        continue;
      }
      say("A " + id);
      if (rnd.nextInt(8) != 0) {
        long done = System.currentTimeMillis();
        log.queue( // lazy, as the engine writes it
            new Finished(
                id,
                TxState.COMMITTED,
                done,
                List.of(
                    new BranchUpdated(id, "a", BranchState.COMMITTED, 1, null, done, done),
                    new BranchUpdated(id, "b", BranchState.COMMITTED, 1, null, done, done))));
      }
    }
  }

  /**
   * Exercises every embedded store briefly and exits normally, so that the JVM can write a
   * class-data archive ({@code -XX:ArchiveClassesAtExit}) that makes each cycle's start cheaper.
   */
  private static void warm(Path dir) throws Exception {
    List<CoordinatorConfig> configs =
        List.of(
            CoordinatorConfig.builder().dataDir(dir.resolve("rocks")).build(),
            CoordinatorConfig.builder().jdbcUrl("jdbc:sqlite:" + dir.resolve("log.db")).build(),
            CoordinatorConfig.builder()
                .jdbcUrl("jdbc:h2:file:" + dir.resolve("h2") + ";WRITE_DELAY=0")
                .build());
    for (CoordinatorConfig config : configs) {
      try (LogStore store = LogStore.open(config);
          DecisionLog log =
              new DecisionLog(store, config.durability(), config.maxBatchSize(), ok -> {})) {
        store.unfinished();
        store.countFinished();
        long now = System.currentTimeMillis();
        String id = UUID.randomUUID().toString();
        log.decide(Records.executeCommitted(id, now, "protocol", "a")).get();
        log.append(new Finished(id, TxState.COMMITTED, now, List.of())).get();
        store.decisionOf(id);
      }
    }
    for (String driver : List.of("org.postgresql.Driver", "org.mariadb.jdbc.Driver")) {
      Class.forName(driver);
    }
    System.exit(0);
  }
}
