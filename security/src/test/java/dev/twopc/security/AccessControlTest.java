package dev.twopc.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Grpc;
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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access check every twopc server runs, over real Netty with mutual TLS: a guarded method takes
 * only callers whose certificate names have its role; a certificate without names is
 * UNAUTHENTICATED; a method of a guarded service without a rule is refused to everyone; each
 * refusal is counted, and logged the first time and at 10, 100 ... of its kind.
 */
class AccessControlTest {
  private static final RoleMap ROLES =
      RoleMap.of(
          Map.of(
              "operator-alice", Set.of(Role.OPERATOR),
              "client-shop", Set.of(Role.CLIENT)));

  @TempDir Path dir;
  private DevCertificates ca;
  private AccessControl access;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  /** The caller names the service saw, one entry per call that reached it. */
  private final List<String> served = new CopyOnWriteArrayList<>();

  private int port;

  @BeforeEach
  void startServer() throws Exception {
    ca = DevCertificates.createAuthority(dir.resolve("ca"), Duration.ofDays(1));
    access =
        AccessControl.builder("test-server", ROLES)
            .allow(HealthGrpc.getCheckMethod(), Role.OPERATOR)
            .build(); // Health/Watch has no rule
    TlsCredentials server = credentials(ca.issue("coordinator", Duration.ofDays(1)));
    Server s =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), server.server())
            .addService(
                ServerInterceptors.intercept(
                    new HealthGrpc.HealthImplBase() {
                      @Override
                      public void check(
                          HealthCheckRequest req, StreamObserver<HealthCheckResponse> out) {
                        served.add(Caller.current().map(Caller::name).orElse("none"));
                        out.onNext(
                            HealthCheckResponse.newBuilder()
                                .setStatus(HealthCheckResponse.ServingStatus.SERVING)
                                .build());
                        out.onCompleted();
                      }
                    },
                    access.interceptor(),
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
  void aCallerWithTheRoleIsServedAndKnownByItsName() throws Exception {
    check(channel("operator-alice"));
    assertEquals(List.of("operator-alice"), served);
    assertEquals(0, access.refusals());
  }

  @Test
  void aCallerWithoutTheRoleIsPermissionDeniedWithAOneLineReason() throws Exception {
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> check(channel("client-shop")));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    assertEquals(
        "client-shop may not call Health/Check: it needs the operator role (it has"
            + " roles: client)",
        e.getStatus().getDescription());
    StatusRuntimeException unknown =
        assertThrows(StatusRuntimeException.class, () -> check(channel("stranger")));
    assertEquals(Status.Code.PERMISSION_DENIED, unknown.getStatus().getCode());
    assertEquals(
        "stranger may not call Health/Check: it needs the operator role (it has no" + " role)",
        unknown.getStatus().getDescription());
    assertEquals(List.of(), served);
    assertEquals(2, access.refusals());
  }

  @Test
  void aCertificateThatNamesNoOneIsUnauthenticated() throws Exception {
    Instant now = Instant.now();
    TlsFiles nameless = ca.issue("nameless", now.minusSeconds(60), now.plusSeconds(3600), false);
    ManagedChannel ch = channel(credentials(nameless));
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> check(ch));
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    assertTrue(
        e.getStatus()
            .getDescription()
            .contains("carries no DNS or URI subject" + " alternative name"),
        e.getStatus().getDescription());
    assertEquals(List.of(), served);
    // nor does one that names only what every local certificate carries
    StatusRuntimeException local =
        assertThrows(StatusRuntimeException.class, () -> check(channel("localhost")));
    assertEquals(Status.Code.UNAUTHENTICATED, local.getStatus().getCode());
    assertTrue(
        local
            .getStatus()
            .getDescription()
            .contains("localhost and loopback addresses" + " identify no one"),
        local.getStatus().getDescription());
    for (String shared :
        List.of(
            "localhost",
            "LOCALHOST.",
            "localhost.localdomain",
            "db.localhost",
            "127.0.0.2",
            "::1")) {
      assertTrue(RoleMap.isSharedName(shared), shared);
    }
    assertEquals(false, RoleMap.isSharedName("inventory"));
  }

  @Test
  void aMethodOfAGuardedServiceWithoutARuleIsRefusedToEveryone() throws Exception {
    ManagedChannel ch = channel("operator-alice");
    Iterator<HealthCheckResponse> watch =
        HealthGrpc.newBlockingStub(ch)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .watch(HealthCheckRequest.getDefaultInstance());
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, watch::next);
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    assertTrue(
        e.getStatus()
            .getDescription()
            .contains("may not call Health/Watch: no rule allows" + " anyone to"),
        e.getStatus().getDescription());
  }

  @Test
  void aPolicyThatMissesAMethodFailsWhenItIsBuiltToCoverTheService() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                AccessControl.builder("test", ROLES)
                    .allow(HealthGrpc.getCheckMethod(), Role.OPERATOR)
                    .requireRulesFor(HealthGrpc.getServiceDescriptor()));
    assertEquals("no access rule for grpc.health.v1.Health/Watch", e.getMessage());
  }

  @Test
  void refusalsAreCountedAndEachKindIsLoggedAtOneTenAndAHundred() throws Exception {
    ManagedChannel ch = channel("client-shop");
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      for (int i = 0; i < 100; i++) {
        assertThrows(StatusRuntimeException.class, () -> check(ch));
      }
    } finally {
      System.setErr(original);
    }
    assertEquals(100, access.refusals());
    List<String> lines =
        captured
            .toString(StandardCharsets.UTF_8)
            .lines()
            .filter(l -> l.contains("event=access_refused"))
            .toList();
    assertEquals(3, lines.size(), String.join("\n", lines));
    assertTrue(
        lines
            .get(0)
            .contains(
                "server=test-server caller=client-shop method=Health/Check"
                    + " status=PERMISSION_DENIED count=1 "),
        lines.get(0));
    assertTrue(lines.get(1).contains(" count=10 "), lines.get(1));
    assertTrue(lines.get(2).contains(" count=100 "), lines.get(2));
  }

  @Test
  void aRolesFileSaysWhichLineIsWrong() throws Exception {
    Path file = dir.resolve("roles.conf");
    Files.writeString(
        file,
        """
        # roles
        coordinator = coordinator
        operator-alice = operator, client
        bad line
        """);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RoleMap.load(file));
    assertTrue(e.getMessage().startsWith(file + ":4: "), e.getMessage());
    Files.writeString(file, "orders = participant, client\nx = admin\n");
    e = assertThrows(IllegalArgumentException.class, () -> RoleMap.load(file));
    assertTrue(
        e.getMessage().startsWith(file + ":2: ") && e.getMessage().contains("admin"),
        e.getMessage());
    Files.writeString(file, "localhost = operator\n");
    e = assertThrows(IllegalArgumentException.class, () -> RoleMap.load(file));
    assertTrue(e.getMessage().contains("localhost cannot be an identity"), e.getMessage());
    Files.writeString(file, "# roles\n\norders = participant, client\n");
    RoleMap roles = RoleMap.load(file);
    assertEquals(
        Set.of(Role.PARTICIPANT, Role.CLIENT), roles.rolesOf(Set.of("orders", "localhost")));
    assertEquals("orders = client, participant\n", roles.format());
  }

  private void check(ManagedChannel ch) {
    HealthGrpc.newBlockingStub(ch)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
  }

  private ManagedChannel channel(String name) throws IOException {
    return channel(credentials(ca.issue(name, Duration.ofDays(1))));
  }

  private ManagedChannel channel(TlsCredentials creds) {
    ManagedChannel ch = Grpc.newChannelBuilder("localhost:" + port, creds.channel()).build();
    toClose.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return ch;
  }

  private TlsCredentials credentials(TlsFiles files) throws IOException {
    TlsCredentials c = TlsCredentials.load(files, Duration.ofMinutes(1));
    toClose.add(c);
    return c;
  }
}
