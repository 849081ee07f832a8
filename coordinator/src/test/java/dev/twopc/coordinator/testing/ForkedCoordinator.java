package dev.twopc.coordinator.testing;

import dev.twopc.testing.ForkedJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A coordinator in its own JVM, for crash tests: it can halt itself at a crash point, or be killed
 * with SIGKILL, and be started again on the same data directory.
 */
public final class ForkedCoordinator implements AutoCloseable {
  private final ForkedJvm jvm;
  private final int port;

  private ForkedCoordinator(ForkedJvm jvm, int port) {
    this.jvm = jvm;
    this.port = port;
  }

  /**
   * Starts {@link ForkedCoordinatorMain} and waits until it listens.
   *
   * @param store where the decision log is (the same store again after a crash)
   * @param crashAt a crash point spec ("after_decision_write:1"), or null
   */
  public static ForkedCoordinator start(
      TestStore store, String crashAt, String durability, int port) throws IOException {
    return start(store, crashAt, durability, port, List.of());
  }

  /**
   * One node of several on {@code store}'s shared log (PostgreSQL): named {@code nodeId}, with a
   * lease of {@code lease}.
   */
  public static ForkedCoordinator startNode(
      TestStore store, String nodeId, Duration lease, String crashAt, int port) throws IOException {
    return start(store, crashAt, "fsync", port, List.of(nodeId, lease.toString()));
  }

  private static ForkedCoordinator start(
      TestStore store, String crashAt, String durability, int port, List<String> more)
      throws IOException {
    List<String> args = new ArrayList<>();
    args.add(String.valueOf(port));
    args.add(durability);
    args.add(crashAt == null ? "" : crashAt);
    args.addAll(store.forkArgs());
    args.addAll(more);
    Path log = Files.createTempFile("forked-coordinator", ".log");
    log.toFile().deleteOnExit();
    ForkedJvm jvm =
        ForkedJvm.start(
            "coordinator",
            ForkedJvm.javaCommand(
                List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"),
                ForkedCoordinatorMain.class.getName(),
                args),
            log);
    try {
      String ready = jvm.awaitPrefix("READY ", Duration.ofSeconds(60));
      return new ForkedCoordinator(jvm, Integer.parseInt(ready.substring(6).trim()));
    } catch (InterruptedException e) {
      jvm.close();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while the coordinator started", e);
    } catch (ForkedJvm.Failed e) {
      jvm.close();
      throw new IOException("forked coordinator did not start: " + e.getMessage(), e);
    }
  }

  public int port() {
    return port;
  }

  public String target() {
    return "localhost:" + port;
  }

  public boolean isAlive() {
    return jvm.isAlive();
  }

  /** The process id (for signals). */
  public long pid() {
    return jvm.pid();
  }

  /** How many lines it printed so far contain {@code text}. */
  public int count(String text) {
    return jvm.count(text);
  }

  /** Waits until it prints a line containing {@code text}. */
  public String await(String text, Duration timeout) throws InterruptedException {
    return jvm.await(text, timeout);
  }

  /** SIGKILL, as {@code kill -9}. */
  public void kill() throws InterruptedException {
    jvm.kill9();
  }

  /** Waits for the process to end by itself (a crash point). */
  public int awaitExit(long seconds) throws InterruptedException {
    return jvm.awaitExit(Duration.ofSeconds(seconds));
  }

  @Override
  public void close() {
    jvm.close();
  }
}
