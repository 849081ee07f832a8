package dev.twopc.participant.internal;

import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The participant's calls to coordinators, one channel per address (the configured one, and any
 * other a prepared branch names). Every call has a deadline; failures surface as {@link
 * io.grpc.StatusRuntimeException} to the caller, which decides whether to retry.
 */
public final class CoordinatorLink implements AutoCloseable {
  private final String defaultTarget;
  private final Duration rpcTimeout;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final List<ClientInterceptor> interceptors;
  private final String coordinatorIdentity; // null: the host name dialled
  private final ChannelCredentials credentials;

  /**
   * Calls {@code defaultTarget} (or the coordinator a branch names) with {@code credentials},
   * {@code interceptors} on every channel (a test and diagnostic hook).
   */
  public CoordinatorLink(
      String defaultTarget,
      Duration rpcTimeout,
      List<ClientInterceptor> interceptors,
      ChannelCredentials credentials) {
    this(defaultTarget, rpcTimeout, interceptors, credentials, null);
  }

  /**
   * As above; with {@code coordinatorIdentity} (TLS), the server's certificate must carry that
   * name, not only the host name dialled.
   */
  public CoordinatorLink(
      String defaultTarget,
      Duration rpcTimeout,
      List<ClientInterceptor> interceptors,
      ChannelCredentials credentials,
      String coordinatorIdentity) {
    this.coordinatorIdentity = coordinatorIdentity;
    this.defaultTarget = defaultTarget;
    this.rpcTimeout = rpcTimeout;
    this.interceptors = List.copyOf(interceptors);
    this.credentials = credentials;
  }

  public String defaultTarget() {
    return defaultTarget;
  }

  private CoordinatorGrpc.CoordinatorBlockingStub stub(String target) {
    String t = target == null || target.isEmpty() ? defaultTarget : target;
    ManagedChannel ch =
        channels.computeIfAbsent(
            t,
            a -> {
              ManagedChannelBuilder<?> b =
                  Grpc.newChannelBuilder(a, credentials).intercept(interceptors);
              if (coordinatorIdentity != null) {
                b.overrideAuthority(coordinatorIdentity);
              }
              return b.build();
            });
    // Every call here is the SDK's own spaced retry (registration, in-doubt queries) or a
    // business call: after a coordinator restart, connect now instead of failing fast for the
    // rest of gRPC's reconnect backoff (up to two minutes).
    if (ch.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
      ch.resetConnectBackoff();
    }
    return CoordinatorGrpc.newBlockingStub(ch)
        .withDeadlineAfter(rpcTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Returns true if the name was already registered. */
  public boolean register(String name, String address) {
    return stub(defaultTarget)
        .registerParticipant(
            RegisterParticipantRequest.newBuilder().setName(name).setAddress(address).build())
        .getUpdated();
  }

  public void enlist(String txId, String name) {
    stub(defaultTarget)
        .enlist(
            EnlistRequest.newBuilder().setTxId(txId).setParticipant(name).setStaged(true).build());
  }

  public Outcome getOutcome(String coordinator, String txId, String name) {
    return stub(coordinator)
        .getOutcome(GetOutcomeRequest.newBuilder().setTxId(txId).setParticipant(name).build())
        .getOutcome();
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel ch : channels.values()) {
      try {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
