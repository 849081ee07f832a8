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
  /** The first node of a target of several, comma-separated (any node answers a query). */
  public static String first(String targets) {
    int comma = targets.indexOf(',');
    return comma < 0 ? targets : targets.substring(0, comma).strip();
  }

  /** One channel per node of a target of several, comma-separated. */
  public static java.util.List<ManagedChannel> openEach(
      String targets, ChannelCredentials credentials) {
    java.util.List<ManagedChannel> list = new java.util.ArrayList<>();
    for (String t : targets.split(",", -1)) {
      list.add(open(t.strip(), credentials));
    }
    return list;
  }

  public static ManagedChannel open(String target, ChannelCredentials credentials) {
    return Grpc.newChannelBuilder(target, credentials)
        .directExecutor()
        .maxInboundMessageSize(16 * 1024 * 1024)
        .build();
  }
}
