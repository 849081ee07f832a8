package dev.twopc.samples;

import dev.twopc.samples.demo.ChaosCommand;
import dev.twopc.samples.demo.DemoCommand;
import dev.twopc.samples.inventory.InventoryService;
import dev.twopc.samples.orders.OrdersService;
import dev.twopc.samples.payments.PaymentsService;
import dev.twopc.samples.shop.ShopCommand;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code twopc-sample}: runs one sample service, the shop client, the whole demo, or the chaos run.
 *
 * <pre>
 * twopc-sample inventory --port 7101 --coordinator localhost:7000 --data data --seed
 * twopc-sample payments  --port 7102 --coordinator localhost:7000 --data data --seed
 * twopc-sample orders    --port 7103 --coordinator localhost:7000 --data data
 * twopc-sample shop --orders 200 --concurrency 8
 * twopc-sample demo
 * twopc-sample chaos --duration 60s
 * </pre>
 */
@Command(
    name = "twopc-sample",
    mixinStandardHelpOptions = true,
    version = "twopc-sample 0.1.0-SNAPSHOT",
    description = "The twopc sample shop: three participant services, a client and a demo.",
    subcommands = {ShopCommand.class, DemoCommand.class, ChaosCommand.class})
public final class SampleMain {
  /**
   * The system property that names this program in usage and errors; {@code twopc demo} and {@code
   * twopc chaos} run this jar with it set to {@code twopc}, so their help reads {@code twopc
   * chaos}.
   */
  public static final String COMMAND_NAME_PROPERTY = "twopc.command.name";

  public static void main(String[] args) {
    System.exit(
        commandLine(System.getProperty(COMMAND_NAME_PROPERTY, "twopc-sample")).execute(args));
  }

  /** The command line with the three services added as subcommands. */
  public static CommandLine commandLine() {
    return commandLine("twopc-sample");
  }

  /** The same, named {@code name} in usage and errors. */
  public static CommandLine commandLine(String name) {
    CommandLine cl = new CommandLine(new SampleMain());
    // A usage error is one line and a pointer to --help, as in every twopc command.
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine failed = ex.getCommandLine();
          String command = failed.getCommandSpec().qualifiedName();
          failed
              .getErr()
              .println(command + ": " + ex.getMessage() + " (see '" + command + " --help')");
          failed.getErr().flush();
          return CommandLine.ExitCode.USAGE;
        });
    // A failure is one line on stderr and exit 1, not a stack trace (the logs have the detail).
    cl.setExecutionExceptionHandler(
        (ex, failed, parseResult) -> {
          failed.getErr().println(failed.getCommandSpec().qualifiedName() + ": " + ex);
          failed.getErr().flush();
          return 1;
        });
    for (SampleService s :
        List.of(new InventoryService(), new PaymentsService(), new OrdersService())) {
      CommandLine sub = new CommandLine(new ServiceCommand(s));
      sub.getCommandSpec()
          .usageMessage()
          .description(
              "Run the "
                  + s.name()
                  + " service: the Participant gRPC service on --port and its read"
                  + " API over HTTP on --api-port ("
                  + String.join(" ", s.readPaths())
                  + ").",
              "Every flag has an environment twin, shown in brackets.");
      cl.addSubcommand(s.name(), sub);
    }
    return cl.setCommandName(name);
  }
}
