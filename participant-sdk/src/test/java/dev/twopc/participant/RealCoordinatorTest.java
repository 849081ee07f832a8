package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.client.Transaction;
import dev.twopc.client.TransactionBranch;
import dev.twopc.client.TransactionClient;
import dev.twopc.client.TransactionException;
import dev.twopc.client.TransactionOptions;
import dev.twopc.client.TransactionOutcome;
import dev.twopc.client.TransactionPropagation;
import dev.twopc.client.TransactionResult;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.MiniCluster;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDK against the real coordinator over gRPC, each participant on real H2 in a temp dir. */
class RealCoordinatorTest {
  @TempDir Path dir;
  private MiniCluster coordinator;
  private TransactionClient client;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void startCoordinator() throws Exception {
    coordinator = MiniCluster.start(dir.resolve("cluster"), Coordinators.inProcess());
    client =
        TransactionClient.builder()
            .target(coordinator.target())
            .commitTimeout(Duration.ofSeconds(20))
            .build();
  }

  @AfterEach
  void stopAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    client.close();
    coordinator.close();
  }

  private Participant participant(
      String name,
      ParticipantHandler handler,
      ParticipantListener listener,
      AtomicReference<Participant> self)
      throws Exception {
    Participant p =
        Participant.builder(name)
            .coordinator(coordinator.target())
            .dataDirectory(dir.resolve(name))
            .handler(handler)
            .listener(listener)
            .lockWait(Duration.ofMillis(300))
            .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .addService(BusinessService.definition(self::get))
            .build();
    self.set(p);
    toClose.add(p);
    p.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> coordinator.isRegistered(name));
    return p;
  }

  private Participant participant(String name, ParticipantHandler handler) throws Exception {
    return participant(name, handler, new ParticipantListener() {}, new AtomicReference<>());
  }

  private static List<TransactionBranch> branches(String... pairs) {
    List<TransactionBranch> out = new ArrayList<>();
    for (int i = 0; i < pairs.length; i += 2) {
      out.add(new TransactionBranch(pairs[i], pairs[i + 1].getBytes(UTF_8)));
    }
    return out;
  }

  @Test
  void executeCommitsTwoBranches() throws Exception {
    participant("inventory", new TestHandler());
    participant("payments", new TestHandler());
    TransactionResult r =
        client.execute(
            branches("inventory", "sku-1,sku-2", "payments", "acct-9"),
            TransactionOptions.defaults().withWaitForCompletion(true));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    assertEquals(
        List.of("sku-1", "sku-2"),
        BusinessDb.applied(dir.resolve("inventory"), "inventory", r.txId()));
    assertEquals(
        List.of("acct-9"), BusinessDb.applied(dir.resolve("payments"), "payments", r.txId()));
  }

  @Test
  void afterUnknownAKeyedExecuteIsFoundByItsKeyAndAKeyIsOneRequest() throws Exception {
    participant("inventory", new TestHandler());
    participant("payments", new TestHandler());
    TransactionOptions keyed = TransactionOptions.defaults().withIdempotencyKey("order-1001");
    TransactionResult r =
        client.execute(branches("inventory", "sku-1", "payments", "acct-1"), keyed);
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    TransactionResult found = client.statusByKey("order-1001");
    assertEquals(r.txId(), found.txId());
    assertEquals(TransactionOutcome.COMMITTED, found.outcome());

    TransactionException none =
        assertThrows(TransactionException.class, () -> client.statusByKey("order-never"));
    assertEquals(TransactionException.Code.NOT_FOUND, none.code());
    TransactionException other =
        assertThrows(
            TransactionException.class,
            () -> client.execute(branches("inventory", "sku-2", "payments", "acct-1"), keyed));
    assertEquals(TransactionException.Code.FAILED_PRECONDITION, other.code());
    assertTrue(other.getMessage().contains("order-1001"), other.getMessage());
    // Execute answered once the decision was durable: phase 2 may still be on its way (it was,
    // once, on a loaded machine), so wait for it rather than expect it.
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertEquals(
                    List.of("sku-1"),
                    BusinessDb.applied(dir.resolve("inventory"), "inventory", r.txId())));
  }

  @Test
  void aNoVoteAbortsAndTheOtherBranchRollsBackAndUnlocks() throws Exception {
    Participant inv = participant("inventory", new TestHandler());
    participant("payments", new TestHandler());
    TransactionResult r =
        client.execute(
            branches("inventory", "sku-1", "payments", "!no"),
            TransactionOptions.defaults().withWaitForCompletion(true));
    assertEquals(TransactionOutcome.ABORTED, r.outcome());
    assertTrue(r.reason().contains("scripted no"), r.reason());
    await().atMost(Duration.ofSeconds(10)).until(() -> inv.engine().locks().owners().isEmpty());
    assertEquals(List.of(), BusinessDb.staged(dir.resolve("inventory"), "inventory", r.txId()));
    assertEquals(List.of(), BusinessDb.applied(dir.resolve("inventory"), "inventory", r.txId()));
  }

  @Test
  void lockContentionTheSecondVotesNoAfterTheWaitAndTheFirstStillCommits() throws Exception {
    CountDownLatch inventoryPrepared = new CountDownLatch(1);
    participant(
        "inventory",
        new TestHandler(),
        new ParticipantListener() {
          @Override
          public void onPrepared(String txId) {
            inventoryPrepared.countDown();
          }
        },
        new AtomicReference<>());
    TestHandler slow = new TestHandler();
    participant("payments", slow);

    // The first transaction holds "sku-1" at inventory while payments is still preparing.
    CompletableFuture<TransactionResult> first =
        CompletableFuture.supplyAsync(
            () -> client.execute(branches("inventory", "sku-1", "payments", "!gate,acct-1")));
    assertTrue(inventoryPrepared.await(10, TimeUnit.SECONDS));

    TransactionResult second = client.execute(branches("inventory", "sku-1", "payments", "acct-2"));
    assertEquals(TransactionOutcome.ABORTED, second.outcome());
    assertTrue(second.reason().contains("lock wait timed out"), second.reason());

    slow.gate.countDown();
    TransactionResult r = first.get(20, TimeUnit.SECONDS);
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                BusinessDb.applied(dir.resolve("inventory"), "inventory", r.txId())
                    .equals(List.of("sku-1")));
  }

  @Test
  void singleBranchTransactionUsesOnePhaseCommit() throws Exception {
    TestHandler h = new TestHandler();
    CountDownLatch prepared = new CountDownLatch(1);
    Participant p =
        participant(
            "orders",
            h,
            new ParticipantListener() {
              @Override
              public void onPrepared(String txId) {
                prepared.countDown();
              }
            },
            new AtomicReference<>());
    TransactionResult ok = client.execute(branches("orders", "order-1"));
    assertEquals(TransactionOutcome.COMMITTED, ok.outcome(), ok.reason());
    assertEquals(
        List.of("order-1"), BusinessDb.applied(dir.resolve("orders"), "orders", ok.txId()));
    assertEquals(1, prepared.getCount(), "a one-phase branch is never recorded as prepared");
    TransactionResult no = client.execute(branches("orders", "!no"));
    assertEquals(TransactionOutcome.ABORTED, no.outcome());
    assertTrue(p.listPrepared().isEmpty());
  }

  @Test
  void commitHandlerFailuresAreRetriedByTheCoordinatorUntilTheBranchCommits() throws Exception {
    TestHandler flaky = new TestHandler();
    flaky.commitFailuresLeft.set(3);
    Participant inv = participant("inventory", flaky);
    participant("payments", new TestHandler());
    TransactionResult r = client.execute(branches("inventory", "sku-7", "payments", "acct-7"));
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    await().atMost(Duration.ofSeconds(20)).until(() -> inv.listPrepared().isEmpty());
    assertEquals(4, flaky.commitCalls.get());
    assertEquals(
        List.of("sku-7"), BusinessDb.applied(dir.resolve("inventory"), "inventory", r.txId()));
  }

  @Test
  void interactiveFlowEnlistsParticipantsFromTheirBusinessCalls() throws Exception {
    AtomicReference<Participant> invRef = new AtomicReference<>();
    AtomicReference<Participant> payRef = new AtomicReference<>();
    Participant inv =
        participant("inventory", new TestHandler(), new ParticipantListener() {}, invRef);
    Participant pay =
        participant("payments", new TestHandler(), new ParticipantListener() {}, payRef);

    Transaction tx =
        client.begin(TransactionOptions.defaults().withTimeout(Duration.ofSeconds(30)));
    ManagedChannel invCh =
        Grpc.newChannelBuilder("localhost:" + inv.port(), InsecureChannelCredentials.create())
            .build();
    ManagedChannel payCh =
        Grpc.newChannelBuilder("localhost:" + pay.port(), InsecureChannelCredentials.create())
            .build();
    toClose.add(() -> invCh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    toClose.add(() -> payCh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    Channel invTx =
        ClientInterceptors.intercept(invCh, TransactionPropagation.clientInterceptor(tx.txId()));
    Channel payTx =
        ClientInterceptors.intercept(payCh, TransactionPropagation.clientInterceptor(tx.txId()));

    assertEquals("staged sku-3 in " + tx.txId(), BusinessService.reserve(invTx, "sku-3"));
    assertEquals("staged sku-4 in " + tx.txId(), BusinessService.reserve(invTx, "sku-4"));
    assertEquals("staged acct-3 in " + tx.txId(), BusinessService.reserve(payTx, "acct-3"));
    // Calls without a transaction are untouched.
    assertEquals("staged x in none", BusinessService.reserve(invCh, "x"));

    TransactionView view = coordinator.transaction(tx.txId());
    assertEquals(2, view.getBranchesCount(), view.toString());

    TransactionResult r = client.commit(tx.txId(), true);
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    assertEquals(
        List.of("sku-3", "sku-4"),
        BusinessDb.applied(dir.resolve("inventory"), "inventory", tx.txId()));
    assertEquals(
        List.of("acct-3"), BusinessDb.applied(dir.resolve("payments"), "payments", tx.txId()));
  }

  /**
   * The interactive flow from a client that only talks to the coordinator: it enlists each
   * participant with its work as the payload (before, the SDK voted NO: "no staged work"), and may
   * mix that with a participant's own business calls in one branch.
   */
  @Test
  void aClientEnlistsParticipantsWithTheirWorkAndMayMixThatWithBusinessCalls() throws Exception {
    AtomicReference<Participant> payRef = new AtomicReference<>();
    participant("inventory", new TestHandler());
    Participant pay =
        participant("payments", new TestHandler(), new ParticipantListener() {}, payRef);

    Transaction tx =
        client.begin(TransactionOptions.defaults().withTimeout(Duration.ofSeconds(30)));
    client.enlist(tx.txId(), "inventory", "sku-1,sku-2".getBytes(UTF_8));
    client.enlist(tx.txId(), "inventory", "sku-1,sku-2".getBytes(UTF_8)); // a retry: no-op
    TransactionException other =
        assertThrows(
            TransactionException.class,
            () -> client.enlist(tx.txId(), "inventory", "sku-9".getBytes(UTF_8)));
    assertEquals(TransactionException.Code.FAILED_PRECONDITION, other.code(), other.getMessage());
    client.enlist(tx.txId(), "payments", "acct-1".getBytes(UTF_8));
    ManagedChannel payCh =
        Grpc.newChannelBuilder("localhost:" + pay.port(), InsecureChannelCredentials.create())
            .build();
    toClose.add(() -> payCh.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    Channel payTx =
        ClientInterceptors.intercept(payCh, TransactionPropagation.clientInterceptor(tx.txId()));
    assertEquals("staged acct-2 in " + tx.txId(), BusinessService.reserve(payTx, "acct-2"));

    TransactionResult r = client.commit(tx.txId(), true);
    assertEquals(TransactionOutcome.COMMITTED, r.outcome(), r.reason());
    assertEquals(
        List.of("sku-1", "sku-2"),
        BusinessDb.applied(dir.resolve("inventory"), "inventory", tx.txId()));
    assertEquals(
        List.of("acct-1", "acct-2"),
        BusinessDb.applied(dir.resolve("payments"), "payments", tx.txId()));
  }

  @Test
  void commitWithTheCoordinatorGoneIsUnknownNotAGuess() throws Exception {
    participant("inventory", new TestHandler());
    Transaction tx = client.begin();
    coordinator.stopCoordinator();
    TransactionResult r = client.commit(tx.txId());
    assertEquals(TransactionOutcome.UNKNOWN, r.outcome());
    assertTrue(r.reason().contains("UNAVAILABLE"), r.reason());
    TransactionResult e = client.execute(branches("inventory", "a"));
    assertEquals(TransactionOutcome.UNKNOWN, e.outcome());
  }
}
