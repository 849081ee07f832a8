package dev.twopc.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.testing.FakeParticipant;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code twopc log dump} reads the embedded RocksDB log beside the running coordinator. */
class LogDumpTest {
  @TempDir Path data;

  @Test
  void dumpsTheRunningCoordinatorsLogReadOnly() throws Exception {
    try (TestCoordinator coordinator = TestCoordinator.start(data);
        FakeParticipant alpha = coordinator.participant("alpha");
        FakeParticipant beta = coordinator.participant("beta")) {
      String tx = coordinator.execute(alpha, beta).getTxId();

      Cli.Result all =
          Cli.run("log", "dump", "--data", coordinator.dataDir().toString(), "--participants");
      assertEquals(0, all.exitCode(), all.toString());
      assertTrue(all.out().contains("\"txId\":\"" + tx + "\""), all.out());
      assertTrue(all.out().contains("\"decision\":\"COMMIT\""), all.out());
      assertTrue(all.out().contains("\"participant\":{\"name\":\"alpha\""), all.out());

      Cli.Result one =
          Cli.run("log", "dump", "--data", coordinator.dataDir().toString(), "--tx", tx);
      assertEquals(0, one.exitCode(), one.toString());
      assertEquals(1, one.outLines().size(), one.toString());

      Cli.Result missing =
          Cli.run("log", "dump", "--data", coordinator.dataDir().toString(), "--tx", "nope");
      assertEquals(4, missing.exitCode(), missing.toString());
      assertTrue(
          missing.err().startsWith("twopc: transaction nope is not in the log"),
          missing.toString());
    }
  }

  @Test
  void noLogIsOneLineAndExitOne(@TempDir Path empty) {
    Cli.Result r = Cli.run("log", "dump", "--data", empty.resolve("none").toString());
    assertEquals(1, r.exitCode(), r.toString());
    assertEquals(1, r.err().strip().lines().count(), r.toString());
    assertTrue(r.err().startsWith("twopc: no embedded decision log at "), r.toString());
  }
}
