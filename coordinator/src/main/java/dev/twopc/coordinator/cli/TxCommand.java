package dev.twopc.coordinator.cli;

import picocli.CommandLine.Command;

/** {@code twopc tx ...}: the operator's view of transactions. Needs a subcommand. */
@Command(
    name = "tx",
    mixinStandardHelpOptions = true,
    description = "List, inspect, retry and resolve transactions.",
    subcommands = {
      TxListCommand.class,
      TxShowCommand.class,
      TxRetryCommand.class,
      TxResolveCommand.Commit.class,
      TxResolveCommand.Abort.class
    })
final class TxCommand {}
