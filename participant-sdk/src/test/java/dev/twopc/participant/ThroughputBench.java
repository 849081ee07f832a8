package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeCoordinator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prepare+commit pairs per second of one participant with the embedded store, over its real gRPC
 * service. Not part of the normal build: {@code -Dtwopc.bench=true -Dtest=ThroughputBench}.
 */
@EnabledIfSystemProperty(named = "twopc.bench", matches = "true")
class ThroughputBench {
  private static final int PAIRS = 2000;

  @TempDir Path dir;

  /** Locks one key and stages nothing else: the SDK's own cost. */
  private static final ParticipantHandler LEAN =
      new ParticipantHandler() {
        @Override
        public dev.twopc.participant.Vote prepare(PrepareContext ctx) {
          ctx.lock(new String(ctx.payload(), UTF_8));
          return dev.twopc.participant.Vote.yes();
        }

        @Override
        public void commit(BranchContext ctx) {}

        @Override
        public void rollback(BranchContext ctx) {}
      };

  @Test
  void prepareCommitRate() throws Exception {
    try (FakeCoordinator coord = FakeCoordinator.start();
        Participant p =
            Participant.builder("bench")
                .coordinator(coord.target())
                .dataDirectory(dir)
                .handler(LEAN)
                .build()) {
      p.start();
      try (ParticipantClient rpc = new ParticipantClient(p.port(), "bench", coord.target())) {
        run(rpc, "warmup", 1, 500);
        double[] seq = new double[3];
        double[] par = new double[3];
        for (int i = 0; i < 3; i++) {
          seq[i] = run(rpc, "seq" + i, 1, PAIRS);
        }
        for (int i = 0; i < 3; i++) {
          par[i] = run(rpc, "par" + i, 8, PAIRS);
        }
        Arrays.sort(seq);
        Arrays.sort(par);
        // Test output, not library logging: the figure is the point of this class.
        System.out.printf(
            "BENCH prepare+commit pairs/s, %d pairs, median of 3: sequential=%d "
                + "8-concurrent=%d (runs seq=%s par=%s)%n",
            PAIRS,
            Math.round(seq[1]),
            Math.round(par[1]),
            Arrays.toString(seq),
            Arrays.toString(par));
      }
    }
  }

  private static double run(ParticipantClient rpc, String tag, int threads, int pairs)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      long t0 = System.nanoTime();
      List<CompletableFuture<Void>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(
            CompletableFuture.runAsync(
                () -> {
                  for (int i = thread; i < pairs; i += threads) {
                    String tx = tag + "-" + i;
                    assertEquals(Vote.VOTE_YES, rpc.prepare(tx, "key-" + i).getVote());
                    assertEquals(Outcome.OUTCOME_COMMITTED, rpc.commit(tx).getOutcome());
                  }
                },
                pool));
      }
      for (CompletableFuture<Void> f : futures) {
        f.get();
      }
      return pairs / ((System.nanoTime() - t0) / 1e9);
    } finally {
      pool.shutdownNow();
    }
  }
}
