package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.AdminGetTransactionRequest;
import dev.twopc.proto.v1.TransactionView;
import io.grpc.ManagedChannel;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code twopc tx show TXID}: Admin.GetTransaction. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "Show one transaction: branches (vote, phase-2 state, attempts, last error,"
            + " address), timeline and operator actions.")
final class TxShowCommand extends CoordinatorRpcCommand {
  @Parameters(paramLabel = "TXID", description = "The transaction id.")
  String txId;

  @Option(names = "--json", description = "The TransactionView as one JSON object.")
  boolean json;

  @Override
  int run(ManagedChannel channel) {
    TransactionView tx =
        admin(channel)
            .getTransaction(AdminGetTransactionRequest.newBuilder().setTxId(txId).build());
    if (json) {
      out().println(Json.line(tx));
    } else {
      new TransactionPrinter(out(), Instant.now()).print(tx);
    }
    return ExitCodes.OK;
  }
}
