package dev.twopc.participant;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A participant in its own JVM, for crash tests. Arguments: name, data dir, coordinator target.
 * System property {@code twopc.test.crashAt}: {@code prepared} halts the JVM right after a YES is
 * durable (before it is sent), {@code commit} halts inside the commit handler. Prints "RECOVERED
 * ..." lines during recovery and "READY port=N" once serving; "quit" on stdin closes the
 * participant and exits 0.
 */
public final class ParticipantProcessMain {
  static final int HALT_CODE = 99;

  private ParticipantProcessMain() {}

  public static void main(String[] args) throws Exception {
    String name = args[0];
    Path dataDir = Path.of(args[1]);
    String coordinator = args[2];
    String crashAt = System.getProperty("twopc.test.crashAt", "");
    Participant[] self = new Participant[1];
    TestHandler inner = new TestHandler();
    ParticipantHandler handler =
        new ParticipantHandler() {
          @Override
          public Vote prepare(PrepareContext ctx) throws Exception {
            return inner.prepare(ctx);
          }

          @Override
          public void commit(BranchContext ctx) throws Exception {
            if (crashAt.equals("commit")) {
              Runtime.getRuntime().halt(HALT_CODE);
            }
            inner.commit(ctx);
          }

          @Override
          public void rollback(BranchContext ctx) throws Exception {
            inner.rollback(ctx);
          }
        };
    Participant p =
        Participant.builder(name)
            .coordinator(coordinator)
            .dataDirectory(dataDir)
            .handler(handler)
            .inDoubtAfter(Duration.ofMillis(200))
            .inDoubtCheckInterval(Duration.ofMillis(20))
            .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .reregisterInterval(Duration.ofMillis(500))
            .listener(
                new ParticipantListener() {
                  @Override
                  public void onRecovered(List<PreparedBranchInfo> branches) {
                    boolean serving;
                    try {
                      self[0].port();
                      serving = true;
                    } catch (IllegalStateException notYet) {
                      serving = false;
                    }
                    for (PreparedBranchInfo b : branches) {
                      List<String> holders =
                          b.lockKeys().isEmpty()
                              ? List.of()
                              : self[0].engine().locks().holders(b.lockKeys().get(0));
                      System.out.println(
                          "RECOVERED tx="
                              + b.txId()
                              + " locks="
                              + b.lockKeys()
                              + " holders="
                              + holders
                              + " serving="
                              + serving);
                    }
                  }

                  @Override
                  public void onPrepared(String txId) {
                    if (crashAt.equals("prepared")) {
                      Runtime.getRuntime().halt(HALT_CODE);
                    }
                  }
                })
            .build();
    self[0] = p;
    p.start();
    System.out.println("READY port=" + p.port());
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.equals("quit")) {
        break;
      }
    }
    p.close();
    System.exit(0);
  }
}
