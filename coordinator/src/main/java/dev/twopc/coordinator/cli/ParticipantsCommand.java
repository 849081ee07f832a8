package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ListParticipantsResponse;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.telemetry.Durations;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code twopc participants}: Coordinator.ListParticipants. */
@Command(
    name = "participants",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description =
        "List the registered participants: address, last seen, branches in doubt," + " last error.")
final class ParticipantsCommand extends CoordinatorRpcCommand {
  @Option(names = "--json", description = "One JSON object (a ParticipantInfo) per line.")
  boolean json;

  @Override
  int run(ManagedChannel channel) {
    ListParticipantsResponse response =
        coordinatorStub(channel).listParticipants(ListParticipantsRequest.getDefaultInstance());
    PrintWriter out = out();
    if (json) {
      for (ParticipantInfo p : response.getParticipantsList()) {
        out.println(Json.line(p));
      }
      return ExitCodes.OK;
    }
    if (response.getParticipantsCount() == 0) {
      out.println("no participants registered");
      return ExitCodes.OK;
    }
    Instant now = Instant.now();
    TextTable table =
        new TextTable(
            new String[] {"NAME", "ADDRESS", "LAST SEEN", "IN DOUBT", "LAST ERROR"},
            new int[] {32, 40, 0, 0, 0});
    for (ParticipantInfo p : response.getParticipantsList()) {
      String seen =
          Views.isSet(p.getLastSeen())
              ? Durations.age(Duration.between(Views.instant(p.getLastSeen()), now)) + " ago"
              : "never";
      table.row(
          p.getName(),
          p.getAddress(),
          seen,
          Integer.toString(p.getInDoubtBranches()),
          p.getLastError());
    }
    table.print(out, TextTable.DEFAULT_WIDTH);
    return ExitCodes.OK;
  }
}
