package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionException;
import dev.twopc.client.TransactionOptions;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.security.DevCertificates;
import dev.twopc.security.Role;
import dev.twopc.security.RoleMap;
import dev.twopc.security.TlsCredentials;
import dev.twopc.security.TlsFiles;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS on every hop, over real Netty and the real coordinator: client to coordinator,
 * coordinator to participants, participants to coordinator. A plaintext client gets no answer; a
 * coordinator with TLS never falls back to plaintext towards a participant.
 */
class MutualTlsTest {
  static final RoleMap ROLES =
      RoleMap.of(
          Map.of(
              "coordinator", Set.of(Role.COORDINATOR),
              "inventory", Set.of(Role.PARTICIPANT),
              "payments", Set.of(Role.PARTICIPANT),
              "plain", Set.of(Role.PARTICIPANT),
              "client-shop", Set.of(Role.CLIENT)));
  @TempDir Path dir;
  private DevCertificates ca;
  private CoordinatorServer coordinator;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    ca = DevCertificates.createAuthority(dir.resolve("certs"), Duration.ofDays(1));
    coordinator =
        CoordinatorServer.start(
            Coordinators.defaults(dir.resolve("coordinator"))
                .tls(ca.issue("coordinator", Duration.ofDays(1)))
                .roles(ROLES)
                .phase2BackoffBase(Duration.ofMillis(20))
                .phase2BackoffCap(Duration.ofMillis(500))
                .build());
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    coordinator.close();
  }

  private Participant participant(String name, TlsFiles tls) throws Exception {
    Participant.Builder b =
        Participant.builder(name)
            .coordinator(coordinator.target())
            .dataDirectory(dir.resolve(name))
            .handler(new TestHandler());
    if (tls != null) {
      b.tls(tls);
    }
    Participant p = b.build();
    toClose.add(p);
    p.start();
    return p;
  }

  private TransactionClient client(TlsFiles tls) {
    TransactionClient.Builder b =
        TransactionClient.builder()
            .target(coordinator.target())
            .callTimeout(Duration.ofSeconds(5))
            .commitTimeout(Duration.ofSeconds(20));
    if (tls != null) {
      b.tls(tls);
    }
    TransactionClient c = b.build();
    toClose.add(c);
    return c;
  }

  /** RegisterParticipant over mutual TLS with {@code name}'s certificate. */
  private void registerOverTls(String name, String address) throws Exception {
    try (TlsCredentials creds =
        TlsCredentials.load(ca.issue(name, Duration.ofDays(1)), Duration.ofMinutes(1))) {
      ManagedChannel ch = Grpc.newChannelBuilder(coordinator.target(), creds.channel()).build();
      try {
        CoordinatorGrpc.newBlockingStub(ch)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .registerParticipant(
                RegisterParticipantRequest.newBuilder().setName(name).setAddress(address).build());
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aTransactionCommitsWithMutualTlsOnEveryHop() throws Exception {
    Participant inventory = participant("inventory", ca.issue("inventory", Duration.ofDays(1)));
    Participant payments = participant("payments", ca.issue("payments", Duration.ofDays(1)));
    assertTrue(inventory.awaitRegistered(Duration.ofSeconds(30)));
    assertTrue(payments.awaitRegistered(Duration.ofSeconds(30)));
    TransactionClient client = client(ca.issue("client-shop", Duration.ofDays(1)));

    TransactionResult r =
        client.execute(
            List.of(
                new TransactionBranch("inventory", "sku-1".getBytes(UTF_8)),
                new TransactionBranch("payments", "acct-1".getBytes(UTF_8))),
            TransactionOptions.defaults().withWaitForCompletion(true));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    assertEquals(
        List.of("sku-1"), BusinessDb.applied(dir.resolve("inventory"), "inventory", r.txId()));
    assertEquals(
        List.of("acct-1"), BusinessDb.applied(dir.resolve("payments"), "payments", r.txId()));
    assertEquals(TransactionOutcome.COMMITTED, client.status(r.txId()).outcome());
  }

  @Test
  void withoutTlsAParticipantServesLoopbackOnlyUnlessToldOtherwise() throws Exception {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Participant.builder("open")
                    .coordinator(coordinator.target())
                    .dataDirectory(dir.resolve("open"))
                    .handler(new TestHandler())
                    .listenHost("0.0.0.0")
                    .build());
    assertTrue(
        e.getMessage().contains("listenHost 0.0.0.0 without TLS would serve plaintext"),
        e.getMessage());
    Participant.builder("open")
        .coordinator(coordinator.target())
        .dataDirectory(dir.resolve("open"))
        .handler(new TestHandler())
        .listenHost("0.0.0.0")
        .insecureListen(true)
        .build()
        .close();
    Participant.builder("tls-open")
        .coordinator(coordinator.target())
        .dataDirectory(dir.resolve("tls-open"))
        .handler(new TestHandler())
        .listenHost("0.0.0.0")
        .tls(ca.issue("tls-open", Duration.ofDays(1)))
        .build()
        .close();
  }

  @Test
  void aPlaintextClientGetsNoAnswerAndNothingRuns() throws Exception {
    TransactionClient plaintext = client(null);
    TransactionException e = assertThrows(TransactionException.class, () -> plaintext.begin());
    assertEquals(TransactionException.Code.UNAVAILABLE, e.code(), e.getMessage());
    TransactionResult r =
        plaintext.execute(List.of(new TransactionBranch("inventory", "x".getBytes(UTF_8))));
    assertEquals(TransactionOutcome.UNKNOWN, r.outcome(), r.reason());
  }

  @Test
  void aCoordinatorWithTlsDoesNotFallBackToPlaintextTowardsAParticipant() throws Exception {
    // The participant cannot reach the TLS coordinator in plaintext, so it never registers...
    Participant plain = participant("plain", null);
    assertFalse(plain.awaitRegistered(Duration.ofSeconds(2)));
    // ...and one registered by an operator under a plaintext address cannot be prepared.
    Participant inventory = participant("inventory", ca.issue("inventory", Duration.ofDays(1)));
    assertTrue(inventory.awaitRegistered(Duration.ofSeconds(30)));
    TransactionClient client = client(ca.issue("client-shop", Duration.ofDays(1)));
    registerOverTls("plain", "localhost:" + plain.port());
    TransactionResult r =
        client.execute(
            List.of(
                new TransactionBranch("inventory", "sku-2".getBytes(UTF_8)),
                new TransactionBranch("plain", "k".getBytes(UTF_8))));
    assertEquals(TransactionOutcome.ABORTED, r.outcome(), r.reason());
    assertTrue(r.reason().contains("prepare failed at plain"), r.reason());
    assertEquals(List.of(), BusinessDb.applied(dir.resolve("inventory"), "inventory", r.txId()));
  }
}
