package dev.twopc.samples.demo;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A process the demo or the chaos run started: its output (stdout and stderr) copied to a log file
 * and kept in memory, so the run can wait for a line such as "ready" or read the recovery summary.
 */
final class Proc {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
  private final String name;
  private final Process process;
  private final Path log;
  private final List<String> lines = new ArrayList<>();
  private boolean ended;

  private Proc(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  static Proc start(String name, List<String> command, Path log) throws IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    Proc proc = new Proc(name, p, log);
    Thread pump = new Thread(proc::pump, "demo-" + name + "-output");
    pump.setDaemon(true);
    pump.start();
    return proc;
  }

  private void pump() {
    try (BufferedReader in =
            new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8));
        PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, UTF_8))) {
      out.println("# " + String.join(" ", process.info().commandLine().orElse(name)));
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        // Stamped on arrival: the children's log lines carry no time, and lining up a kill,
        // a restart and another process's errors needs one clock for all.
        out.println(STAMP.format(LocalTime.now()) + " " + line);
        out.flush();
        synchronized (this) {
          lines.add(line);
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

  /** The first output line starting with {@code text}, waiting up to {@code timeout} for it. */
  synchronized String await(String text, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int seen = 0; ; ) {
      for (; seen < lines.size(); seen++) {
        if (lines.get(seen).startsWith(text)) {
          return lines.get(seen);
        }
      }
      long left = deadline - System.nanoTime();
      if (ended || left <= 0) {
        throw new IllegalStateException(
            name
                + (ended ? " exited" : " timed out")
                + " before printing '"
                + text
                + "'; see "
                + log
                + tail());
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /** How many output lines so far contain {@code text}. */
  synchronized int count(String text) {
    int n = 0;
    for (String l : lines) {
      if (l.contains(text)) {
        n++;
      }
    }
    return n;
  }

  private String tail() {
    int from = Math.max(0, lines.size() - 5);
    return lines.isEmpty()
        ? ""
        : "\n    " + String.join("\n    ", lines.subList(from, lines.size()));
  }

  /** kill -9: no shutdown hook, no flush, the way a crash ends a process. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  /** Sends SIGTERM, without waiting. */
  void terminate() {
    process.destroy();
  }

  /** SIGTERM, then SIGKILL if it has not exited within {@code grace}. */
  void stop(Duration grace) {
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

  long pid() {
    return process.pid();
  }

  String name() {
    return name;
  }

  Path log() {
    return log;
  }
}
