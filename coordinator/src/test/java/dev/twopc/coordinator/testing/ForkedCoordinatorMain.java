package dev.twopc.coordinator.testing;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.CrashPoints;
import dev.twopc.coordinator.Durability;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * The coordinator process of {@link ForkedCoordinator}. Arguments: port, durability, crash points,
 * data directory, and JDBC URL, user and password (the URL empty for RocksDB).
 */
public final class ForkedCoordinatorMain {
  private ForkedCoordinatorMain() {}

  public static void main(String[] args) throws Exception {
    CoordinatorConfig.Builder b =
        CoordinatorConfig.builder()
            .host("127.0.0.1")
            .port(Integer.parseInt(args[0]))
            .durability(Durability.valueOf(args[1].toUpperCase(Locale.ROOT)))
            .crashPoints(CrashPoints.parse(args[2]))
            .dataDir(Path.of(args[3]))
            .phase2BackoffBase(Duration.ofMillis(20))
            .phase2BackoffCap(Duration.ofMillis(300));
    if (!args[4].isEmpty()) {
      b.jdbcUrl(args[4]).jdbcUser(args[5]).jdbcPassword(args[6]);
    }
    if (args.length > 8) {
      // one of several nodes on a shared log: its name and lease
      b.nodeId(args[7]).lease(Duration.parse(args[8]));
    }
    CoordinatorServer server = CoordinatorServer.start(b.build());
    System.out.println(server.recoverySummary().describe());
    System.out.println("READY " + server.port());
    System.out.flush();
    server.awaitTermination();
  }
}
