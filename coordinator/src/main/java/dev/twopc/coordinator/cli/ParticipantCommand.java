package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.ListPreparedResponse;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.telemetry.Durations;
import io.grpc.ManagedChannel;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code twopc participant ...}: ask one participant directly. Needs a subcommand. */
@Command(
    name = "participant",
    mixinStandardHelpOptions = true,
    description = "Ask a participant directly (not through the coordinator).",
    subcommands = ParticipantCommand.InDoubt.class)
final class ParticipantCommand {

  /** {@code twopc participant in-doubt --address HOST:PORT}: Participant.ListPrepared. */
  @Command(
      name = "in-doubt",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = "List the participant's prepared branches still waiting for an outcome.")
  static final class InDoubt extends RpcCommand {
    @Option(
        names = "--address",
        paramLabel = "HOST:PORT",
        required = true,
        converter = HostPort.class,
        description = "Where the participant serves (required).")
    String address;

    @Option(names = "--json", description = "One JSON object (a PreparedBranch) per line.")
    boolean json;

    @Override
    String target() {
      return address;
    }

    @Override
    String peer() {
      return "participant";
    }

    @Override
    int run(ManagedChannel channel) {
      ListPreparedResponse response =
          ParticipantGrpc.newBlockingStub(channel)
              .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .listPrepared(ListPreparedRequest.getDefaultInstance());
      PrintWriter out = out();
      if (json) {
        for (PreparedBranch b : response.getBranchesList()) {
          out.println(Json.line(b));
        }
        return ExitCodes.OK;
      }
      if (response.getBranchesCount() == 0) {
        out.println("no prepared branches in doubt at " + address);
        return ExitCodes.OK;
      }
      Instant now = Instant.now();
      TextTable table =
          new TextTable(
              new String[] {
                "TX ID", "PARTICIPANT", "AGE", "QUERIES", "COORDINATOR", "LOCKS", "LAST ERROR"
              },
              new int[] {40, 20, 0, 0, 22, 24, 0});
      for (PreparedBranch b : response.getBranchesList()) {
        String age =
            b.hasAge()
                ? Durations.age(Duration.ofSeconds(b.getAge().getSeconds(), b.getAge().getNanos()))
                : Views.isSet(b.getPreparedAt())
                    ? Durations.age(Duration.between(Views.instant(b.getPreparedAt()), now))
                    : "-";
        table.row(
            b.getTxId(),
            b.getParticipant(),
            age,
            Integer.toString(b.getOutcomeQueries()),
            b.getCoordinator(),
            String.join(",", b.getLockKeysList()),
            b.getLastError());
      }
      table.print(out, TextTable.DEFAULT_WIDTH);
      return ExitCodes.OK;
    }
  }
}
