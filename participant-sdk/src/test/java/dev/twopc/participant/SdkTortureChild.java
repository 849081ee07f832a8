package dev.twopc.participant;

import dev.twopc.testing.ChildProtocol;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The child JVM of {@link SdkCrashTortureTest}: starts a participant on the store it opens for
 * {@link Participant.Builder#dataDirectory} (opening it and recovering prepared branches, as at
 * every start), prints {@code READY}, then has {@code writers} threads run prepare and (three times
 * in four) commit of fresh branches through the participant's engine, the code path the
 * coordinator's Prepare and Commit calls take. {@code P <txId>} is printed once a YES vote has
 * returned (it would now be sent), {@code C <txId>} once a commit has returned (it would be
 * acknowledged): one write per line, flushed.
 *
 * <p>Args: {@code DATA_DIR NAME WRITERS}.
 */
public final class SdkTortureChild {
  private SdkTortureChild() {}

  private static final OutputStream OUT = new FileOutputStream(FileDescriptor.out);

  static synchronized void say(String line) {
    try {
      OUT.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
      OUT.flush();
    } catch (IOException e) {
      Runtime.getRuntime().halt(3);
    }
  }

  /** Votes YES to everything; commit and rollback have nothing of their own to apply. */
  static final class YesHandler implements ParticipantHandler {
    @Override
    public Vote prepare(PrepareContext ctx) {
      return Vote.yes();
    }

    @Override
    public void commit(BranchContext ctx) {}

    @Override
    public void rollback(BranchContext ctx) {}
  }

  /** A participant that talks to no coordinator: no registration or outcome query succeeds. */
  static Participant participant(Path dir, String name) {
    return Participant.builder(name)
        .coordinator("127.0.0.1:1")
        .listenPort(0)
        .dataDirectory(dir)
        .handler(new YesHandler())
        .inDoubtAfter(Duration.ofHours(1))
        .inDoubtCheckInterval(Duration.ofHours(1))
        .reregisterInterval(Duration.ofHours(1))
        .retryBackoff(Duration.ofMinutes(1), Duration.ofMinutes(10))
        .shutdownGrace(Duration.ZERO)
        .build();
  }

  public static void main(String[] args) throws Exception {
    ChildProtocol.haltWithParent(Duration.ofMinutes(2));
    if (args[0].equals("verify")) {
      verify(Path.of(args[1]), args[2], Path.of(args[3]));
      return;
    }
    Path dir = Path.of(args[0]);
    String name = args[1];
    int writers = Integer.parseInt(args[2]);
    say("OPENING");
    long t0 = System.nanoTime();
    Participant p = participant(dir, name);
    p.start();
    say("READY " + (System.nanoTime() - t0) / 1_000_000 + " " + p.listPrepared().size());
    for (int t = 0; t < writers; t++) {
      new Thread(() -> write(p), "sdk-torture-writer-" + t).start();
    }
  }

  private static void write(Participant p) {
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    byte[] payload = new byte[64];
    while (true) {
      String id = UUID.randomUUID().toString();
      rnd.nextBytes(payload);
      try {
        Vote v = p.engine().prepare(id, payload, Duration.ofSeconds(5), null, false, false);
        if (!v.isYes()) {
          say("E " + id + " vote " + v);
          continue;
        }
        say("P " + id);
        if (rnd.nextInt(4) != 0) {
          p.engine().commit(id);
          say("C " + id);
        }
      } catch (RuntimeException e) {
        say("E " + id + " " + e.toString().replace('\n', ' '));
      }
    }
  }

  /**
   * In a fresh JVM (so nothing of an earlier open lingers): starts a participant on the store and
   * prints {@code MISSING <line>} for every {@code P id} that is neither prepared nor committed and
   * every {@code C id} that is not committed, then {@code VERIFIED n}.
   */
  private static void verify(Path dir, String name, Path acked) {
    Participant p = participant(dir, name);
    try {
      p.start();
      java.util.Set<String> prepared = new java.util.HashSet<>();
      p.listPrepared().forEach(b -> prepared.add(b.txId()));
      dev.twopc.participant.internal.BranchStore store = store(p);
      int n = 0;
      for (String line : java.nio.file.Files.readAllLines(acked)) {
        String id = line.substring(2);
        boolean ok = committed(store, id) || (line.startsWith("P ") && prepared.contains(id));
        if (!ok) {
          say("MISSING " + line);
        }
        n++;
      }
      say("VERIFIED " + n);
    } catch (Exception e) {
      say("OPENFAIL " + e.toString().replace('\n', ' '));
    }
    Runtime.getRuntime().halt(0);
  }

  /** The participant's store: no public reader has the finished records, so reflectively. */
  static dev.twopc.participant.internal.BranchStore store(Participant p)
      throws ReflectiveOperationException {
    for (java.lang.reflect.Field f : Participant.class.getDeclaredFields()) {
      if (dev.twopc.participant.internal.BranchStore.class.isAssignableFrom(f.getType())) {
        f.setAccessible(true);
        return (dev.twopc.participant.internal.BranchStore) f.get(p);
      }
    }
    throw new NoSuchFieldException("Participant has no BranchStore field");
  }

  static boolean committed(dev.twopc.participant.internal.BranchStore store, String id) {
    var f = store.finished(id);
    return f.isPresent() && f.get().fate() == dev.twopc.participant.internal.Fate.COMMITTED;
  }
}
