package dev.twopc.participant;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs {@link ParticipantProcessMain} in a child JVM and reads what it prints. */
final class ForkedParticipant implements AutoCloseable {
  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  ForkedParticipant(String name, Path dataDir, String coordinator, String crashAt, Path log)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("-Xmx256m");
    cmd.add("-Dtwopc.test.crashAt=" + crashAt);
    cmd.add(ParticipantProcessMain.class.getName());
    cmd.add(name);
    cmd.add(dataDir.toString());
    cmd.add(coordinator);
    process = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                lines.add("EOF " + e.getMessage());
              }
            },
            "forked-participant-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  /** The next line printed, waiting at most 30 s. */
  String nextLine() throws InterruptedException {
    String line = lines.poll(30, TimeUnit.SECONDS);
    if (line == null) {
      throw new AssertionError("the forked participant printed nothing for 30 s");
    }
    return line;
  }

  int awaitExit() throws InterruptedException {
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("the forked participant did not exit");
    }
    return process.exitValue();
  }

  int quit() throws IOException, InterruptedException {
    Writer w = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    w.write("quit\n");
    w.flush();
    return awaitExit();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
