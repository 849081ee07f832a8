package dev.twopc.bench.internal;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;

/** The bench's channels: callbacks run on the transport's threads. */
public final class Channels {
  private Channels() {}

  /**
   * A channel whose callbacks run directly on the network threads: the bench never blocks in a
   * callback, so no executor hop (and no thread per request) sits between a response and the next
   * request.
   */
  public static ManagedChannel open(String target, ChannelCredentials credentials) {
    return Grpc.newChannelBuilder(target, credentials)
        .directExecutor()
        .maxInboundMessageSize(16 * 1024 * 1024)
        .build();
  }
}
