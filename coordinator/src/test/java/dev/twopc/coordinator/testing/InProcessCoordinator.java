package dev.twopc.coordinator.testing;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.Durability;
import dev.twopc.testing.MiniCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * The coordinator's tests' {@link MiniCluster.Launcher}: the coordinator in this JVM, on loopback,
 * with fast phase-2 retries; {@code tweak} changes the rest of the config (a store other than the
 * data directory's, metrics, timeouts).
 */
public final class InProcessCoordinator implements MiniCluster.Node {
  private final CoordinatorServer server;

  private InProcessCoordinator(CoordinatorServer server) {
    this.server = server;
  }

  public static MiniCluster.Launcher launcher(UnaryOperator<CoordinatorConfig.Builder> tweak) {
    return (Path dataDir, int port) ->
        new InProcessCoordinator(
            CoordinatorServer.start(tweak.apply(defaults(dataDir, port)).build()));
  }

  public static MiniCluster.Launcher launcher() {
    return launcher(b -> b);
  }

  /** What the tests run with unless they say otherwise. */
  public static CoordinatorConfig.Builder defaults(Path dataDir, int port) {
    return CoordinatorConfig.builder()
        .host("127.0.0.1")
        .port(port)
        .dataDir(dataDir)
        .durability(Durability.PROCESS)
        .phase2BackoffBase(Duration.ofMillis(10))
        .phase2BackoffCap(Duration.ofMillis(100))
        .prepareTimeout(Duration.ofSeconds(2));
  }

  /** The coordinator {@code cluster} runs, if this launcher started it. */
  public static CoordinatorServer server(MiniCluster cluster) {
    return ((InProcessCoordinator) cluster.coordinator()).server;
  }

  @Override
  public String target() {
    return server.target();
  }

  @Override
  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.close();
  }
}
