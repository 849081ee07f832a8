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
    ManagedChannel channel =
        Grpc.newChannelBuilder(
                target(),
                credentials == null ? InsecureChannelCredentials.create() : credentials.channel())
            .build();
    try {
      int code = run(channel);
      out().flush();
      return code;
    } catch (StatusRuntimeException e) {
      out().flush();
      return RpcErrors.report(e, channel, peer(), target(), timeout, err());
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
