package dev.twopc.participant;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.Durability;
import dev.twopc.testing.MiniCluster;
import java.nio.file.Path;
import java.time.Duration;

/** The SDK tests' {@link MiniCluster.Launcher}: the real coordinator, embedded in this JVM. */
final class Coordinators {
  private Coordinators() {}

  /**
   * What the SDK's tests run a coordinator with unless they say otherwise: loopback, any free port,
   * {@code dataDir}, process durability, phase-2 retries fast enough for a test to watch.
   */
  static CoordinatorConfig.Builder defaults(Path dataDir) {
    return CoordinatorConfig.builder()
        .host("127.0.0.1")
        .port(0)
        .dataDir(dataDir)
        .durability(Durability.PROCESS)
        .phase2BackoffBase(Duration.ofMillis(20))
        .phase2BackoffCap(Duration.ofMillis(500));
  }

  /** The {@link #defaults} coordinator for a {@link MiniCluster}. */
  static MiniCluster.Launcher inProcess() {
    return (dataDir, port) -> {
      CoordinatorServer s = CoordinatorServer.start(defaults(dataDir).port(port).build());
      return MiniCluster.Node.of(s.target(), s.port(), s::close);
    };
  }
}
