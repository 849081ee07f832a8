package dev.twopc.samples;

import dev.twopc.security.TlsFiles;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The samples' TLS flags, as the {@code twopc} commands spell them: this process's certificate
 * and key and the CA bundle it trusts (PEM; {@code twopc certs} makes them). None: plaintext.
 */
public final class TlsFlags {
  @Option(names = "--tls-cert", paramLabel = "PEM", defaultValue = "${TWOPC_TLS_CERT}",
      description = "This process's certificate chain [TWOPC_TLS_CERT].")
  Path cert;

  @Option(names = "--tls-key", paramLabel = "PEM", defaultValue = "${TWOPC_TLS_KEY}",
      description = "Its private key, PKCS#8 [TWOPC_TLS_KEY].")
  Path key;

  @Option(names = "--tls-trust", paramLabel = "PEM", defaultValue = "${TWOPC_TLS_TRUST}",
      description = "CA certificates the peers' must chain to; with it every connection is"
          + " mutual TLS [TWOPC_TLS_TRUST].")
  Path trust;

  /** The files, or null for plaintext; a partial or unreadable set is a usage error. */
  public TlsFiles files(CommandSpec spec, boolean server) {
    try {
      return TlsFiles.fromFlags(cert, key, trust, server);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
