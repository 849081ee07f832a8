package dev.twopc.bench;

import dev.twopc.bench.internal.MemoryParticipant;
import dev.twopc.participant.BranchContext;
import dev.twopc.participant.Participant;
import dev.twopc.participant.ParticipantHandler;
import dev.twopc.participant.PrepareContext;
import dev.twopc.participant.Vote;
import dev.twopc.security.RoleMap;
import dev.twopc.security.RolesFlag;
import dev.twopc.security.TlsFiles;
import dev.twopc.security.TlsFlags;
import dev.twopc.telemetry.TelemetryFlags;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The participant the bench drives: the real SDK (durable pending map in embedded SQLite, locks,
 * idempotent phase 2) with a handler that does as little as a handler can. Prepare takes one
 * exclusive lock and votes YES; commit and rollback do nothing. What is measured is therefore the
 * protocol and the SDK, not business work.
 *
 * <pre>
 * twopc bench participant --name p1 --port 7101 --coordinator localhost:7000 --data data/p1
 * </pre>
 *
 * Prints {@code bench participant NAME ready on localhost:PORT} once it serves; stops cleanly on
 * SIGTERM.
 */
@Command(
    name = "participant",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Run a bench participant: the participant SDK with a handler that locks one"
          + " key and votes YES; commit and rollback are no-ops.",
      "Every flag has an environment twin, shown in brackets."
    })
public final class BenchParticipantMain implements Callable<Integer> {
  @Option(
      names = "--name",
      defaultValue = "${TWOPC_BENCH_PARTICIPANT:-p1}",
      description = "Participant name [TWOPC_BENCH_PARTICIPANT] (default ${DEFAULT-VALUE}).")
  String name;

  @Option(
      names = "--port",
      defaultValue = "${TWOPC_BENCH_PARTICIPANT_PORT:-0}",
      description =
          "Port of the Participant service; 0 picks a free one"
              + " [TWOPC_BENCH_PARTICIPANT_PORT] (default ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--coordinator",
      paramLabel = "HOST:PORT",
      defaultValue = "${TWOPC_COORDINATOR:-localhost:7000}",
      description = "Where to register [TWOPC_COORDINATOR] (default ${DEFAULT-VALUE}).")
  String coordinator;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      defaultValue = "${TWOPC_DATA:-bench-data}",
      description =
          "Directory of the embedded SQLite pending map [TWOPC_DATA] (default"
              + " ${DEFAULT-VALUE}).")
  Path data;

  @Option(
      names = "--lock-keys",
      paramLabel = "N",
      defaultValue = "${TWOPC_BENCH_LOCK_KEYS:-0}",
      description =
          "Lock one of N keys chosen by the transaction id's hash; 0 = a key of its own"
              + " per transaction, no contention [TWOPC_BENCH_LOCK_KEYS] (default ${DEFAULT-VALUE}).")
  int lockKeys;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "${TWOPC_BENCH_THREADS:-32}",
      description =
          "Threads serving calls (the SDK's executor) [TWOPC_BENCH_THREADS] (default"
              + " ${DEFAULT-VALUE}).")
  int threads;

  @Option(
      names = "--store",
      paramLabel = "sdk|memory",
      defaultValue = "${TWOPC_BENCH_STORE:-sdk}",
      description =
          "sdk: the participant SDK on its embedded SQLite store, durable; memory: votes"
              + " YES from memory with no durable work and no SDK, to measure the coordinator alone"
              + " (plaintext, no metrics) [TWOPC_BENCH_STORE] (default ${DEFAULT-VALUE}).")
  String store;

  @Mixin TlsFlags tls = new TlsFlags();

  @Mixin RolesFlag roles = new RolesFlag();

  @Mixin TelemetryFlags telemetry = new TelemetryFlags();

  @Spec CommandSpec spec;

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchParticipantMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (store.equals("memory")) {
      return runInMemory();
    }
    if (!store.equals("sdk")) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--store must be sdk or memory, not '" + store + "'");
    }
    Participant.Builder b =
        Participant.builder(name)
            .coordinator(coordinator)
            .listenPort(port)
            .dataDirectory(data)
            .threads(threads)
            .handler(new LockAndVoteYes(lockKeys));
    TlsFiles files = tls.files(spec, true);
    if (files != null) {
      b.tls(files);
    }
    if (telemetry.metricsPort() != null) {
      b.metricsPort(telemetry.metricsPort()).metricsHost(telemetry.metricsHost());
    }
    RoleMap roleMap = roles.load(spec, files);
    if (roleMap != null) {
      b.roles(roleMap);
    }
    Participant participant = b.build();
    CountDownLatch stopped = closeOnExit(participant);
    participant.start();
    return serveUntilStopped(participant.advertisedAddress(), stopped);
  }

  private int runInMemory() throws Exception {
    if (tls.files(spec, true) != null || telemetry.metricsPort() != null) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "--store memory serves plaintext without metrics: drop the --tls-* and --metrics-*"
              + " options");
    }
    MemoryParticipant participant = MemoryParticipant.start(name, port);
    CountDownLatch stopped = closeOnExit(participant);
    participant.register(coordinator, Duration.ofSeconds(60));
    return serveUntilStopped(participant.address(), stopped);
  }

  /** Closes {@code c} on SIGTERM; the latch opens once it is closed. */
  private static CountDownLatch closeOnExit(AutoCloseable c) {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    c.close();
                  } catch (Exception e) {
                    // a shutdown hook: nobody to rethrow to, and logging may already be gone
                    System.err.println("bench participant: stopping failed: " + e);
                  } finally {
                    stopped.countDown();
                  }
                },
                "bench-participant-stop"));
    return stopped;
  }

  /** Says it is ready (the bench waits for this line) and waits for SIGTERM. */
  private int serveUntilStopped(String address, CountDownLatch stopped)
      throws InterruptedException {
    System.out.println("bench participant " + name + " ready on " + address);
    System.out.flush();
    stopped.await();
    return 0;
  }

  /** Locks one key per branch and votes YES; phase 2 has nothing to apply. Thread-safe. */
  static final class LockAndVoteYes implements ParticipantHandler {
    private final int keys;

    LockAndVoteYes(int keys) {
      this.keys = keys;
    }

    @Override
    public Vote prepare(PrepareContext ctx) {
      String tx = ctx.txId();
      ctx.lock(keys <= 0 ? tx : "k" + Math.floorMod(tx.hashCode(), keys));
      return Vote.yes();
    }

    @Override
    public void commit(BranchContext ctx) {}

    @Override
    public void rollback(BranchContext ctx) {}
  }
}
