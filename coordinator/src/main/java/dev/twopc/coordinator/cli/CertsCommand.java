package dev.twopc.coordinator.cli;

import dev.twopc.security.DevCertificates;
import dev.twopc.security.TlsFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code twopc certs}: a development CA and certificates for the coordinator and the named
 * participants, operators and clients, for trying TLS locally and for the demo. Not for
 * production: the CA's key is a file beside the certificates.
 */
@Command(name = "certs", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Create a development CA and certificates (PEM): ca.pem (the trust bundle),"
        + " ca-key.pem, and NAME.pem + NAME-key.pem for coordinator and each --name.",
        "Each certificate carries its name, localhost, 127.0.0.1 and ::1 as subject alternative"
            + " names. For development and the demo, not production."})
final class CertsCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--out", paramLabel = "DIR", required = true,
      description = "Directory to write to; it must not hold a ca.pem already.")
  Path out;

  @Option(names = "--name", paramLabel = "NAME",
      description = "A certificate to issue besides coordinator's (repeatable): a participant's"
          + " name (inventory), an operator (operator-alice), a client (client-shop).")
  List<String> names = new ArrayList<>();

  @Option(names = "--days", paramLabel = "N", defaultValue = "30",
      description = "Validity of the CA and the certificates (default ${DEFAULT-VALUE}).")
  int days;

  @Override
  public Integer call() {
    if (days < 1) {
      throw new ParameterException(spec.commandLine(), "--days must be at least 1");
    }
    if (Files.exists(out.resolve("ca.pem"))) {
      throw new ParameterException(spec.commandLine(), out.resolve("ca.pem") + " exists: give"
          + " another --out (a new CA would not be trusted by what the old one signed)");
    }
    Set<String> all = new LinkedHashSet<>();
    all.add("coordinator");
    all.addAll(names);
    PrintWriter w = spec.commandLine().getOut();
    try {
      Duration validity = Duration.ofDays(days);
      DevCertificates ca = DevCertificates.createAuthority(out, validity);
      w.println("trust bundle  " + ca.trustBundle());
      for (String name : all) {
        TlsFiles f;
        try {
          f = ca.issue(name, validity);
        } catch (IllegalArgumentException e) {
          throw new ParameterException(spec.commandLine(), "--name " + name + ": "
              + e.getMessage());
        }
        w.println(String.format("%-13s %s  %s", name, f.certificateChain(), f.privateKey()));
      }
      w.println("valid for " + days + " days; e.g. twopc coordinator --tls-cert "
          + out.resolve("coordinator.pem") + " --tls-key " + out.resolve("coordinator-key.pem")
          + " --tls-trust " + ca.trustBundle());
      w.flush();
      return ExitCodes.OK;
    } catch (IOException e) {
      spec.commandLine().getErr().println("twopc: " + RpcErrors.oneLine(e.getMessage()));
      spec.commandLine().getErr().flush();
      return ExitCodes.FAILURE;
    }
  }
}
