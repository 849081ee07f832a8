package dev.twopc.participant.internal;

import dev.twopc.client.internal.Failover;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

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
  private volatile Failover defaults;

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

  private ManagedChannel channel(String target) {
    ManagedChannel ch =
        channels.computeIfAbsent(
            target,
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
    return ch;
  }

  private CoordinatorGrpc.CoordinatorBlockingStub stub(Channel ch) {
    return CoordinatorGrpc.newBlockingStub(ch)
        .withDeadlineAfter(rpcTimeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * {@code call} on the configured coordinator, or on each of several nodes in turn while one is
   * UNAVAILABLE (every call here is safe to repeat: the registry and enlistment are idempotent).
   */
  private <T> T onDefault(Function<CoordinatorGrpc.CoordinatorBlockingStub, T> call) {
    Failover nodes = defaults;
    if (nodes == null) {
      List<Channel> list = new ArrayList<>();
      for (String t : Failover.split(defaultTarget)) {
        list.add(new LazyChannel(t));
      }
      nodes = new Failover(list);
      defaults = nodes;
    }
    return nodes.call(ch -> call.apply(stub(ch)));
  }

  /** A channel opened (and its backoff reset) when a call needs it. */
  private final class LazyChannel extends Channel {
    private final String target;

    LazyChannel(String target) {
      this.target = target;
    }

    @Override
    public <Q, A> io.grpc.ClientCall<Q, A> newCall(
        io.grpc.MethodDescriptor<Q, A> method, io.grpc.CallOptions options) {
      return channel(target).newCall(method, options);
    }

    @Override
    public String authority() {
      return channel(target).authority();
    }
  }

  /** Returns true if the name was already registered. */
  public boolean register(String name, String address) {
    RegisterParticipantRequest req =
        RegisterParticipantRequest.newBuilder().setName(name).setAddress(address).build();
    return onDefault(stub -> stub.registerParticipant(req)).getUpdated();
  }

  public void enlist(String txId, String name) {
    EnlistRequest req =
        EnlistRequest.newBuilder().setTxId(txId).setParticipant(name).setStaged(true).build();
    onDefault(stub -> stub.enlist(req));
  }

  /**
   * Asks {@code coordinator} (the node a prepared branch names), or with it empty or the configured
   * target, the configured node(s): any node of a shared log answers from the log.
   */
  public Outcome getOutcome(String coordinator, String txId, String name) {
    GetOutcomeRequest req =
        GetOutcomeRequest.newBuilder().setTxId(txId).setParticipant(name).build();
    if (coordinator == null || coordinator.isEmpty() || coordinator.equals(defaultTarget)) {
      return onDefault(stub -> stub.getOutcome(req)).getOutcome();
    }
    return stub(channel(coordinator)).getOutcome(req).getOutcome();
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
