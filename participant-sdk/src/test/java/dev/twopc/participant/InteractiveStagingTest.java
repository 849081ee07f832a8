package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.twopc.client.TransactionPropagation;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeCoordinator;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The participant side of the interactive flow, with a scripted coordinator. */
class InteractiveStagingTest {
  private static final String NAME = "orders";

  @TempDir Path dir;
  private FakeCoordinator coordinator;
  private Participant participant;
  private ManagedChannel channel;
  private ParticipantClient rpc;

  @BeforeEach
  void start() throws Exception {
    coordinator = FakeCoordinator.start();
    AtomicReference<Participant> self = new AtomicReference<>();
    participant =
        Participant.builder(NAME)
            .coordinator(coordinator.target())
            .dataDirectory(dir)
            .handler(new TestHandler())
            .addService(BusinessService.definition(self::get))
            .build();
    self.set(participant);
    participant.start();
    channel =
        Grpc.newChannelBuilder(
                "localhost:" + participant.port(), InsecureChannelCredentials.create())
            .build();
    rpc = new ParticipantClient(participant.port(), NAME, coordinator.target());
  }

  @AfterEach
  void stop() throws Exception {
    rpc.close();
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    participant.close();
    coordinator.close();
  }

  @Test
  void concurrentFirstCallsEnlistOnceAndStagedWorkReachesPrepare() throws Exception {
    Channel tx =
        ClientInterceptors.intercept(channel, TransactionPropagation.clientInterceptor("tx-i"));
    List<CompletableFuture<String>> calls =
        List.of(
            CompletableFuture.supplyAsync(() -> BusinessService.reserve(tx, "o1")),
            CompletableFuture.supplyAsync(() -> BusinessService.reserve(tx, "o2")),
            CompletableFuture.supplyAsync(() -> BusinessService.reserve(tx, "o3")));
    for (CompletableFuture<String> c : calls) {
      c.get(10, TimeUnit.SECONDS);
    }
    assertEquals(List.of("tx-i/" + NAME), coordinator.enlists);
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-i", "", true).getVote());
    assertEquals(List.of("o1", "o2", "o3"), BusinessDb.staged(dir, NAME, "tx-i"));
    // Staging after prepare began is refused.
    assertThrows(
        IllegalStateException.class, () -> participant.stage("tx-i", "late".getBytes(UTF_8)));
    rpc.commit("tx-i");
    assertEquals(List.of("o1", "o2", "o3"), BusinessDb.applied(dir, NAME, "tx-i"));
  }

  @Test
  void stagingWithoutEnlistingIsRefused() {
    assertThrows(
        IllegalStateException.class, () -> participant.stage("tx-unknown", new byte[] {1}));
    participant.enlist("tx-manual");
    participant.stage("tx-manual", "m".getBytes(UTF_8));
    assertEquals(Vote.VOTE_YES, rpc.prepare("tx-manual", "", true).getVote());
    assertEquals(List.of("m"), BusinessDb.staged(dir, NAME, "tx-manual"));
  }

  @Test
  void aBadTransactionHeaderIsInvalidArgument() {
    Channel bad =
        ClientInterceptors.intercept(
            channel,
            new io.grpc.ClientInterceptor() {
              @Override
              public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(
                  io.grpc.MethodDescriptor<Q, R> m, io.grpc.CallOptions o, Channel next) {
                return new io.grpc.ForwardingClientCall.SimpleForwardingClientCall<>(
                    next.newCall(m, o)) {
                  @Override
                  public void start(Listener<R> l, io.grpc.Metadata h) {
                    h.put(TransactionPropagation.METADATA_KEY, "not valid!");
                    super.start(l, h);
                  }
                };
              }
            });
    io.grpc.StatusRuntimeException e =
        assertThrows(io.grpc.StatusRuntimeException.class, () -> BusinessService.reserve(bad, "x"));
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }
}
