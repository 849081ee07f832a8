package dev.twopc.coordinator.cli;

import dev.twopc.security.DevIdentities;
import dev.twopc.security.Role;
import dev.twopc.security.RoleMap;
import dev.twopc.telemetry.Durations;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code twopc certs}: a development CA and certificates for the coordinator and the named
 * participants, operators and clients, for trying TLS locally and for the demo. Not for production:
 * the CA's key is a file beside the certificates.
 */
@Command(
    name = "certs",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Create a development CA and certificates (PEM): ca.pem (the trust bundle),"
          + " ca-key.pem, and NAME.pem + NAME-key.pem for coordinator and each --name; and"
          + " roles.conf, the roles file for twopc coordinator --roles.",
      "Each certificate carries its name, localhost, 127.0.0.1 and ::1 as subject alternative"
          + " names. For development and the demo, not production."
    })
final class CertsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      required = true,
      description = "Directory to write to; it must not hold a ca.pem already.")
  Path out;

  @Option(
      names = "--name",
      paramLabel = "NAME[=ROLES]",
      description =
          "A certificate to issue besides coordinator's (repeatable), with its roles"
              + " in roles.conf: inventory=participant, operator-alice=operator,"
              + " client-shop=client, orders=participant,client. Without =ROLES: operator for a name"
              + " starting operator, client for one starting client, else participant.")
  List<String> names = new ArrayList<>();

  @Option(
      names = "--validity",
      paramLabel = "DURATION",
      defaultValue = "30d",
      converter = Durations.Converter.class,
      description = "Validity of the CA and the certificates (default ${DEFAULT-VALUE}).")
  Duration validity;

  private static Role impliedRole(String name) {
    return name.startsWith("operator")
        ? Role.OPERATOR
        : name.startsWith("client") ? Role.CLIENT : Role.PARTICIPANT;
  }

  @Override
  public Integer call() {
    if (validity.isZero()) {
      throw new ParameterException(spec.commandLine(), "--validity must be positive");
    }
    if (Files.exists(out.resolve("ca.pem"))) {
      throw new ParameterException(
          spec.commandLine(),
          out.resolve("ca.pem")
              + " exists: give"
              + " another --out (a new CA would not be trusted by what the old one signed)");
    }
    Map<String, Set<Role>> all = new LinkedHashMap<>();
    all.put("coordinator", Set.of(Role.COORDINATOR));
    for (String n : names) {
      try {
        Map.Entry<String, Set<Role>> e =
            n.contains("=") ? RoleMap.parseEntry(n) : RoleMap.parseEntry(n + "=" + impliedRole(n));
        if (all.put(e.getKey(), e.getValue()) != null) {
          throw new IllegalArgumentException(
              e.getKey().equals("coordinator")
                  ? "coordinator's certificate is always made, with the coordinator role"
                  : "given twice");
        }
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--name " + n + ": " + e.getMessage());
      }
    }
    PrintWriter w = spec.commandLine().getOut();
    try {
      DevIdentities made;
      try {
        made = DevIdentities.create(out, all, validity);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--name " + e.getMessage());
      }
      Path trust = made.of("coordinator").trustBundle();
      w.println("trust bundle  " + trust);
      made.files()
          .forEach(
              (name, f) ->
                  w.println(
                      String.format("%-13s %s  %s", name, f.certificateChain(), f.privateKey())));
      w.println("roles         " + made.rolesFile());
      w.println(
          "valid for "
              + Durations.format(validity)
              + "; e.g. twopc coordinator "
              + String.join(" ", made.serverFlags("coordinator")));
      w.flush();
      return ExitCodes.OK;
    } catch (IOException e) {
      spec.commandLine().getErr().println("twopc: " + RpcErrors.oneLine(e.getMessage()));
      spec.commandLine().getErr().flush();
      return ExitCodes.FAILURE;
    }
  }
}
