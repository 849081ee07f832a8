package dev.twopc.testing;

import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.TransactionView;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A coordinator and its participants for a test, like Ratis' MiniRaftCluster: one coordinator on a
 * data directory of the cluster's own, started by a {@link Launcher} (in-process in the module's
 * tests, or {@link #forked} as a real {@code twopc coordinator} process), fake participants
 * registered with it under names unique in the cluster, a channel and stubs, and the coordinator's
 * restart on the same data and port, gracefully or by a crash. Closing it stops everything it
 * started.
 *
 * <p>It knows the coordinator only by the wire API, so every module, the coordinator's own tests
 * included, can use it: each passes the launcher that starts its kind of coordinator.
 */
public final class MiniCluster implements AutoCloseable {

  /** A running coordinator as the cluster sees it. */
  public interface Node extends AutoCloseable {
    /** host:port to dial. */
    String target();

    int port();

    /** A graceful stop. */
    @Override
    void close();

    /** Ends it as a crash would, where the launcher can (a forked one: kill -9). */
    default void crash() {
      close();
    }

    /** A node of a coordinator embedded in this JVM: what a launcher of one returns. */
    static Node of(String target, int port, Runnable close) {
      return new Node() {
        @Override
        public String target() {
          return target;
        }

        @Override
        public int port() {
          return port;
        }

        @Override
        public void close() {
          close.run();
        }
      };
    }
  }

  /** Starts a coordinator on {@code dataDir}, on {@code port} (0: any free one). */
  @FunctionalInterface
  public interface Launcher {
    Node start(Path dataDir, int port) throws IOException;
  }

  private final Path dir;
  private final Path dataDir;
  private final Launcher launcher;
  private final List<FakeParticipant> participants = new ArrayList<>();
  private final Set<String> names = new HashSet<>();
  private Node coordinator;
  private ManagedChannel channel;
  private int lastPort;
  private String lastTarget;

  private MiniCluster(Path dir, Launcher launcher) throws IOException {
    this.dir = dir;
    this.dataDir = Files.createDirectories(dir.resolve("coordinator"));
    this.launcher = launcher;
    start(0);
  }

  /** A cluster under {@code dir} (a test's temp directory) with a coordinator started. */
  public static MiniCluster start(Path dir, Launcher launcher) throws IOException {
    return new MiniCluster(dir, launcher);
  }

  private void start(int port) throws IOException {
    coordinator = launcher.start(dataDir, port);
    lastPort = coordinator.port();
    lastTarget = coordinator.target();
    channel =
        Grpc.newChannelBuilder(coordinator.target(), InsecureChannelCredentials.create()).build();
  }

  public Node coordinator() {
    return coordinator;
  }

  /** host:port of the coordinator (where it was, while it is stopped). */
  public String target() {
    return lastTarget;
  }

  /** Where the coordinator keeps its log (the same across restarts). */
  public Path dataDir() {
    return dataDir;
  }

  /** A directory of the cluster's for {@code name} (a participant's store, a log). */
  public Path dir(String name) throws IOException {
    return Files.createDirectories(dir.resolve(name));
  }

  public ManagedChannel channel() {
    return channel;
  }

  public CoordinatorGrpc.CoordinatorBlockingStub stub() {
    return CoordinatorGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  public AdminGrpc.AdminBlockingStub admin() {
    return AdminGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  /** A fake participant named {@code name}, registered here; a name is taken once per cluster. */
  public FakeParticipant participant(String name) throws IOException {
    return add(name, FakeParticipant.start(name));
  }

  /** As {@link #participant}, one that serves only the unary calls (no Exchange stream). */
  public FakeParticipant unaryOnlyParticipant(String name) throws IOException {
    return add(name, FakeParticipant.startUnaryOnly(name));
  }

  private FakeParticipant add(String name, FakeParticipant p) {
    if (!names.add(name)) {
      p.close();
      throw new IllegalArgumentException("participant " + name + " is already in this cluster");
    }
    participants.add(p);
    p.register(target());
    return p;
  }

  /** Whether a participant named {@code name} is in the coordinator's registry. */
  public boolean isRegistered(String name) {
    return stub()
        .listParticipants(ListParticipantsRequest.getDefaultInstance())
        .getParticipantsList()
        .stream()
        .anyMatch(p -> p.getName().equals(name));
  }

  /** The coordinator's view of {@code txId} (GetTransaction). */
  public TransactionView transaction(String txId) {
    return stub().getTransaction(GetTransactionRequest.newBuilder().setTxId(txId).build());
  }

  /**
   * Stops the coordinator gracefully and leaves it down (participants and clients find nobody at
   * its address) until {@link #startCoordinator}.
   */
  public void stopCoordinator() {
    if (coordinator == null) {
      throw new IllegalStateException("the coordinator is already stopped");
    }
    Shutdown.now(channel);
    coordinator.close();
    coordinator = null;
  }

  /** Starts the stopped coordinator again, on the same data and port. */
  public void startCoordinator() throws IOException {
    if (coordinator != null) {
      throw new IllegalStateException("the coordinator is running");
    }
    start(lastPort);
  }

  /** Stops the coordinator gracefully and starts it again on the same data and port. */
  public void restart() throws IOException {
    stopAndStart(false);
  }

  /** Crashes the coordinator (as far as its launcher can) and starts it again. */
  public void crashAndRestart() throws IOException {
    stopAndStart(true);
  }

  private void stopAndStart(boolean crash) throws IOException {
    int port = coordinator.port();
    Shutdown.now(channel);
    if (crash) {
      coordinator.crash();
    } else {
      coordinator.close();
    }
    start(port);
  }

  @Override
  public void close() {
    participants.forEach(FakeParticipant::close);
    if (coordinator != null) {
      Shutdown.now(channel);
      coordinator.close();
    }
  }

  /**
   * Launches {@code twopc coordinator} in its own JVM on this JVM's class path (the coordinator
   * must be on it): {@code --host 127.0.0.1 --durability process}, then {@code extraArgs}. Crashing
   * it is kill -9.
   */
  public static Launcher forked(String... extraArgs) {
    return (dataDir, port) -> {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "coordinator",
                  "--port",
                  String.valueOf(port),
                  "--host",
                  "127.0.0.1",
                  "--data",
                  dataDir.toString(),
                  "--durability",
                  "process"));
      args.addAll(List.of(extraArgs));
      Path log = dataDir.resolveSibling("coordinator-" + System.nanoTime() + ".log");
      ForkedJvm jvm =
          ForkedJvm.start(
              "coordinator",
              ForkedJvm.javaCommand(List.of("-Xmx256m"), COORDINATOR_MAIN, args),
              log);
      try {
        String line = jvm.await("twopc coordinator listening on ", Duration.ofSeconds(60));
        String hostPort = line.split("listening on ")[1].split(" ")[0];
        int bound = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
        return new Node() {
          @Override
          public String target() {
            return "127.0.0.1:" + bound;
          }

          @Override
          public int port() {
            return bound;
          }

          @Override
          public void close() {
            jvm.stop(Duration.ofSeconds(10));
          }

          @Override
          public void crash() {
            jvm.close();
          }
        };
      } catch (InterruptedException e) {
        jvm.close();
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while the coordinator started", e);
      } catch (ForkedJvm.Failed e) {
        jvm.close();
        throw new IOException(e.getMessage(), e);
      }
    };
  }

  /** The {@code twopc} command's main class, found on the class path at run time. */
  private static final String COORDINATOR_MAIN = "dev.twopc.coordinator.cli.TwopcCommand";
}
