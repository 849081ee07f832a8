package dev.twopc.security;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.AdvancedTlsX509TrustManager.Verification;
import io.grpc.util.CertificateUtils;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process's TLS credentials, read from {@link TlsFiles} and read again when the files change
 * (checked every {@code reloadEvery}), so certificates rotate without a restart: connections made
 * after a change use the new ones, connections already open keep theirs. A change that does not
 * parse, or a key that does not match its certificate, is logged and the previous credentials stay.
 * Gives gRPC server and channel credentials over the same material: TLS 1.3 or 1.2 (the JDK's and
 * Netty's defaults), a server that requires and verifies a client certificate (mutual TLS), a
 * channel that verifies the server's certificate and host name. Thread-safe; close it to stop
 * watching the files.
 */
public final class TlsCredentials implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TlsCredentials.class);

  private final TlsFiles files;
  private final AdvancedTlsX509KeyManager keys; // null without an identity
  private final AdvancedTlsX509TrustManager serverTrust; // verifies clients: no host name
  private final AdvancedTlsX509TrustManager channelTrust; // verifies servers and their names
  private final ScheduledExecutorService watcher;
  private volatile List<Object> seen;
  private volatile X509Certificate current;

  private TlsCredentials(TlsFiles files, Duration reloadEvery) throws IOException {
    this.files = files.requireReadable();
    try {
      keys = files.hasIdentity() ? new AdvancedTlsX509KeyManager() : null;
      serverTrust =
          AdvancedTlsX509TrustManager.newBuilder()
              .setVerification(Verification.CERTIFICATE_ONLY_VERIFICATION)
              .build();
      channelTrust =
          AdvancedTlsX509TrustManager.newBuilder()
              .setVerification(Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
              .build();
    } catch (CertificateException e) {
      throw new IOException("cannot set up TLS: " + e.getMessage(), e);
    }
    load(); // the first read must succeed: a process does not start on broken credentials
    watcher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "twopc-tls-reload");
              t.setDaemon(true);
              return t;
            });
    long every = reloadEvery.toMillis();
    // Never read: reloadIfChanged logs its own failures, and the watcher lives as long as we do.
    var unused =
        watcher.scheduleWithFixedDelay(this::reloadIfChanged, every, every, TimeUnit.MILLISECONDS);
  }

  /**
   * Reads {@code files} (failing if they cannot be read or do not parse) and watches them.
   *
   * @param reloadEvery how often the files are checked for a change; at least 10 ms
   */
  public static TlsCredentials load(TlsFiles files, Duration reloadEvery) throws IOException {
    Objects.requireNonNull(files, "files");
    if (reloadEvery.toMillis() < 10) {
      throw new IllegalArgumentException("reloadEvery must be at least 10 ms");
    }
    return new TlsCredentials(files, reloadEvery);
  }

  /** Server credentials: this process's identity; clients must present a trusted certificate. */
  public ServerCredentials server() {
    if (keys == null) {
      throw new IllegalStateException("a TLS server needs a certificate and its private key");
    }
    return TlsServerCredentials.newBuilder()
        .keyManager(keys)
        .trustManager(serverTrust)
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
  }

  /** Channel credentials: verify the server; present this process's certificate if it has one. */
  public ChannelCredentials channel() {
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder().trustManager(channelTrust);
    if (keys != null) {
      b.keyManager(keys);
    }
    return b.build();
  }

  /** This process's certificate as last loaded; null without an identity. */
  public X509Certificate certificate() {
    return current;
  }

  public TlsFiles files() {
    return files;
  }

  @Override
  public void close() {
    watcher.shutdownNow();
  }

  private void reloadIfChanged() {
    try {
      if (!stamp().equals(seen)) {
        load();
        log.info(
            "event=tls_reloaded certificate={} trust={}{}",
            files.certificateChain(),
            files.trustBundle(),
            current == null
                ? ""
                : " subject=\""
                    + current.getSubjectX500Principal().getName()
                    + "\" not_after="
                    + current.getNotAfter().toInstant());
      }
    } catch (IOException | RuntimeException e) {
      // Half-written files during a rotation look like this too; the next check sees them whole.
      log.warn(
          "event=tls_reload_failed error=\"{}\" next=keep_previous_credentials", e.getMessage());
    }
  }

  private synchronized void load() throws IOException {
    try {
      List<Object> before = stamp();
      X509Certificate[] trusted = certificates(files.trustBundle());
      if (keys != null) {
        X509Certificate[] chain = certificates(files.certificateChain());
        PrivateKey key;
        try (InputStream in = Files.newInputStream(files.privateKey())) {
          key = CertificateUtils.getPrivateKey(in);
        }
        try {
          chain[0].checkValidity();
        } catch (java.security.cert.CertificateExpiredException e) {
          throw new GeneralSecurityException(
              "the certificate "
                  + files.certificateChain()
                  + " expired at "
                  + chain[0].getNotAfter().toInstant());
        } catch (java.security.cert.CertificateNotYetValidException e) {
          throw new GeneralSecurityException(
              "the certificate "
                  + files.certificateChain()
                  + " is not valid before "
                  + chain[0].getNotBefore().toInstant());
        }
        if (!belongTogether(key, chain[0])) {
          throw new GeneralSecurityException(
              "the private key "
                  + files.privateKey()
                  + " does not belong to the certificate "
                  + files.certificateChain());
        }
        keys.updateIdentityCredentials(chain, key);
        current = chain[0];
      }
      serverTrust.updateTrustCredentials(trusted);
      channelTrust.updateTrustCredentials(trusted);
      seen = before;
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IOException(
          "cannot load TLS credentials ("
              + files.certificateChain()
              + ", "
              + files.privateKey()
              + ", "
              + files.trustBundle()
              + "): "
              + e.getMessage(),
          e);
    }
  }

  /** True when {@code key} signs what {@code cert}'s public key verifies. */
  private static boolean belongTogether(PrivateKey key, X509Certificate cert)
      throws GeneralSecurityException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          default ->
              throw new GeneralSecurityException("unsupported key type " + key.getAlgorithm());
        };
    byte[] probe = "twopc key check".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(probe);
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(cert.getPublicKey());
    verifier.update(probe);
    return verifier.verify(signer.sign());
  }

  private static X509Certificate[] certificates(Path pem) throws IOException, CertificateException {
    try (InputStream in = Files.newInputStream(pem)) {
      X509Certificate[] certs = CertificateUtils.getX509Certificates(in);
      if (certs.length == 0) {
        throw new CertificateException("no certificate in " + pem);
      }
      return certs;
    }
  }

  /** What identifies the files' current contents: a hash and the size of each. */
  private List<Object> stamp() throws IOException {
    List<Object> out = new ArrayList<>();
    for (Path p : new Path[] {files.certificateChain(), files.privateKey(), files.trustBundle()}) {
      if (p != null) {
        out.add(Arrays.hashCode(Files.readAllBytes(p)) + ":" + Files.size(p));
      }
    }
    return out;
  }
}
