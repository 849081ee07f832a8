package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.Branch;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.proto.v1.TransactionView;
import io.grpc.ManagedChannel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code twopc tx retry TXID}: Admin.RetryTransaction. */
@Command(
    name = "retry",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = "Retry phase 2 of a decided transaction now, resetting its backoff.")
final class TxRetryCommand extends CoordinatorRpcCommand {
  @Parameters(paramLabel = "TXID", description = "The transaction id.")
  String txId;

  @Option(names = "--json", description = "Print the resulting TransactionView as JSON.")
  boolean json;

  @Override
  int run(ManagedChannel channel) {
    TransactionView tx =
        admin(channel)
            .retryTransaction(
                RetryTransactionRequest.newBuilder().setTxId(txId).setOperator(operator()).build());
    if (json) {
      out().println(Json.line(tx));
    } else {
      out()
          .println(
              "retry requested for "
                  + tx.getTxId()
                  + ": state "
                  + Views.name(tx.getState())
                  + ", "
                  + unacknowledged(tx)
                  + " branch(es) not yet acknowledged");
    }
    return ExitCodes.OK;
  }

  static int unacknowledged(TransactionView tx) {
    int n = 0;
    for (Branch b : tx.getBranchesList()) {
      switch (b.getState()) {
        case BRANCH_STATE_COMMITTING:
        case BRANCH_STATE_ROLLING_BACK:
        case BRANCH_STATE_PREPARED:
          n++;
          break;
        default:
          break;
      }
    }
    return n;
  }
}
