package dev.twopc.coordinator.testing;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.CrashPoints;
import dev.twopc.coordinator.Durability;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/** The coordinator process of {@link ForkedCoordinator}: data dir, port, durability, crash. */
public final class ForkedCoordinatorMain {
  private ForkedCoordinatorMain() {}

  public static void main(String[] args) throws Exception {
    CoordinatorServer server = CoordinatorServer.start(CoordinatorConfig.builder()
        .host("127.0.0.1")
        .dataDir(Path.of(args[0]))
        .port(Integer.parseInt(args[1]))
        .durability(Durability.valueOf(args[2].toUpperCase(Locale.ROOT)))
        .crashPoints(CrashPoints.parse(args.length > 3 ? args[3] : ""))
        .phase2BackoffBase(Duration.ofMillis(20))
        .phase2BackoffCap(Duration.ofMillis(300))
        .build());
    System.out.println(server.recoverySummary().describe());
    System.out.println("READY " + server.port());
    System.out.flush();
    server.awaitTermination();
  }
}
