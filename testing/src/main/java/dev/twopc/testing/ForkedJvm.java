package dev.twopc.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A process started by a test, the bench, the demo or the chaos run — usually another JVM. Its
 * output (stdout and stderr together) is always drained, so a chatty child never blocks on a full
 * pipe; it is copied to a log file (each line stamped with the time it arrived, so that a kill, a
 * restart and another process's errors line up on one clock) and its lines are kept so that the
 * caller can wait for one ("ready", "listening on") and a failure can show the last ones.
 *
 * <p>Ends three ways: {@link #kill9()} as a crash ends a process (no shutdown hook, no flush),
 * {@link #stop} (SIGTERM, then SIGKILL after a grace), or by itself ({@link #awaitExit}).
 */
public final class ForkedJvm implements AutoCloseable {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
  private static final int TAIL = 30;

  private final String name;
  private final Process process;
  private final Path log;
  private final Consumer<String> onLine;
  private final Runnable onEnd;
  private final boolean keep;
  private final boolean logOutput;
  private final List<String> lines = new ArrayList<>();
  private final ArrayDeque<String> tail = new ArrayDeque<>();
  private boolean ended;

  private ForkedJvm(Builder b, Process process) {
    this.name = b.name;
    this.process = process;
    this.log = b.log;
    this.onLine = b.onLine;
    this.onEnd = b.onEnd;
    this.keep = b.keep;
    this.logOutput = b.logOutput;
  }

  /** Starts {@code command}, its output going to {@code log}. */
  public static ForkedJvm start(String name, List<String> command, Path log) throws IOException {
    return builder(name, command, log).start();
  }

  /** A process to start, with more choices than {@link #start}. */
  public static Builder builder(String name, List<String> command, Path log) {
    return new Builder(name, command, log);
  }

  /** How to start one. */
  public static final class Builder {
    private final String name;
    private final List<String> command;
    private final Path log;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final List<String> unset = new ArrayList<>();
    private Consumer<String> onLine = line -> {};
    private Runnable onEnd = () -> {};
    private boolean keep = true;
    private boolean logOutput = true;

    private Builder(String name, List<String> command, Path log) {
      this.name = name;
      this.command = List.copyOf(command);
      this.log = log;
    }

    /** Sets a variable in the child's environment (inherited otherwise). */
    public Builder env(String variable, String value) {
      environment.put(variable, value);
      return this;
    }

    /** Removes a variable from the child's environment. */
    public Builder unsetEnv(String variable) {
      unset.add(variable);
      return this;
    }

    /**
     * Hands every line of standard output to {@code listener} too, on the output thread, as it
     * arrives: for children that report on stdout in a protocol of their own.
     */
    public Builder onLine(Consumer<String> listener) {
      this.onLine = listener;
      return this;
    }

    /** Runs {@code action} on the output thread once the output has ended (the child is gone). */
    public Builder onEnd(Runnable action) {
      this.onEnd = action;
      return this;
    }

    /**
     * For a child whose standard output is a stream of protocol lines (the torture children print
     * one per acknowledged write): they go only to the listener, not to memory or the log, and the
     * log receives standard error alone.
     */
    public Builder protocolOutput() {
      this.keep = false;
      this.logOutput = false;
      return this;
    }

    public ForkedJvm start() throws IOException {
      ProcessBuilder pb = new ProcessBuilder(command);
      unset.forEach(pb.environment()::remove);
      pb.environment().putAll(environment);
      if (logOutput) {
        pb.redirectErrorStream(true);
      } else {
        pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
      }
      ForkedJvm jvm = new ForkedJvm(this, pb.start());
      Thread pump = new Thread(jvm::pump, "forked-" + name + "-output");
      pump.setDaemon(true);
      pump.start();
      return jvm;
    }
  }

  /**
   * The command that runs {@code mainClass} in a JVM like this one (same java, same class path),
   * with {@code jvmOptions} before the class and {@code args} after it.
   */
  public static List<String> javaCommand(
      List<String> jvmOptions, String mainClass, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(args);
    return cmd;
  }

  private void pump() {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
      if (logOutput) {
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(log, UTF_8))) {
          out.println("# " + process.info().commandLine().orElse(name));
          for (String line = in.readLine(); line != null; line = in.readLine()) {
            out.println(STAMP.format(LocalTime.now(ZoneId.systemDefault())) + " " + line);
            out.flush();
            arrived(line);
          }
        }
      } else {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          arrived(line);
        }
      }
    } catch (IOException e) {
      // the process is gone; its log ends here
    } finally {
      synchronized (this) {
        ended = true;
        notifyAll();
      }
      onEnd.run();
    }
  }

  private void arrived(String line) {
    onLine.accept(line);
    if (!keep) {
      return;
    }
    synchronized (this) {
      lines.add(line);
      if (tail.size() == TAIL) {
        tail.removeFirst();
      }
      tail.addLast(line);
      notifyAll();
    }
  }

  /** The first output line containing {@code text}, waiting up to {@code timeout} for it. */
  public String await(String text, Duration timeout) throws InterruptedException {
    return await(l -> l.contains(text), "'" + text + "'", timeout);
  }

  /** The first output line starting with {@code prefix}, waiting up to {@code timeout}. */
  public String awaitPrefix(String prefix, Duration timeout) throws InterruptedException {
    return await(l -> l.startsWith(prefix), "a line starting '" + prefix + "'", timeout);
  }

  private synchronized String await(Predicate<String> match, String what, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int seen = 0; ; ) {
      for (; seen < lines.size(); seen++) {
        if (match.test(lines.get(seen))) {
          return lines.get(seen);
        }
      }
      long left = deadline - System.nanoTime();
      if (ended || left <= 0) {
        throw new Failed(
            name
                + (ended ? " exited" : " timed out")
                + " before printing "
                + what
                + "; its log is "
                + log
                + "\n"
                + tail());
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /** How many output lines so far contain {@code text}. */
  public synchronized int count(String text) {
    int n = 0;
    for (String l : lines) {
      if (l.contains(text)) {
        n++;
      }
    }
    return n;
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

  // Signals go through the process handle: Process.destroy() also closes this side of the pipes,
  // and the last lines the child wrote (an acknowledgement, "stopped") would be lost.

  /** kill -9: no shutdown hook, no flush, the way a crash ends a process. Waits for it to go. */
  public void kill9() throws InterruptedException {
    process.toHandle().destroyForcibly();
    process.waitFor();
  }

  /** Sends SIGTERM, without waiting. */
  public void terminate() {
    process.toHandle().destroy();
  }

  /** SIGTERM, then SIGKILL if it has not exited within {@code grace}. */
  public void stop(Duration grace) {
    if (!process.isAlive()) {
      return;
    }
    terminate();
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.toHandle().destroyForcibly();
        process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.toHandle().destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Writes {@code line} to the child's standard input. */
  public void send(String line) throws IOException {
    var in = process.getOutputStream();
    in.write((line + "\n").getBytes(UTF_8));
    in.flush();
  }

  /** Waits until the child's output has been read to its end (it exited and the pipe drained). */
  public synchronized void awaitOutputEnd(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ended) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new Failed(name + "'s output did not end within " + timeout);
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /** The output lines so far (all of them unless {@link Builder#protocolOutput}). */
  public synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  /** Waits for the process to end by itself (a crash point, a finished run); its exit code. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new Failed(name + " did not exit within " + timeout + "; its log is " + log);
    }
    return process.exitValue();
  }

  /** "code N" once the process has exited (waiting up to 10 s for it), "?" if it has not. */
  public String exitDescription() {
    try {
      return process.waitFor(10, TimeUnit.SECONDS) ? "code " + process.exitValue() : "?";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "?";
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

  /** kill -9 if still running. */
  @Override
  public void close() {
    if (process.isAlive()) {
      try {
        kill9();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A process that died or never became ready; the message carries its last output. */
  public static final class Failed extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public Failed(String message) {
      super(message);
    }
  }
}
