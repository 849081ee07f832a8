package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.ListNodesRequest;
import dev.twopc.proto.v1.ListNodesResponse;
import dev.twopc.proto.v1.NodeInfo;
import dev.twopc.telemetry.Durations;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code twopc nodes}: Admin.ListNodes. */
@Command(
    name = "nodes",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "List the coordinator nodes sharing the log (PostgreSQL): epoch, address, lease left, and"
            + " whether a node was fenced (its transactions taken over).")
final class NodesCommand extends CoordinatorRpcCommand {
  @Option(names = "--json", description = "One JSON object (a NodeInfo) per line.")
  boolean json;

  @Override
  int run(ManagedChannel channel) {
    ListNodesResponse response = admin(channel).listNodes(ListNodesRequest.getDefaultInstance());
    PrintWriter out = out();
    if (json) {
      for (NodeInfo n : response.getNodesList()) {
        out.println(Json.line(n));
      }
      return ExitCodes.OK;
    }
    if (response.getNodesCount() == 0) {
      out.println("one coordinator: it is its log's only writer (no shared log)");
      return ExitCodes.OK;
    }
    TextTable table =
        new TextTable(
            new String[] {"NODE", "EPOCH", "ADDRESS", "LEASE", "STATE"},
            new int[] {32, 0, 40, 0, 0});
    for (NodeInfo n : response.getNodesList()) {
      Duration left =
          Duration.ofSeconds(n.getLeaseLeft().getSeconds(), n.getLeaseLeft().getNanos());
      String state = n.getFenced() ? "fenced" : left.isNegative() ? "lapsed" : "live";
      table.row(
          n.getNodeId() + (n.getSelf() ? " (answering)" : ""),
          Long.toString(n.getEpoch()),
          n.getAddress(),
          left.isNegative()
              ? "ended " + Durations.age(left.negated()) + " ago"
              : Durations.age(left) + " left",
          state);
    }
    table.print(out, TextTable.DEFAULT_WIDTH);
    return ExitCodes.OK;
  }
}
