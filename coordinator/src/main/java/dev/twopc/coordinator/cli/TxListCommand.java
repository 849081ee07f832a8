package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.ListTransactionsResponse;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.telemetry.Durations;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code twopc tx list}: Admin.ListTransactions, paged up to {@code --limit}. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "List transactions, newest first.",
      "In doubt = decided but not acknowledged by every branch, or undecided past its deadline."
    })
final class TxListCommand extends CoordinatorRpcCommand {
  /** The most the coordinator returns in one page. */
  static final int MAX_PAGE = 1000;

  @Option(names = "--in-doubt", description = "Only transactions in doubt.")
  boolean inDoubt;

  @Option(
      names = "--state",
      paramLabel = "STATE",
      split = ",",
      converter = StateConverter.class,
      description =
          "Only these states (repeat or comma-separate): ACTIVE, PREPARING, COMMITTING,"
              + " COMMITTED, ABORTING, ABORTED.")
  List<TransactionState> states = new ArrayList<>();

  @Option(
      names = "--older-than",
      paramLabel = "DURATION",
      converter = Durations.Converter.class,
      description = "Only transactions created at least this long ago (e.g. 30s, 5m, 2h, 7d).")
  Duration olderThan;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "100",
      description = "Show at most N transactions (default ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--json", description = "One JSON object (a TransactionView) per line.")
  boolean json;

  @Override
  int run(ManagedChannel channel) {
    if (limit < 1) {
      throw new ParameterException(spec.commandLine(), "--limit must be at least 1, was " + limit);
    }
    ListTransactionsRequest.Builder request =
        ListTransactionsRequest.newBuilder().setInDoubt(inDoubt).addAllStates(states);
    if (olderThan != null) {
      request.setOlderThan(
          com.google.protobuf.Duration.newBuilder()
              .setSeconds(olderThan.getSeconds())
              .setNanos(olderThan.getNano()));
    }
    PrintWriter out = out();
    List<TransactionView> shown = new ArrayList<>();
    String token = "";
    do {
      request.setPageSize(Math.min(MAX_PAGE, limit - shown.size())).setPageToken(token);
      ListTransactionsResponse page = admin(channel).listTransactions(request.build());
      for (TransactionView tx : page.getTransactionsList()) {
        if (shown.size() == limit) {
          break;
        }
        shown.add(tx);
        if (json) {
          out.println(Json.line(tx));
        }
      }
      token = page.getNextPageToken();
      if (page.getTransactionsCount() == 0) {
        break; // a server that returns an empty page with a token would loop forever
      }
    } while (!token.isEmpty() && shown.size() < limit);
    if (!json) {
      printTable(out, shown, !token.isEmpty());
    }
    return ExitCodes.OK;
  }

  private void printTable(PrintWriter out, List<TransactionView> txs, boolean more) {
    if (txs.isEmpty()) {
      out.println(inDoubt ? "no transactions in doubt" : "no transactions");
      return;
    }
    Instant now = Instant.now();
    TextTable table =
        new TextTable(
            new String[] {"TX ID", "STATE", "AGE", "BRANCHES", "ATTEMPTS", "PARKED", "LAST ERROR"},
            new int[] {40, 0, 0, 0, 0, 0, 0});
    for (TransactionView tx : txs) {
      table.row(
          tx.getTxId(),
          Views.name(tx.getState()),
          Durations.age(Views.age(tx, now)),
          Integer.toString(tx.getBranchesCount()),
          Integer.toString(Views.attempts(tx)),
          tx.getParked() ? "yes" : "",
          Views.lastError(tx));
    }
    table.print(out, TextTable.DEFAULT_WIDTH);
    if (more) {
      out.println("(first " + txs.size() + " shown; more match: raise --limit)");
    }
  }
}
