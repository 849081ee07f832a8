package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.Resolution;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.TransactionView;
import io.grpc.ManagedChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code twopc tx commit|abort TXID --reason TEXT}: Admin.ResolveTransaction. The coordinator
 * refuses what would break atomicity (FAILED_PRECONDITION, exit 5) and records every request,
 * refused or not, with the operator's user name and reason.
 */
abstract class TxResolveCommand extends CoordinatorRpcCommand {
  @Parameters(paramLabel = "TXID", description = "The transaction id.")
  String txId;

  @Option(
      names = "--reason",
      paramLabel = "TEXT",
      required = true,
      description = "Why (required; recorded with your user name).")
  String reason;

  @Option(names = "--json", description = "Print the resulting TransactionView as JSON.")
  boolean json;

  abstract Resolution resolution();

  @Override
  int run(ManagedChannel channel) {
    if (reason.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--reason must not be blank");
    }
    TransactionView tx =
        admin(channel)
            .resolveTransaction(
                ResolveTransactionRequest.newBuilder()
                    .setTxId(txId)
                    .setResolution(resolution())
                    .setReason(reason.trim())
                    .setOperator(operator())
                    .build());
    if (json) {
      out().println(Json.line(tx));
    } else {
      out()
          .println(
              Views.name(resolution())
                  + " of "
                  + tx.getTxId()
                  + " accepted (operator "
                  + operator()
                  + "): state "
                  + Views.name(tx.getState())
                  + ", outcome "
                  + Views.name(tx.getOutcome()));
    }
    return ExitCodes.OK;
  }

  @Command(
      name = "commit",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Decide COMMIT for a transaction in doubt.",
        "Refused unless every branch voted YES and no ABORT was decided."
      })
  static final class Commit extends TxResolveCommand {
    @Override
    Resolution resolution() {
      return Resolution.RESOLUTION_COMMIT;
    }
  }

  @Command(
      name = "abort",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Decide ABORT for a transaction in doubt and roll its branches back.",
        "Refused if COMMIT was decided."
      })
  static final class Abort extends TxResolveCommand {
    @Override
    Resolution resolution() {
      return Resolution.RESOLUTION_ABORT;
    }
  }
}
