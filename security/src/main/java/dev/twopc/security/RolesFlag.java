package dev.twopc.security;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * A participant command's {@code --roles FILE} (a picocli mixin): with TLS, which certificate names
 * it obeys as the coordinator, serves as operators, and takes its own API's calls from.
 */
public final class RolesFlag {
  @Option(
      names = "--roles",
      paramLabel = "FILE",
      defaultValue = "${TWOPC_ROLES}",
      description =
          "With TLS: which certificate names are the coordinator (may prepare, commit,"
              + " roll back), operators (may list prepared branches) and clients, in the file twopc"
              + " coordinator --roles reads [TWOPC_ROLES]; default: the name coordinator is the"
              + " coordinator.")
  Path file;

  /**
   * The roles, or null when not given; a usage error without {@code tls} or for a file that cannot
   * be read or parsed.
   */
  public RoleMap load(CommandSpec spec, TlsFiles tls) {
    if (file == null) {
      return null;
    }
    if (tls == null) {
      throw new ParameterException(
          spec.commandLine(),
          "--roles needs TLS (--tls-cert,"
              + " --tls-key, --tls-trust): without it no caller is identified");
    }
    try {
      return RoleMap.load(file);
    } catch (IOException | IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--roles " + file + ": " + e.getMessage());
    }
  }
}
