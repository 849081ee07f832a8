package dev.twopc.security;

import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The TLS flags of every twopc command that serves or calls gRPC (a picocli mixin; picocli is an
 * optional dependency of this module): this process's certificate and key, and the CA bundle it
 * trusts its peers' certificates from. PEM files ({@code twopc certs} makes them). None given:
 * plaintext.
 */
public final class TlsFlags {
  @Option(
      names = "--tls-cert",
      paramLabel = "PEM",
      defaultValue = "${TWOPC_TLS_CERT}",
      description = "This process's certificate chain [TWOPC_TLS_CERT].")
  Path cert;

  @Option(
      names = "--tls-key",
      paramLabel = "PEM",
      defaultValue = "${TWOPC_TLS_KEY}",
      description = "Its private key, PKCS#8 [TWOPC_TLS_KEY].")
  Path key;

  @Option(
      names = "--tls-trust",
      paramLabel = "PEM",
      defaultValue = "${TWOPC_TLS_TRUST}",
      description =
          "CA certificates the peers' certificates must chain to; with it every"
              + " connection is TLS and certificates are checked both ways [TWOPC_TLS_TRUST].")
  Path trust;

  /** True when any of the three is given. */
  public boolean given() {
    return cert != null || key != null || trust != null;
  }

  /** The cert flag as given, for a start-up line; null if not. */
  public Path cert() {
    return cert;
  }

  /** The trust flag as given, for a start-up line; null if not. */
  public Path trust() {
    return trust;
  }

  /**
   * The files ({@link TlsFiles#fromFlags}), or null for plaintext; a partial or unreadable set is a
   * usage error naming what is wrong.
   *
   * @param server a server: it needs its certificate and key
   */
  public TlsFiles files(CommandSpec spec, boolean server) {
    try {
      return TlsFiles.fromFlags(cert, key, trust, server);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
