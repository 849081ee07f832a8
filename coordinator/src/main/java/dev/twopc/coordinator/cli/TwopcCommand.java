package dev.twopc.coordinator.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code twopc} executable: runs the coordinator and is the operator's tool for it.
 *
 * <pre>
 * twopc coordinator --data /var/lib/twopc          run the service on :7000
 * twopc tx list --in-doubt                         what is stuck, with age and last error
 * twopc tx show TXID                               branches, timeline, operator actions
 * twopc tx retry TXID                              retry phase 2 now
 * twopc tx abort TXID --reason "payments lost"     resolve (refused where unsafe)
 * twopc participants                               who is registered, who fails
 * twopc participant in-doubt --address HOST:PORT   a participant's prepared branches
 * twopc top --metrics http://HOST:9464/metrics      live view: rates, latency, in doubt
 * twopc log dump --data /var/lib/twopc            the embedded log, read-only, as JSON
 * twopc certs --out certs --name inventory         a development CA and certificates
 * twopc bench --duration 20s                       2PC against a baseline (the bench's jar)
 * twopc demo                                       the end-to-end demo (the samples' jar)
 * twopc chaos --duration 10m                       the kill -9 chaos run (the samples' jar)
 * </pre>
 *
 * <p>This is the one root of every twopc command, however many jars are behind it: {@code bench},
 * {@code demo} and {@code chaos} are {@link HandOffCommand}s, which run the jar that implements
 * them (named by {@code -Dtwopc.bench.jar} / {@code -Dtwopc.samples.jar}, as {@code bin/twopc}
 * does, or found beside this jar or in this checkout) with every argument, so their {@code --help}
 * is their own. Every duration flag of every command takes one syntax ({@code 500ms}, {@code 5s},
 * {@code 3m}, {@code 2h}, {@code 7d} or {@code PT5S}: {@link dev.twopc.telemetry.Durations}).
 *
 * <p>Exit codes: 0 success, 1 failure, 2 bad arguments, 3 peer unreachable, 4 not found, 5 refused,
 * 6 denied; bench, demo and chaos exit with their own. Errors are one line on stderr. Embedding and
 * tests run it as {@code new CommandLine(new TwopcCommand()).execute(args)}.
 */
@Command(
    name = "twopc",
    mixinStandardHelpOptions = true,
    version = "twopc 0.1.0-SNAPSHOT",
    description = "Two-phase-commit coordinator and its operator tool.",
    subcommands = {
      CoordinatorCommand.class,
      TxCommand.class,
      ParticipantsCommand.class,
      NodesCommand.class,
      ParticipantCommand.class,
      TopCommand.class,
      LogCommand.class,
      CertsCommand.class,
      HandOffCommand.Bench.class,
      HandOffCommand.Demo.class,
      HandOffCommand.Chaos.class
    },
    footer = {
      "",
      "Exit codes: 0 ok, 1 failure, 2 bad arguments, 3 unreachable, 4 not found, 5 refused,"
          + " 6 denied; bench, demo and chaos: their own.",
      "Logs go to stderr, one event a line: TWOPC_LOG_FORMAT=json"
          + " (-Dtwopc.log.format) for JSON lines, TWOPC_LOG_LEVEL (-Dtwopc.log.level) for the"
          + " level (info)."
    })
public final class TwopcCommand {
  private final ShutdownHooks shutdownHooks;

  public TwopcCommand() {
    this(ShutdownHooks.jvm());
  }

  TwopcCommand(ShutdownHooks shutdownHooks) {
    this.shutdownHooks = shutdownHooks;
  }

  ShutdownHooks shutdownHooks() {
    return shutdownHooks;
  }

  public static void main(String[] args) {
    System.exit(commandLine(new TwopcCommand()).execute(args));
  }

  /**
   * The command line as {@link #main} runs it: usage errors are one line plus a pointer to {@code
   * --help} rather than the whole usage text.
   */
  static CommandLine commandLine(TwopcCommand command) {
    CommandLine cl = new CommandLine(command);
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine failed = ex.getCommandLine();
          PrintWriter err = failed.getErr();
          err.println(
              "twopc: "
                  + RpcErrors.oneLine(ex.getMessage())
                  + " (see '"
                  + failed.getCommandSpec().qualifiedName()
                  + " --help')");
          err.flush();
          return CommandLine.ExitCode.USAGE;
        });
    // The commands map their own failures; this only keeps a bug's stack trace off the console.
    cl.setExecutionExceptionHandler(
        (ex, failed, parseResult) -> {
          failed
              .getErr()
              .println("twopc: unexpected error: " + RpcErrors.oneLine(String.valueOf(ex)));
          failed.getErr().flush();
          return CommandLine.ExitCode.SOFTWARE;
        });
    return cl;
  }
}
