package dev.twopc.bench.internal;

import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.security.DevIdentities;
import dev.twopc.testing.ForkedJvm;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The system under test: a coordinator and N participants, either started here as separate JVMs
 * (each with its own data directory) or already running elsewhere. Knows their addresses, their
 * processes (for CPU figures) and how to wait until they are ready or idle.
 */
public final class Cluster implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
  private static final Pattern LISTENING = Pattern.compile("listening on [^ ]*:(\\d+) ");

  /** How to start the children. */
  public record Spawn(
      List<String> java,
      List<String> jvmOpts,
      Path jfrDir,
      Path work,
      List<String> coordinatorLauncher,
      List<String> participantLauncher,
      String durability,
      int lockKeys,
      String logLevel,
      DevIdentities tls,
      boolean metrics,
      String participantKind,
      String participantCalls) {}

  private final String coordinator;
  private final Map<String, String> participants;
  private final List<ForkedJvm> children = new CopyOnWriteArrayList<>();
  private final boolean external;
  private final ChannelCredentials credentials;

  private Cluster(
      String coordinator,
      Map<String, String> participants,
      List<ForkedJvm> children,
      boolean external,
      ChannelCredentials credentials) {
    this.credentials = credentials;
    this.coordinator = coordinator;
    this.participants = participants;
    this.children.addAll(children);
    this.external = external;
  }

  /**
   * Running elsewhere: nothing is started, and nothing is stopped on close. The bench reaches it
   * with {@code credentials}.
   */
  public static Cluster external(
      String coordinator, Map<String, String> participants, ChannelCredentials credentials) {
    return new Cluster(coordinator, participants, List.of(), true, credentials);
  }

  /**
   * Starts the coordinator, then {@code branches} participants {@code p1..pN} registering with it,
   * and returns once every participant is registered. Children already started are stopped if
   * anything fails; {@code started} sees each child as soon as it exists (for a shutdown hook).
   * With {@code s.tls()}, every hop is mutual TLS and the bench calls with {@code credentials}
   * (those of the identity {@code bench}).
   */
  public static Cluster spawn(
      Spawn s, int branches, List<ForkedJvm> started, ChannelCredentials credentials)
      throws IOException, InterruptedException {
    List<ForkedJvm> mine = new ArrayList<>();
    try {
      List<String> cmd = jvm(s, "coordinator");
      cmd.addAll(s.coordinatorLauncher());
      cmd.addAll(
          List.of(
              "coordinator",
              "--port",
              "0",
              "--host",
              "127.0.0.1",
              "--data",
              s.work().resolve("coordinator").toString(),
              "--durability",
              s.durability(),
              "--participant-calls",
              s.participantCalls()));
      if (s.tls() != null) {
        cmd.addAll(s.tls().serverFlags("coordinator"));
      }
      if (s.metrics()) {
        cmd.addAll(List.of("--metrics-port", "0"));
      }
      ForkedJvm coord = ForkedJvm.start("coordinator", cmd, s.work().resolve("coordinator.log"));
      mine.add(coord);
      started.add(coord);
      String line = coord.await("twopc coordinator listening on", START_TIMEOUT);
      Matcher m = LISTENING.matcher(line);
      if (!m.find()) {
        throw new IllegalStateException("cannot read the coordinator's port from: " + line);
      }
      String coordinator = "localhost:" + m.group(1);

      Map<String, String> participants = new LinkedHashMap<>();
      List<ForkedJvm> starting = new ArrayList<>();
      for (int i = 1; i <= branches; i++) {
        String name = "p" + i;
        List<String> pc = jvm(s, name);
        pc.addAll(s.participantLauncher());
        pc.addAll(
            List.of(
                "--name",
                name,
                "--port",
                "0",
                "--coordinator",
                coordinator,
                "--data",
                s.work().resolve(name).toString(),
                "--lock-keys",
                Integer.toString(s.lockKeys()),
                "--store",
                s.participantKind().equals("memory") ? "memory" : "sdk"));
        boolean memory = s.participantKind().equals("memory");
        if (s.tls() != null && !memory) {
          pc.addAll(s.tls().serverFlags(name));
        }
        if (s.metrics() && !memory) {
          pc.addAll(List.of("--metrics-port", "0"));
        }
        ForkedJvm p = ForkedJvm.start(name, pc, s.work().resolve(name + ".log"));
        mine.add(p);
        started.add(p);
        starting.add(p);
      }
      for (ForkedJvm p : starting) {
        String ready = p.await("bench participant " + p.name() + " ready on ", START_TIMEOUT);
        participants.put(p.name(), ready.substring(ready.lastIndexOf(' ') + 1));
      }
      Cluster c = new Cluster(coordinator, participants, mine, false, credentials);
      c.awaitRegistered();
      return c;
    } catch (IOException | InterruptedException | RuntimeException e) {
      stopAll(mine);
      throw e;
    }
  }

  private static List<String> jvm(Spawn s, String proc) {
    List<String> cmd = new ArrayList<>(s.java());
    cmd.addAll(s.jvmOpts());
    cmd.add("-Dtwopc.log.level=" + s.logLevel());
    if (s.jfrDir() != null) {
      cmd.add(
          "-XX:StartFlightRecording=filename="
              + s.jfrDir().resolve(proc + ".jfr")
              + ",settings=profile,dumponexit=true");
    }
    return cmd;
  }

  /** Waits until the coordinator lists every participant (Execute needs them registered). */
  public void awaitRegistered() throws InterruptedException {
    ManagedChannel ch = Channels.open(Channels.first(coordinator), credentials);
    try {
      long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
      Set<String> registered = Set.of();
      while (true) {
        try {
          registered =
              CoordinatorGrpc.newBlockingStub(ch)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .listParticipants(ListParticipantsRequest.getDefaultInstance())
                  .getParticipantsList()
                  .stream()
                  .map(ParticipantInfo::getName)
                  .collect(Collectors.toSet());
          if (registered.containsAll(participants.keySet())) {
            return;
          }
        } catch (StatusRuntimeException e) {
          // not serving yet
        }
        checkAlive();
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "participants not registered with "
                  + coordinator
                  + " after "
                  + START_TIMEOUT.toSeconds()
                  + " s: only "
                  + registered);
        }
        TimeUnit.MILLISECONDS.sleep(50);
      }
    } finally {
      ch.shutdownNow();
    }
  }

  /**
   * Waits until no participant has a prepared branch left, so that one phase does not run while the
   * previous one's phase 2 is still being applied. Returns how long that took.
   */
  public Duration awaitIdle(Duration timeout) throws InterruptedException {
    long t0 = System.nanoTime();
    List<ManagedChannel> chans = new ArrayList<>();
    try {
      for (String target : participants.values()) {
        chans.add(Channels.open(target, credentials));
      }
      while (true) {
        int prepared = 0;
        for (ManagedChannel ch : chans) {
          try {
            prepared +=
                ParticipantGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .listPrepared(ListPreparedRequest.getDefaultInstance())
                    .getBranchesCount();
          } catch (StatusRuntimeException e) {
            prepared++; // cannot tell: keep waiting (bounded)
          }
        }
        if (prepared == 0) {
          return Duration.ofNanos(System.nanoTime() - t0);
        }
        checkAlive();
        if (System.nanoTime() - t0 > timeout.toNanos()) {
          throw new IllegalStateException(
              prepared
                  + " branch(es) still prepared "
                  + timeout.toSeconds()
                  + " s after the load stopped");
        }
        TimeUnit.MILLISECONDS.sleep(20);
      }
    } finally {
      chans.forEach(ManagedChannel::shutdownNow);
    }
  }

  /** Fails, with the child's last output, if a child the bench started has exited. */
  public void checkAlive() {
    for (ForkedJvm c : children) {
      if (!c.isAlive()) {
        throw new ForkedJvm.Failed(
            c.name()
                + " (pid "
                + c.pid()
                + ") exited; its log"
                + " is "
                + c.log()
                + "\n"
                + c.tail());
      }
    }
  }

  public String coordinator() {
    return coordinator;
  }

  /** How the bench's channels to the coordinator and the participants are secured. */
  public ChannelCredentials credentials() {
    return credentials;
  }

  /** Participant name to host:port, in branch order. */
  public Map<String, String> participants() {
    return participants;
  }

  /** The processes started here (empty for an external cluster). */
  public List<ForkedJvm> children() {
    return children;
  }

  public boolean isExternal() {
    return external;
  }

  @Override
  public void close() {
    stopAll(children);
  }

  /** Stops the given children: SIGTERM to all, then SIGKILL to those still running after 10 s. */
  public static void stopAll(List<ForkedJvm> children) {
    children.forEach(ForkedJvm::terminate); // all at once: each takes a moment to close cleanly
    for (ForkedJvm c : children) {
      c.stop(Duration.ofSeconds(10));
    }
  }
}
