package dev.twopc.coordinator.cli;

import dev.twopc.security.TlsFiles;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The TLS flags every command that serves or calls gRPC takes: this process's certificate and
 * key, and the CA bundle it trusts its peers' certificates from. PEM files (see {@code twopc
 * certs}). All unset: plaintext.
 */
final class TlsOptions {
  @Option(names = "--tls-cert", paramLabel = "PEM", defaultValue = "${TWOPC_TLS_CERT}",
      description = "This process's certificate chain [TWOPC_TLS_CERT].")
  Path cert;

  @Option(names = "--tls-key", paramLabel = "PEM", defaultValue = "${TWOPC_TLS_KEY}",
      description = "Its private key, PKCS#8 [TWOPC_TLS_KEY].")
  Path key;

  @Option(names = "--tls-trust", paramLabel = "PEM", defaultValue = "${TWOPC_TLS_TRUST}",
      description = "CA certificates the peers' certificates must chain to; with it every"
          + " connection is TLS and certificates are checked both ways [TWOPC_TLS_TRUST].")
  Path trust;

  /** The files, or null for plaintext; a partial set is a usage error naming what is missing. */
  TlsFiles files(CommandSpec spec, boolean identityRequired) {
    try {
      return TlsFiles.fromFlags(cert, key, trust, identityRequired);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
