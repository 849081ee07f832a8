package dev.twopc.participant;

import dev.twopc.testing.ForkedJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs {@link ParticipantProcessMain} in a child JVM and reads what it prints. */
final class ForkedParticipant implements AutoCloseable {
  private final ForkedJvm jvm;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  ForkedParticipant(String name, Path dataDir, String coordinator, String crashAt, Path log)
      throws IOException {
    jvm =
        ForkedJvm.builder(
                name,
                ForkedJvm.javaCommand(
                    List.of("-Xmx256m", "-Dtwopc.test.crashAt=" + crashAt),
                    ParticipantProcessMain.class.getName(),
                    List.of(name, dataDir.toString(), coordinator)),
                log)
            .protocolOutput()
            .onLine(lines::add)
            .start();
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
    return jvm.awaitExit(Duration.ofSeconds(30));
  }

  int quit() throws IOException, InterruptedException {
    jvm.send("quit");
    return awaitExit();
  }

  @Override
  public void close() {
    jvm.close();
  }
}
