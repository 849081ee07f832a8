package dev.twopc.coordinator.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A coordinator in its own JVM, for crash tests: it can halt itself at a crash point, or be killed
 * with SIGKILL, and be started again on the same data directory.
 */
public final class ForkedCoordinator implements AutoCloseable {
  private final Process process;
  private final int port;
  private final StringBuffer output = new StringBuffer();

  private ForkedCoordinator(Process process, int port) {
    this.process = process;
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
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ForkedCoordinatorMain.class.getName());
    cmd.add(String.valueOf(port));
    cmd.add(durability);
    cmd.add(crashAt == null ? "" : crashAt);
    cmd.addAll(store.forkArgs());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    ForkedCoordinator[] self = new ForkedCoordinator[1];
    CompletableFuture<Integer> ready = new CompletableFuture<>();
    StringBuffer out = new StringBuffer();
    Thread pump =
        new Thread(
            () -> {
              try {
                String line;
                while ((line = r.readLine()) != null) {
                  out.append(line).append('\n');
                  if (line.startsWith("READY ")) {
                    ready.complete(Integer.parseInt(line.substring(6).trim()));
                  }
                }
              } catch (IOException ignored) {
                // process ended
              }
              ready.completeExceptionally(
                  new IOException("coordinator exited before it was ready:\n" + out));
            },
            "forked-coordinator-output");
    pump.setDaemon(true);
    pump.start();
    try {
      int bound = ready.get(60, TimeUnit.SECONDS);
      self[0] = new ForkedCoordinator(p, bound);
      self[0].output.append(out);
      return self[0];
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IOException("forked coordinator did not start: " + e.getMessage() + "\n" + out, e);
    }
  }

  public int port() {
    return port;
  }

  public String target() {
    return "localhost:" + port;
  }

  public Process process() {
    return process;
  }

  /** SIGKILL, as {@code kill -9}. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** Waits for the process to end by itself (a crash point). */
  public int awaitExit(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the coordinator did not exit within " + seconds + " s");
    }
    return process.exitValue();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      try {
        kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
