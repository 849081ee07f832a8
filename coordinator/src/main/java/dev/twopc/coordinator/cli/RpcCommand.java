package dev.twopc.coordinator.cli;

import dev.twopc.security.TlsCredentials;
import dev.twopc.security.TlsFiles;
import dev.twopc.security.TlsFlags;
import dev.twopc.telemetry.Durations;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * A command that makes gRPC calls to one peer: opens a channel (TLS with the {@code --tls-*} flags,
 * plaintext without), runs, maps failures to one line and an exit code, and always closes the
 * channel.
 */
abstract class RpcCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "${TWOPC_TIMEOUT:-10s}",
      converter = Durations.Converter.class,
      description = "Deadline of each call (env TWOPC_TIMEOUT, default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Mixin TlsFlags tls = new TlsFlags();

  /** HOST:PORT to call. */
  abstract String target();

  /** What is being called, for messages: "coordinator" or "participant". */
  abstract String peer();

  /** Does the work; returns the exit code. Failed calls throw {@link StatusRuntimeException}. */
  abstract int run(ManagedChannel channel);

  @Override
  public final Integer call() {
    if (timeout.isZero()) {
      throw new ParameterException(spec.commandLine(), "--timeout must be positive");
    }
    TlsFiles files = tls.files(spec, false);
    TlsCredentials credentials;
    try {
      credentials = files == null ? null : TlsCredentials.load(files, Duration.ofHours(1));
    } catch (IOException e) {
      err().println("twopc: " + RpcErrors.oneLine(e.getMessage()));
      err().flush();
      return ExitCodes.FAILURE;
    }
    String[] target = {target()};
    ManagedChannel channel = reachable(target, credentials);
    try {
      int code = run(channel);
      out().flush();
      return code;
    } catch (StatusRuntimeException e) {
      out().flush();
      return RpcErrors.report(e, channel, peer(), target[0], timeout, err());
    } catch (ParameterException e) {
      throw e;
    } catch (RuntimeException e) {
      err().println("twopc: " + peer() + " call failed: " + RpcErrors.oneLine(String.valueOf(e)));
      err().flush();
      return ExitCodes.FAILURE;
    } finally {
      if (credentials != null) {
        credentials.close();
      }
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The channel to {@code target[0]}; for several nodes (comma-separated), to the first that
   * connects within a moment, any of them answering from the shared log (the one chosen is left in
   * {@code target[0]}).
   */
  private ManagedChannel reachable(String[] target, TlsCredentials credentials) {
    String[] nodes = target[0].split(",", -1);
    ManagedChannel chosen = null;
    long waitMillis = Math.min(timeout.toMillis(), 2_000);
    for (int i = 0; i < nodes.length; i++) {
      ManagedChannel ch =
          Grpc.newChannelBuilder(
                  nodes[i],
                  credentials == null ? InsecureChannelCredentials.create() : credentials.channel())
              .build();
      if (i == nodes.length - 1 || connects(ch, waitMillis)) {
        chosen = ch;
        target[0] = nodes[i];
        break;
      }
      ch.shutdownNow();
    }
    return chosen;
  }

  private static boolean connects(ManagedChannel ch, long waitMillis) {
    java.util.concurrent.CompletableFuture<Boolean> outcome =
        new java.util.concurrent.CompletableFuture<>();
    Runnable[] watch = new Runnable[1];
    watch[0] =
        () -> {
          io.grpc.ConnectivityState state = ch.getState(true);
          if (state == io.grpc.ConnectivityState.READY) {
            outcome.complete(true);
          } else if (state == io.grpc.ConnectivityState.TRANSIENT_FAILURE
              || state == io.grpc.ConnectivityState.SHUTDOWN) {
            outcome.complete(false);
          } else {
            ch.notifyWhenStateChanged(state, watch[0]);
          }
        };
    watch[0].run();
    try {
      return outcome.get(waitMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return false;
    }
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** The user name recorded as the operator of retries and resolutions. */
  static String operator() {
    String user = System.getProperty("user.name");
    return user == null || user.isBlank() ? "unknown" : user;
  }
}
