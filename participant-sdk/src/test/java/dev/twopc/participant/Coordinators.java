package dev.twopc.participant;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.Durability;
import dev.twopc.testing.MiniCluster;
import java.time.Duration;

/** The SDK tests' {@link MiniCluster.Launcher}: the real coordinator, embedded in this JVM. */
final class Coordinators {
  private Coordinators() {}

  /** On loopback, process durability, phase-2 retries fast enough for a test to watch. */
  static MiniCluster.Launcher inProcess() {
    return (dataDir, port) -> {
      CoordinatorServer s =
          CoordinatorServer.start(
              CoordinatorConfig.builder()
                  .host("127.0.0.1")
                  .port(port)
                  .dataDir(dataDir)
                  .durability(Durability.PROCESS)
                  .phase2BackoffBase(Duration.ofMillis(20))
                  .phase2BackoffCap(Duration.ofMillis(500))
                  .build());
      return MiniCluster.Node.of(s.target(), s.port(), s::close);
    };
  }
}
