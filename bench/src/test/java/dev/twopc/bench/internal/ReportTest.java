package dev.twopc.bench.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The human table: every figure a reader needs, and the ratio line. */
class ReportTest {
  @Test
  void tableHasBothRowsTheRatiosAndTheErrors() {
    PhaseResult base = result("baseline", 1000, 2000, 10_000_000_000L);
    PhaseResult twoPc = result("2pc", 800, 3000, 10_000_000_000L);
    twoPc.counts[Outcome.error(new StatusRuntimeException(Status.UNAVAILABLE))] = 3;
    String table = new Report(config(), base, twoPc).human();

    assertTrue(table.contains("closed loop, concurrency 64"), table);
    assertTrue(table.contains("durability fsync"), table);
    assertTrue(
        table
            .lines()
            .anyMatch(l -> l.startsWith("baseline") && l.contains("100.0") && l.contains("1000")),
        table);
    assertTrue(table.lines().anyMatch(l -> l.startsWith("2pc ") && l.contains("80.0")), table);
    assertTrue(table.contains("2pc/baseline: throughput 0.80   p50 1.50   p99 1.50"), table);
    assertTrue(table.contains("errors by status: {UNAVAILABLE=3}"), table);
    assertTrue(table.contains("cpu (cores busy): bench 0.10"), table);
  }

  @Test
  void aRateStillRisingInTheWindowIsSaid() {
    PhaseResult steady = result("baseline", 1000, 2000, 10_000_000_000L);
    steady.committedSecondHalf = 510; // 1.04x the first half's 490
    PhaseResult rising = result("2pc", 1000, 3000, 10_000_000_000L);
    rising.committedSecondHalf = 600; // 1.5x the first half's 400
    Report r = new Report(config(), steady, rising);
    String table = r.human();
    assertTrue(
        table.contains(
            "2pc       STILL RISING: the window's second half committed 1.50x"
                + " its first; the warm-up (5s) was too short here, raise --warmup"),
        table);
    assertTrue(!table.contains("baseline  STILL RISING"), table);
    assertTrue(r.json().contains("\"second_half_ratio\":1.500,\"still_rising\":true"), r.json());
    assertTrue(r.json().contains("\"still_rising\":false"), r.json());
  }

  @Test
  void withoutBaselineThereAreNoRatios() {
    Report r = new Report(config(), null, result("2pc", 5, 1000, 1_000_000_000L));
    assertTrue(!r.human().contains("2pc/baseline"), r.human());
    assertTrue(r.json().endsWith("\"ratios\":null}"), r.json());
  }

  private static PhaseResult result(String name, int committed, long micros, long window) {
    PhaseResult r = new PhaseResult(name);
    for (int i = 0; i < committed; i++) {
      r.latencyMicros.recordValue(micros);
    }
    r.counts[Outcome.COMMITTED] = committed;
    r.committedInWindow = committed;
    r.windowNanos = window;
    r.cpuNanos.put("bench", window / 10);
    r.settled(Duration.ofMillis(200));
    return r;
  }

  private static Map<String, Object> config() {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("branches", 2);
    c.put("payload_bytes", 128);
    c.put("mode", "closed");
    c.put("open_loop", false);
    c.put("concurrency", 64);
    c.put("warmup", "5s");
    c.put("duration", "10s");
    c.put("rounds", 1);
    c.put("order", List.of("baseline", "2pc"));
    c.put("durability", "fsync");
    c.put("wait_for_completion", false);
    c.put("lock_keys", 0);
    assertEquals(12, c.size());
    return c;
  }
}
