package dev.twopc.security;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS as every twopc hop uses it, over real Netty on 127.0.0.1: mutual TLS works and tells the
 * server who called; plaintext, a client without a certificate, one from another CA and an expired
 * one are refused; certificates rotated on disk are used by new connections while calls go on
 * without a failure.
 */
class TlsCredentialsTest {
  @TempDir Path dir;
  private DevCertificates ca;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  /** The names the server saw, one entry per call. */
  private final List<String> callers = new CopyOnWriteArrayList<>();

  private int port;

  @BeforeEach
  void startServer() throws Exception {
    ca = DevCertificates.createAuthority(dir.resolve("ca"), Duration.ofDays(1));
    TlsCredentials server = credentials(ca.issue("coordinator", Duration.ofDays(1)));
    Server s =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), server.server())
            .addService(
                ServerInterceptors.intercept(
                    new HealthGrpc.HealthImplBase() {
                      @Override
                      public void check(
                          HealthCheckRequest req, StreamObserver<HealthCheckResponse> out) {
                        callers.add(
                            PeerIdentity.current()
                                .map(
                                    id ->
                                        id.names().stream()
                                            .filter(n -> !n.equals("localhost"))
                                            .findFirst()
                                            .orElse("?"))
                                .orElse("none"));
                        out.onNext(
                            HealthCheckResponse.newBuilder()
                                .setStatus(HealthCheckResponse.ServingStatus.SERVING)
                                .build());
                        out.onCompleted();
                      }
                    },
                    PeerIdentity.interceptor()))
            .build()
            .start();
    port = s.getPort();
    toClose.add(() -> s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  @Test
  void mutualTlsWorksAndTheServerKnowsTheCallersName() throws Exception {
    TlsCredentials client = credentials(ca.issue("client-shop", Duration.ofDays(1)));
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, check(client.channel()));
    assertEquals(List.of("client-shop"), callers);
  }

  @Test
  void plaintextIsRefused() {
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class, () -> check(InsecureChannelCredentials.create()));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    assertTrue(callers.isEmpty());
  }

  @Test
  void aClientWithoutACertificateIsRefused() throws Exception {
    TlsCredentials anonymous = credentials(TlsFiles.trustOnly(ca.trustBundle()));
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> check(anonymous.channel()));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    assertTrue(callers.isEmpty());
  }

  @Test
  void aCertificateFromAnotherAuthorityIsRefusedBothWays() throws Exception {
    DevCertificates other =
        DevCertificates.createAuthority(dir.resolve("other"), Duration.ofDays(1));
    // a client certified by the other CA, trusting ours: the server refuses it
    TlsFiles stranger = other.issue("client-stranger", Duration.ofDays(1));
    TlsCredentials client =
        credentials(
            TlsFiles.of(stranger.certificateChain(), stranger.privateKey(), ca.trustBundle()));
    assertEquals(
        Status.Code.UNAVAILABLE,
        assertThrows(StatusRuntimeException.class, () -> check(client.channel()))
            .getStatus()
            .getCode());
    // a client of ours trusting only the other CA: it refuses the server
    TlsFiles ours = ca.issue("client-shop", Duration.ofDays(1));
    TlsCredentials wrongTrust =
        credentials(TlsFiles.of(ours.certificateChain(), ours.privateKey(), other.trustBundle()));
    assertEquals(
        Status.Code.UNAVAILABLE,
        assertThrows(StatusRuntimeException.class, () -> check(wrongTrust.channel()))
            .getStatus()
            .getCode());
    assertTrue(callers.isEmpty());
  }

  @Test
  void anExpiredCertificateIsRefusedAtLoadWithItsDateAndByThePeerOnceItExpires() throws Exception {
    Instant now = Instant.now();
    TlsFiles old =
        ca.issue("client-old", now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)));
    IOException e = assertThrows(IOException.class, () -> credentials(old));
    assertTrue(
        e.getMessage().contains("the certificate " + old.certificateChain() + " expired at "),
        e.getMessage());

    Instant end = Instant.now().plusSeconds(2);
    TlsCredentials brief = credentials(ca.issue("client-brief", now.minusSeconds(60), end));
    await().atMost(Duration.ofSeconds(30)).until(() -> Instant.now().isAfter(end.plusSeconds(1)));
    StatusRuntimeException refused =
        assertThrows(StatusRuntimeException.class, () -> check(brief.channel()));
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    assertTrue(callers.isEmpty());
  }

  @Test
  void aKeyThatIsNotTheCertificatesIsRefusedAtLoad() throws Exception {
    TlsFiles a = ca.issue("one", Duration.ofDays(1));
    TlsFiles b = ca.issue("two", Duration.ofDays(1));
    IOException e =
        assertThrows(
            IOException.class,
            () ->
                TlsCredentials.load(
                    TlsFiles.of(a.certificateChain(), b.privateKey(), ca.trustBundle()),
                    Duration.ofSeconds(1)));
    assertTrue(e.getMessage().contains("does not belong to the certificate"), e.getMessage());
  }

  @Test
  void certificatesRotatedOnDiskServeNewConnectionsWhileCallsGoOn() throws Exception {
    TlsFiles files = ca.issue("client-one", Duration.ofDays(1));
    TlsCredentials client = credentials(files);
    ManagedChannel busy = channel(client.channel());
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger calls = new AtomicInteger();
    List<Throwable> failures = new CopyOnWriteArrayList<>();
    Thread load =
        new Thread(
            () -> {
              while (!stop.get()) {
                try {
                  HealthGrpc.newBlockingStub(busy)
                      .withDeadlineAfter(10, TimeUnit.SECONDS)
                      .check(HealthCheckRequest.getDefaultInstance());
                  calls.incrementAndGet();
                } catch (RuntimeException e) {
                  failures.add(e);
                }
              }
            });
    load.start();
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> calls.get() > 10);
      // Rotate: the same files now hold a certificate for another name, with a new key. A check
      // between the two copies sees a key that is not the certificate's and keeps the old pair.
      TlsFiles next = ca.issue("client-two", Duration.ofDays(1));
      Files.copy(next.privateKey(), files.privateKey(), StandardCopyOption.REPLACE_EXISTING);
      Files.copy(
          next.certificateChain(), files.certificateChain(), StandardCopyOption.REPLACE_EXISTING);
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  client
                      .certificate()
                      .getSubjectX500Principal()
                      .getName()
                      .contains("CN=client-two"));
      int before = calls.get();
      await().atMost(Duration.ofSeconds(20)).until(() -> calls.get() > before + 10);
    } finally {
      stop.set(true);
      load.join();
    }
    assertEquals(List.of(), failures);
    // A new connection presents the new certificate.
    check(client.channel());
    assertEquals("client-two", callers.get(callers.size() - 1));
  }

  private TlsCredentials credentials(TlsFiles files) throws IOException {
    TlsCredentials c = TlsCredentials.load(files, Duration.ofMillis(50));
    toClose.add(c);
    return c;
  }

  private ManagedChannel channel(ChannelCredentials creds) {
    ManagedChannel ch = Grpc.newChannelBuilder("localhost:" + port, creds).build();
    toClose.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return ch;
  }

  /** One health check on a new channel (so a new connection, with the credentials as now). */
  private HealthCheckResponse.ServingStatus check(ChannelCredentials creds) {
    return HealthGrpc.newBlockingStub(channel(creds))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance())
        .getStatus();
  }
}
