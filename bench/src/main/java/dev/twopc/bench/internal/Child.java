package dev.twopc.bench.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A JVM the bench started: its output (stdout and stderr together) is copied to a log file, and the
 * last lines are kept so a failure can show them. Always drained, so a chatty child never blocks on
 * a full pipe.
 */
public final class Child {
  private static final int TAIL = 30;

  private final String name;
  private final Process process;
  private final Path log;
  private final ArrayDeque<String> tail = new ArrayDeque<>();
  private final List<String> awaited = new ArrayList<>();
  private boolean ended;

  private Child(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  public static Child start(String name, List<String> command, Path log) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    Child c = new Child(name, p, log);
    Thread pump = new Thread(c::pump, "bench-" + name + "-output");
    pump.setDaemon(true);
    pump.start();
    return c;
  }

  private void pump() {
    try (BufferedReader in =
            new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8));
        PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, UTF_8))) {
      out.println("# " + String.join(" ", process.info().commandLine().orElse(name)));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        out.println(line);
        out.flush();
        synchronized (this) {
          if (tail.size() == TAIL) {
            tail.removeFirst();
          }
          tail.addLast(line);
          if (awaited.size() < 100) {
            awaited.add(line); // the start-up lines, for await(); later output is only logged
          }
          notifyAll();
        }
      }
    } catch (IOException e) {
      // the process is gone; its log ends here
    } finally {
      synchronized (this) {
        ended = true;
        notifyAll();
      }
    }
  }

  /** The first output line containing {@code text}, waiting up to {@code timeout} for it. */
  public synchronized String await(String text, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int seen = 0; ; ) {
      for (; seen < awaited.size(); seen++) {
        if (awaited.get(seen).contains(text)) {
          return awaited.get(seen);
        }
      }
      long left = deadline - System.nanoTime();
      if (ended || left <= 0) {
        throw new ChildFailedException(
            name
                + (ended ? " exited" : " timed out")
                + " before printing '"
                + text
                + "'; its log is "
                + log
                + "\n"
                + tail());
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /** The last lines of output, indented, for an error message. */
  public synchronized String tail() {
    StringBuilder b = new StringBuilder();
    for (String line : tail) {
      b.append("    | ").append(line).append('\n');
    }
    return b.toString();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** CPU time used so far, if the OS tells. */
  public Optional<Duration> cpu() {
    return process.info().totalCpuDuration();
  }

  /** Sends SIGTERM, without waiting. */
  public void terminate() {
    process.destroy();
  }

  /** SIGTERM, then SIGKILL if it has not exited within {@code grace}. */
  public void stop(Duration grace) {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  public long pid() {
    return process.pid();
  }

  public String name() {
    return name;
  }

  public Path log() {
    return log;
  }

  /** A child that died or never became ready; the message carries its last output. */
  public static final class ChildFailedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ChildFailedException(String message) {
      super(message);
    }
  }
}
