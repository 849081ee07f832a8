package dev.twopc.security;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Objects;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A local certificate authority for development, tests and the demo (never for production: its key
 * sits in a file next to the certificates). Issues ECDSA P-256 certificates whose subject
 * alternative names are the twopc name they are for ({@code coordinator}, {@code inventory}, {@code
 * operator-alice}, ...) plus {@code localhost}, 127.0.0.1 and ::1, usable as servers and as
 * clients. Files are PEM, written whole or not at all (a watcher never sees half a file): {@code
 * ca.pem} (the trust bundle), {@code ca-key.pem}, {@code NAME.pem}, {@code NAME-key.pem}. Needs
 * BouncyCastle's bcpkix on the classpath (the {@code twopc} CLI has it).
 */
public final class DevCertificates {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{0,62}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final KeyPair caKeys;
  private final X509Certificate ca;

  private DevCertificates(Path dir, KeyPair caKeys, X509Certificate ca) {
    this.dir = dir;
    this.caKeys = caKeys;
    this.ca = ca;
  }

  /** Creates a new authority valid for {@code validity}, writing ca.pem and ca-key.pem in dir. */
  public static DevCertificates createAuthority(Path dir, Duration validity) throws IOException {
    Files.createDirectories(dir);
    try {
      KeyPair keys = keyPair();
      X500Name name = new X500Name("CN=twopc development CA,O=twopc");
      Instant now = Instant.now();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              name,
              serial(),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(validity)),
              name,
              keys.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(
          Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      X509Certificate cert = sign(b, keys);
      DevCertificates authority = new DevCertificates(dir, keys, cert);
      write(dir.resolve("ca.pem"), pem(cert), false);
      write(dir.resolve("ca-key.pem"), pem(new JcaPKCS8Generator(keys.getPrivate(), null)), true);
      return authority;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot create the development CA: " + e.getMessage(), e);
    }
  }

  /** The trust bundle: the authority's certificate. */
  public Path trustBundle() {
    return dir.resolve("ca.pem");
  }

  /** Issues {@code name}'s certificate valid from now for {@code validity}. */
  public TlsFiles issue(String name, Duration validity) throws IOException {
    Instant now = Instant.now();
    return issue(name, now.minus(Duration.ofMinutes(5)), now.plus(validity));
  }

  /**
   * Issues {@code name}'s certificate, valid from {@code notBefore} to {@code notAfter}, written to
   * NAME.pem and NAME-key.pem (replacing any there).
   *
   * @param name 1-63 characters of [a-z0-9.-]
   */
  public TlsFiles issue(String name, Instant notBefore, Instant notAfter) throws IOException {
    return issue(name, notBefore, notAfter, true);
  }

  /**
   * As {@link #issue(String, Instant, Instant)}; without alternative names when not {@code sans}.
   */
  TlsFiles issue(String name, Instant notBefore, Instant notAfter, boolean sans)
      throws IOException {
    Objects.requireNonNull(name, "name");
    checkName(name);
    try {
      KeyPair keys = keyPair();
      X509v3CertificateBuilder b =
          new JcaX509v3CertificateBuilder(
              ca,
              serial(),
              Date.from(notBefore),
              Date.from(notAfter),
              new X500Name("CN=" + name + ",O=twopc"),
              keys.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      if (sans) {
        b.addExtension(
            Extension.subjectAlternativeName,
            false,
            new GeneralNames(
                new GeneralName[] {
                  new GeneralName(GeneralName.dNSName, name),
                  new GeneralName(GeneralName.dNSName, "localhost"),
                  new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                  new GeneralName(GeneralName.iPAddress, "::1")
                }));
      }
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
      X509Certificate cert = sign(b, caKeys);
      Path certFile = dir.resolve(name + ".pem");
      Path keyFile = dir.resolve(name + "-key.pem");
      // The key first: a watcher that sees the new certificate finds its key already there.
      write(keyFile, pem(new JcaPKCS8Generator(keys.getPrivate(), null)), true);
      write(certFile, pem(cert), false);
      return TlsFiles.of(certFile, keyFile, trustBundle());
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot issue a certificate for " + name + ": " + e.getMessage(), e);
    }
  }

  /** Throws unless {@code name} is one a certificate of this authority can carry. */
  static void checkName(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          name
              + ": a certificate name is 1-63 characters of"
              + " [a-z0-9.-], starting with a letter or digit");
    }
  }

  private static KeyPair keyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(96, RANDOM).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer)
      throws OperatorCreationException, GeneralSecurityException {
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
  }

  private static String pem(Object o) throws IOException {
    StringWriter s = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(s)) {
      w.writeObject(o);
    }
    return s.toString();
  }

  /** Writes {@code text} to a temporary file beside {@code target}, then moves it into place. */
  private static void write(Path target, String text, boolean secret) throws IOException {
    Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
    try {
      if (secret) {
        try {
          Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
          // not a POSIX file system: the directory's permissions protect it
        }
      }
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
        w.write(text);
      }
      try {
        Files.move(
            tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
