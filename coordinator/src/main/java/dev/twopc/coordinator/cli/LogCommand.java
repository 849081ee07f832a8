package dev.twopc.coordinator.cli;

import dev.twopc.coordinator.internal.log.rocks.LogDump;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code twopc log dump}: the embedded RocksDB log's records, read-only, as JSON lines. */
@Command(
    name = "log",
    mixinStandardHelpOptions = true,
    description = "Inspect the embedded decision log directly (read-only).",
    subcommands = {LogCommand.Dump.class})
final class LogCommand {

  @Command(
      name = "dump",
      mixinStandardHelpOptions = true,
      description =
          "Print the embedded log's transactions as JSON lines, newest first, and"
              + " the registry. Read-only: safe beside a running coordinator.")
  static final class Dump implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--data",
        paramLabel = "DIR",
        defaultValue = "${TWOPC_DATA:-data}",
        description = "The coordinator's data directory [TWOPC_DATA] (default ${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--tx", paramLabel = "TXID", description = "Only this transaction.")
    String txId;

    @Option(
        names = "--limit",
        paramLabel = "N",
        defaultValue = "100",
        description = "Most transactions printed (default ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--participants", description = "Also print the registry.")
    boolean participants;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (limit < 1) {
        err.println("twopc: --limit must be at least 1");
        return ExitCodes.USAGE;
      }
      try {
        int n = LogDump.dump(data, txId, limit, participants, out);
        if (txId != null && n == 0) {
          err.println("twopc: transaction " + txId + " is not in the log at " + data);
          return ExitCodes.NOT_FOUND;
        }
        return ExitCodes.OK;
      } catch (IOException e) {
        err.println("twopc: " + RpcErrors.oneLine(e.getMessage()));
        return ExitCodes.FAILURE;
      }
    }
  }
}
