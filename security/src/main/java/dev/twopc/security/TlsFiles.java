package dev.twopc.security;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a process's TLS material lives, as PEM files: its certificate chain and private key (its
 * identity), and the bundle of CA certificates it trusts to sign its peers'. Every twopc process
 * that speaks TLS takes these three; a client without an identity gives only the trust bundle.
 *
 * @param certificateChain this process's certificate, then its intermediates; null for a client
 *     that presents none
 * @param privateKey the key of {@code certificateChain}'s first certificate, PKCS#8 ({@code BEGIN
 *     PRIVATE KEY}); null with {@code certificateChain}
 * @param trustBundle the CA certificates that sign the peers' certificates
 */
public record TlsFiles(Path certificateChain, Path privateKey, Path trustBundle) {
  public TlsFiles {
    Objects.requireNonNull(trustBundle, "trustBundle");
    if ((certificateChain == null) != (privateKey == null)) {
      throw new IllegalArgumentException(
          "a TLS certificate and its private key go together:" + " give both or neither");
    }
  }

  /** An identity and a trust bundle: what a server, or a client using mutual TLS, gives. */
  public static TlsFiles of(Path certificateChain, Path privateKey, Path trustBundle) {
    return new TlsFiles(
        Objects.requireNonNull(certificateChain, "certificateChain"),
        Objects.requireNonNull(privateKey, "privateKey"),
        trustBundle);
  }

  /** Only a trust bundle: a client that verifies its server and presents no certificate. */
  public static TlsFiles trustOnly(Path trustBundle) {
    return new TlsFiles(null, null, trustBundle);
  }

  /**
   * The files of the {@code --tls-cert}, {@code --tls-key} and {@code --tls-trust} flags every
   * twopc command takes: null when none is given (plaintext), else checked to be readable.
   *
   * @param identityRequired a server: it needs its certificate and key
   * @throws IllegalArgumentException naming the missing flag or unreadable file, in the flags'
   *     words, for a one-line usage error
   */
  public static TlsFiles fromFlags(Path cert, Path key, Path trust, boolean identityRequired) {
    if (cert == null && key == null && trust == null) {
      return null;
    }
    if (trust == null) {
      throw new IllegalArgumentException("--tls-trust is required with --tls-cert and --tls-key");
    }
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("--tls-cert and --tls-key go together");
    }
    if (identityRequired && cert == null) {
      throw new IllegalArgumentException(
          "a TLS server needs --tls-cert and --tls-key as well as --tls-trust");
    }
    return new TlsFiles(cert, key, trust).requireReadable();
  }

  /** True when this process presents a certificate of its own. */
  public boolean hasIdentity() {
    return certificateChain != null;
  }

  /**
   * Checks the files can be read, naming the first that cannot.
   *
   * @throws IllegalArgumentException naming the missing or unreadable file
   */
  public TlsFiles requireReadable() {
    for (Path p : new Path[] {certificateChain, privateKey, trustBundle}) {
      if (p != null && !Files.isReadable(p)) {
        throw new IllegalArgumentException("cannot read TLS file " + p);
      }
    }
    return this;
  }
}
