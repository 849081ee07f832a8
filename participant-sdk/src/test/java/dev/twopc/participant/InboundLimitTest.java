package dev.twopc.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.twopc.proto.v1.ListPreparedRequest;
import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.proto.v1.PrepareRequest;
import dev.twopc.proto.v1.Vote;
import dev.twopc.testing.FakeCoordinator;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The participant's inbound message limit (Builder.maxInboundMessageBytes): by default a Prepare
 * with the coordinator's largest payload (1 MiB) is read; a smaller limit refuses a larger request
 * with RESOURCE_EXHAUSTED and keeps serving.
 */
class InboundLimitTest {
  @TempDir Path dir;

  @Test
  void theDefaultReadsAOneMebibytePayloadAndASmallerLimitRefusesMoreAndKeepsServing()
      throws Exception {
    try (FakeCoordinator coordinator = FakeCoordinator.start()) {
      assertEquals(
          Vote.VOTE_READ_ONLY,
          prepare(coordinator, dir.resolve("default"), null, 1024 * 1024).getVote());
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () -> prepare(coordinator, dir.resolve("small"), 64 * 1024, 100 * 1024));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
    }
  }

  @Test
  void aLimitBelowSixtyFourKibibytesIsRefusedByTheBuilder() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Participant.builder("tiny")
                    .coordinator("localhost:1")
                    .dataDirectory(dir)
                    .handler(new TestHandler())
                    .maxInboundMessageBytes(1000)
                    .build());
    assertTrue(e.getMessage().contains("maxInboundMessageBytes must be >= 65536"), e.getMessage());
  }

  /** One Prepare of {@code payloadBytes} (a key list) to a fresh participant; then it serves. */
  private static dev.twopc.proto.v1.PrepareResponse prepare(
      FakeCoordinator coordinator, Path data, Integer limit, int payloadBytes) throws Exception {
    Participant.Builder b =
        Participant.builder("big")
            .coordinator(coordinator.target())
            .dataDirectory(data)
            .handler(new TestHandler());
    if (limit != null) {
      b.maxInboundMessageBytes(limit);
    }
    char[] key = new char[payloadBytes];
    Arrays.fill(key, 'k'); // read only first: the handler stops before the long key
    try (Participant p = b.build()) {
      p.start();
      ManagedChannel ch =
          Grpc.newChannelBuilder("localhost:" + p.port(), InsecureChannelCredentials.create())
              .build();
      try {
        ParticipantGrpc.ParticipantBlockingStub stub =
            ParticipantGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
        try {
          return stub.prepare(
              PrepareRequest.newBuilder()
                  .setTxId("tx-big")
                  .setParticipant("big")
                  .setPayload(ByteString.copyFromUtf8("!readonly," + new String(key)))
                  .setCoordinator(coordinator.target())
                  .build());
        } finally {
          // still serving, whatever the answer
          ParticipantGrpc.newBlockingStub(ch)
              .withDeadlineAfter(20, TimeUnit.SECONDS)
              .listPrepared(ListPreparedRequest.getDefaultInstance());
        }
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
