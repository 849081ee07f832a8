package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.twopc.client.Transaction;
import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionOptions;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionResult;
import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.proto.v1.AdminGetTransactionRequest;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.BranchBatch;
import dev.twopc.proto.v1.BranchMessage;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.OperatorAction;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.proto.v1.ReplyBatch;
import dev.twopc.proto.v1.Resolution;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.security.DevCertificates;
import dev.twopc.security.Role;
import dev.twopc.security.RoleMap;
import dev.twopc.security.TlsCredentials;
import dev.twopc.security.TlsFiles;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may do what, over real Netty with mutual TLS and the real coordinator and SDK participants:
 * each refusal is PERMISSION_DENIED with a one-line reason and changes nothing; an operator's
 * resolution records its certificate's name; certificates rotated on disk while transactions run
 * fail none of them.
 */
class AuthorizationTest {
  private static final RoleMap ROLES =
      RoleMap.of(
          Map.of(
              "coordinator", Set.of(Role.COORDINATOR),
              "inventory", Set.of(Role.PARTICIPANT),
              "payments", Set.of(Role.PARTICIPANT),
              "client-shop", Set.of(Role.CLIENT),
              "operator-alice", Set.of(Role.OPERATOR),
              "shop-api", Set.of(Role.PARTICIPANT)));

  /**
   * What the participants grant: the coordinator drives branches, the operator lists them, the
   * client calls their own services.
   */
  private static final RoleMap PARTICIPANT_ROLES =
      RoleMap.of(
          Map.of(
              "coordinator", Set.of(Role.COORDINATOR),
              "operator-alice", Set.of(Role.OPERATOR),
              "client-shop", Set.of(Role.CLIENT)));

  @TempDir Path dir;
  private DevCertificates ca;
  private final Map<String, TlsFiles> certs = new HashMap<>();
  private CoordinatorServer coordinator;
  private Participant inventory;
  private Participant payments;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    ca = DevCertificates.createAuthority(dir.resolve("certs"), Duration.ofDays(1));
    coordinator =
        CoordinatorServer.start(
            Coordinators.defaults(dir.resolve("coordinator"))
                .tls(cert("coordinator"))
                .roles(ROLES)
                .tlsReloadInterval(Duration.ofMillis(100))
                .phase2BackoffBase(Duration.ofMillis(20))
                .phase2BackoffCap(Duration.ofMillis(500))
                .build());
    inventory = participant("inventory");
    payments = participant("payments");
    assertTrue(inventory.awaitRegistered(Duration.ofSeconds(30)));
    assertTrue(payments.awaitRegistered(Duration.ofSeconds(30)));
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    coordinator.close();
  }

  @Test
  void aParticipantRegistersOnlyUnderANameItsCertificateCarries() throws Exception {
    String realAddress = address("payments");
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                coordinatorStub("inventory")
                    .registerParticipant(
                        RegisterParticipantRequest.newBuilder()
                            .setName("payments")
                            .setAddress("localhost:1")
                            .build()));
    assertDenied(e, "inventory may not register as payments: its certificate names inventory");
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () ->
                coordinatorStub("client-shop")
                    .registerParticipant(
                        RegisterParticipantRequest.newBuilder()
                            .setName("payments")
                            .setAddress("localhost:1")
                            .build())),
        "client-shop may not call Coordinator/RegisterParticipant: it needs the participant"
            + " role (it has roles: client)");
    // nothing changed: payments is still where it registered, and still commits
    assertEquals(realAddress, address("payments"));
    TransactionResult r =
        client()
            .execute(
                List.of(new TransactionBranch("payments", "p-1".getBytes(UTF_8))),
                TransactionOptions.defaults().withWaitForCompletion(true));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    // under its own name it may (re-)register
    String own = address("inventory");
    coordinatorStub("inventory")
        .registerParticipant(
            RegisterParticipantRequest.newBuilder().setName("inventory").setAddress(own).build());
    assertEquals(own, address("inventory"));
  }

  @Test
  void aClientCannotCallAdminAndAnOperatorCannotRunTransactions() throws Exception {
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () ->
                adminStub("client-shop")
                    .listTransactions(
                        ListTransactionsRequest.newBuilder().setPageSize(10).build())),
        "client-shop may not call Admin/ListTransactions: it needs the operator role (it has"
            + " roles: client)");
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () ->
                coordinatorStub("client-shop")
                    .listParticipants(ListParticipantsRequest.getDefaultInstance())),
        "client-shop may not call Coordinator/ListParticipants: it needs the operator role");
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () ->
                coordinatorStub("inventory")
                    .execute(
                        dev.twopc.proto.v1.ExecuteRequest.newBuilder()
                            .addBranches(
                                dev.twopc.proto.v1.BranchRequest.newBuilder()
                                    .setParticipant("inventory")
                                    .setPayload(ByteString.copyFromUtf8("x")))
                            .build())),
        "inventory may not call Coordinator/Execute: it needs the client role (it has roles:"
            + " participant)");
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () ->
                coordinatorStub("operator-alice")
                    .begin(dev.twopc.proto.v1.BeginRequest.getDefaultInstance())),
        "operator-alice may not call Coordinator/Begin: it needs the client role");
    assertEquals(
        0,
        adminStub("operator-alice")
            .listTransactions(ListTransactionsRequest.newBuilder().setPageSize(10).build())
            .getTransactionsCount());
  }

  @Test
  void anOperatorsResolutionRecordsItsCertificatesNameNotTheRequestsField() throws Exception {
    Transaction tx = client().begin();
    AdminGrpc.AdminBlockingStub admin = adminStub("operator-alice");
    admin.retryTransaction(
        RetryTransactionRequest.newBuilder().setTxId(tx.txId()).setOperator("mallory").build());
    admin.resolveTransaction(
        ResolveTransactionRequest.newBuilder()
            .setTxId(tx.txId())
            .setResolution(Resolution.RESOLUTION_ABORT)
            .setReason("stuck")
            .setOperator("mallory")
            .build());
    List<OperatorAction> actions =
        admin
            .getTransaction(AdminGetTransactionRequest.newBuilder().setTxId(tx.txId()).build())
            .getOperatorActionsList();
    assertEquals(
        List.of("RETRY operator-alice", "ABORT operator-alice"),
        actions.stream().map(a -> a.getAction() + " " + a.getOperator()).toList());
    assertEquals(TransactionOutcome.ABORTED, client().status(tx.txId()).outcome());
  }

  @Test
  void everyParticipantInDoubtHearsTheTombstoneOfATransactionTheLogNeverHad() throws Exception {
    // an id issued now of which the log has nothing: its coordinator died before any record
    long now = System.currentTimeMillis();
    String txId =
        new java.util.UUID((now << 16) | 0x7000L | 0x123L, 0x8000_0000_0000_0001L).toString();
    assertEquals(
        dev.twopc.proto.v1.Outcome.OUTCOME_ABORTED,
        coordinatorStub("inventory").getOutcome(outcome(txId, "inventory")).getOutcome());
    // the first question wrote an ABORT tombstone with no branches; the next participant asking
    // is told the same, not refused for having no branch in it
    assertEquals(
        dev.twopc.proto.v1.Outcome.OUTCOME_ABORTED,
        coordinatorStub("payments").getOutcome(outcome(txId, "payments")).getOutcome());
  }

  @Test
  void aParticipantAsksOutcomesOnlyAboutItsOwnBranches() throws Exception {
    TransactionResult r =
        client()
            .execute(
                List.of(new TransactionBranch("inventory", "i-1".getBytes(UTF_8))),
                TransactionOptions.defaults().withWaitForCompletion(true));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    assertEquals(
        dev.twopc.proto.v1.Outcome.OUTCOME_COMMITTED,
        coordinatorStub("inventory").getOutcome(outcome(r.txId(), "inventory")).getOutcome());
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () -> coordinatorStub("payments").getOutcome(outcome(r.txId(), "payments"))),
        "payments has no branch in transaction " + r.txId());
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () -> coordinatorStub("payments").getOutcome(outcome(r.txId(), "inventory"))),
        "payments may not ask outcomes as inventory: its certificate names payments");
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () ->
                coordinatorStub("payments")
                    .getOutcome(GetOutcomeRequest.newBuilder().setTxId(r.txId()).build())),
        "payments must name itself as the participant asking");
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () -> coordinatorStub("client-shop").getOutcome(outcome(r.txId(), "inventory"))),
        "client-shop may not call Coordinator/GetOutcome: it needs the participant or operator"
            + " role");
    assertEquals(
        dev.twopc.proto.v1.Outcome.OUTCOME_COMMITTED,
        coordinatorStub("operator-alice")
            .getOutcome(GetOutcomeRequest.newBuilder().setTxId(r.txId()).build())
            .getOutcome());
  }

  @Test
  void onlyTheCoordinatorDrivesAParticipantsBranchesAndAnOperatorListsThem() throws Exception {
    PrepareRequest prepare =
        PrepareRequest.newBuilder()
            .setTxId("forged-1")
            .setParticipant("payments")
            .setPayload(ByteString.copyFromUtf8("steal"))
            .setCoordinator(coordinator.target())
            .build();
    for (String who : List.of("client-shop", "inventory", "operator-alice")) {
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class, () -> participantStub(payments, who).prepare(prepare));
      assertDenied(e, who + " may not call Participant/Prepare: it needs the coordinator role");
      // nor on the Exchange stream the coordinator uses
      CompletableFuture<Throwable> refused = new CompletableFuture<>();
      StreamObserver<BranchBatch> stream =
          ParticipantGrpc.newStub(channel("localhost:" + payments.port(), who))
              .exchange(
                  new StreamObserver<ReplyBatch>() {
                    @Override
                    public void onNext(ReplyBatch r) {
                      refused.completeExceptionally(new AssertionError("answered " + r));
                    }

                    @Override
                    public void onError(Throwable t) {
                      refused.complete(t);
                    }

                    @Override
                    public void onCompleted() {
                      refused.completeExceptionally(new AssertionError("ended without refusing"));
                    }
                  });
      stream.onNext(
          BranchBatch.newBuilder()
              .addMessages(BranchMessage.newBuilder().setId(1).setPrepare(prepare))
              .build());
      assertDenied(
          (StatusRuntimeException) refused.get(10, TimeUnit.SECONDS),
          who + " may not call Participant/Exchange: it needs the coordinator role");
    }
    assertDenied(
        assertThrows(
            StatusRuntimeException.class,
            () ->
                participantStub(payments, "client-shop")
                    .listPrepared(ListPreparedRequest.getDefaultInstance())),
        "client-shop may not call Participant/ListPrepared: it needs the operator or"
            + " coordinator role");
    assertEquals(
        0,
        participantStub(payments, "operator-alice")
            .listPrepared(ListPreparedRequest.getDefaultInstance())
            .getBranchesCount());
    assertEquals(List.of(), BusinessDb.applied(dir.resolve("payments"), "payments", "forged-1"));
    // the coordinator's certificate is the one that may
    TransactionResult r =
        client()
            .execute(
                List.of(new TransactionBranch("payments", "p-2".getBytes(UTF_8))),
                TransactionOptions.defaults().withWaitForCompletion(true));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
  }

  @Test
  void certificatesRotatedOnDiskWhileTransactionsRunFailNone() throws Exception {
    BigInteger before = serverSerial();
    TransactionClient client = client();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger committed = new AtomicInteger();
    List<String> failures = new CopyOnWriteArrayList<>();
    Thread load =
        new Thread(
            () -> {
              int i = 0;
              while (!stop.get()) {
                i++;
                TransactionResult r =
                    client.execute(
                        List.of(
                            new TransactionBranch("inventory", ("r-" + i).getBytes(UTF_8)),
                            new TransactionBranch("payments", ("r-" + i).getBytes(UTF_8))));
                if (r.outcome() == TransactionOutcome.COMMITTED) {
                  committed.incrementAndGet();
                } else {
                  failures.add(r.txId() + " " + r.outcome() + " " + r.reason());
                }
              }
            });
    load.start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> committed.get() >= 5);
      // every process's files now hold a new certificate with a new key
      for (String name : List.of("coordinator", "inventory", "payments", "client-shop")) {
        ca.issue(name, Duration.ofDays(1));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> !serverSerial().equals(before));
      int atRotation = committed.get();
      await().atMost(Duration.ofSeconds(60)).until(() -> committed.get() >= atRotation + 10);
    } finally {
      stop.set(true);
      load.join();
    }
    assertEquals(List.of(), failures);
    // and a client that connects now, with its new certificate, runs transactions too
    TransactionResult r =
        client()
            .execute(
                List.of(
                    new TransactionBranch("inventory", "after".getBytes(UTF_8)),
                    new TransactionBranch("payments", "after".getBytes(UTF_8))));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
  }

  @Test
  void aParticipantsOwnServicesTakeCallsFromClientsOnly() throws Exception {
    HealthStatusManager health = new HealthStatusManager(); // stands in for a business API
    Participant api =
        Participant.builder("shop-api")
            .coordinator(coordinator.target())
            .dataDirectory(dir.resolve("shop-api"))
            .handler(new TestHandler())
            .tls(cert("shop-api"))
            .roles(PARTICIPANT_ROLES)
            .addService(health.getHealthService())
            .build();
    toClose.add(api);
    api.start();
    String target = "localhost:" + api.port();
    HealthGrpc.newBlockingStub(channel(target, "client-shop"))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance());
    for (String who : List.of("inventory", "operator-alice")) {
      assertDenied(
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  HealthGrpc.newBlockingStub(channel(target, who))
                      .withDeadlineAfter(10, TimeUnit.SECONDS)
                      .check(HealthCheckRequest.getDefaultInstance())),
          who + " may not call Health/Check: it needs the client role");
    }
  }

  @Test
  void aServerWhoseCertificateIsNotTheParticipantsIsNeverPrepared() throws Exception {
    // A server at some address with a valid certificate of the CA, but not payments': a client's
    // (every development certificate is valid for localhost).
    List<String> prepared = new CopyOnWriteArrayList<>();
    int roguePort =
        rogueServer(
            new ParticipantGrpc.ParticipantImplBase() {
              @Override
              public void prepare(
                  PrepareRequest req,
                  io.grpc.stub.StreamObserver<dev.twopc.proto.v1.PrepareResponse> out) {
                prepared.add(req.getTxId() + " " + req.getPayload().toStringUtf8());
                out.onError(Status.UNAVAILABLE.asRuntimeException());
              }
            });
    // payments' entry now points there (as if its address had been taken over)
    coordinatorStub("payments")
        .registerParticipant(
            RegisterParticipantRequest.newBuilder()
                .setName("payments")
                .setAddress("localhost:" + roguePort)
                .build());
    TransactionResult r =
        client()
            .execute(
                List.of(
                    new TransactionBranch("inventory", "i-9".getBytes(UTF_8)),
                    new TransactionBranch("payments", "card-4111".getBytes(UTF_8))));
    assertEquals(TransactionOutcome.ABORTED, r.outcome(), r.reason());
    assertTrue(r.reason().contains("prepare failed at payments"), r.reason());
    assertEquals(List.of(), prepared);
  }

  @Test
  void aParticipantTalksOnlyToAServerCertifiedAsItsCoordinator() throws Exception {
    // A server at the coordinator's address (say) with a client's valid certificate.
    List<String> registrations = new CopyOnWriteArrayList<>();
    int roguePort =
        rogueServer(
            new CoordinatorGrpc.CoordinatorImplBase() {
              @Override
              public void registerParticipant(
                  RegisterParticipantRequest req,
                  io.grpc.stub.StreamObserver<dev.twopc.proto.v1.RegisterParticipantResponse> out) {
                registrations.add(req.getName());
                out.onNext(dev.twopc.proto.v1.RegisterParticipantResponse.getDefaultInstance());
                out.onCompleted();
              }
            });
    TlsCredentials own = TlsCredentials.load(cert("inventory"), Duration.ofMinutes(1));
    toClose.add(own);
    String target = "localhost:" + roguePort;
    // as the SDK dials with the coordinator identity of its roles: refused at the handshake
    try (dev.twopc.participant.internal.CoordinatorLink link =
        new dev.twopc.participant.internal.CoordinatorLink(
            target, Duration.ofSeconds(10), List.of(), own.channel(), "coordinator")) {
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class, () -> link.register("inventory", "localhost:1"));
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
    }
    assertEquals(List.of(), registrations);
    // by host name alone the rogue would have been believed
    try (dev.twopc.participant.internal.CoordinatorLink link =
        new dev.twopc.participant.internal.CoordinatorLink(
            target, Duration.ofSeconds(10), List.of(), own.channel(), null)) {
      link.register("inventory", "localhost:1");
    }
    assertEquals(List.of("inventory"), registrations);
  }

  @Test
  void connectionsToTheCoordinatorAndToParticipantsAreTls13() throws Exception {
    assertEquals("TLSv1.3", serverSession(coordinator.target()).getProtocol());
    assertEquals("TLSv1.3", serverSession("localhost:" + payments.port()).getProtocol());
  }

  // --- helpers

  /**
   * Serves {@code service} on 127.0.0.1 with a valid certificate of the CA that is a client's, not
   * the coordinator's or a participant's (every development certificate is valid for localhost);
   * returns the port.
   */
  private int rogueServer(io.grpc.BindableService service) throws IOException {
    TlsCredentials rogueTls = TlsCredentials.load(cert("client-shop"), Duration.ofMinutes(1));
    toClose.add(rogueTls);
    io.grpc.Server rogue =
        io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
                new java.net.InetSocketAddress("127.0.0.1", 0), rogueTls.server())
            .addService(service)
            .build()
            .start();
    toClose.add(() -> rogue.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return rogue.getPort();
  }

  private TlsFiles cert(String name) throws IOException {
    TlsFiles f = certs.get(name);
    if (f == null) {
      f = ca.issue(name, Duration.ofDays(1));
      certs.put(name, f);
    }
    return f;
  }

  private Participant participant(String name) throws Exception {
    Participant p =
        Participant.builder(name)
            .coordinator(coordinator.target())
            .dataDirectory(dir.resolve(name))
            .handler(new TestHandler())
            .tls(cert(name))
            .roles(PARTICIPANT_ROLES)
            .tlsReloadInterval(Duration.ofMillis(100))
            .build();
    toClose.add(p);
    p.start();
    return p;
  }

  private TransactionClient client() throws IOException {
    TransactionClient c =
        TransactionClient.builder()
            .target(coordinator.target())
            .tls(cert("client-shop"))
            .callTimeout(Duration.ofSeconds(10))
            .commitTimeout(Duration.ofSeconds(30))
            .build();
    toClose.add(c);
    return c;
  }

  private ManagedChannel channel(String target, String name) throws IOException {
    TlsCredentials creds = TlsCredentials.load(cert(name), Duration.ofMinutes(1));
    toClose.add(creds);
    ManagedChannel ch = Grpc.newChannelBuilder(target, creds.channel()).build();
    toClose.add(() -> ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return ch;
  }

  private CoordinatorGrpc.CoordinatorBlockingStub coordinatorStub(String name) throws IOException {
    return CoordinatorGrpc.newBlockingStub(channel(coordinator.target(), name))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private AdminGrpc.AdminBlockingStub adminStub(String name) throws IOException {
    return AdminGrpc.newBlockingStub(channel(coordinator.target(), name))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private ParticipantGrpc.ParticipantBlockingStub participantStub(Participant p, String name)
      throws IOException {
    return ParticipantGrpc.newBlockingStub(channel("localhost:" + p.port(), name))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private String address(String participant) throws IOException {
    return coordinatorStub("operator-alice")
        .listParticipants(ListParticipantsRequest.getDefaultInstance())
        .getParticipantsList()
        .stream()
        .filter(p -> p.getName().equals(participant))
        .findFirst()
        .orElseThrow()
        .getAddress();
  }

  private static GetOutcomeRequest outcome(String txId, String participant) {
    return GetOutcomeRequest.newBuilder().setTxId(txId).setParticipant(participant).build();
  }

  private static void assertDenied(StatusRuntimeException e, String reason) {
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e.toString());
    assertTrue(e.getStatus().getDescription().contains(reason), e.getStatus().getDescription());
  }

  /** The serial of the certificate the coordinator presents to a new connection. */
  private BigInteger serverSerial() throws IOException {
    try {
      return ((X509Certificate) serverSession(coordinator.target()).getPeerCertificates()[0])
          .getSerialNumber();
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      throw new IOException(e);
    }
  }

  /** The TLS session of a new connection to {@code target}, as the operator. */
  private SSLSession serverSession(String target) throws IOException {
    AtomicReference<SSLSession> session = new AtomicReference<>();
    ClientInterceptor capture =
        new ClientInterceptor() {
          @Override
          public <Q, R> ClientCall<Q, R> interceptCall(
              MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            ClientCall<Q, R> call = next.newCall(method, options);
            return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
              @Override
              public void start(Listener<R> listener, Metadata headers) {
                super.start(
                    new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                        listener) {
                      @Override
                      public void onClose(Status status, Metadata trailers) {
                        session.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                        super.onClose(status, trailers);
                      }
                    },
                    headers);
              }
            };
          }
        };
    ManagedChannel ch = channel(target, "operator-alice");
    try {
      HealthGrpc.newBlockingStub(ClientInterceptors.intercept(ch, capture))
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      // a participant serves no health service: the answer came over TLS all the same
      assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode(), e.toString());
    }
    ch.shutdownNow();
    return session.get();
  }
}
