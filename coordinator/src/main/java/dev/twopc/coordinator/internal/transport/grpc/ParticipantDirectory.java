package dev.twopc.coordinator.internal.transport.grpc;

import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.LogRecord.Registered;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.StoredParticipant;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Who the participants are and how to reach them: the durable registry (name to address) and one
 * cached channel per address. Re-registering a name moves it to the new address.
 */
public final class ParticipantDirectory implements AutoCloseable {
  /** A registered participant, with what this process has seen of it. */
  public record Entry(
      String name, String address, long registeredAt, Long lastSeen, String lastError) {}

  private final Map<String, Entry> byName = new ConcurrentHashMap<>();
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final DecisionLog log;
  private final Clock clock;
  private final int maxInboundMessageBytes;
  private final List<ClientInterceptor> interceptors;
  private final ChannelCredentials credentials;
  private final Function<String, List<ClientInterceptor>> perParticipant;

  /** (name, address) to a channel: with TLS the channel checks that the server is the name. */
  private final BiFunction<String, String, ManagedChannel> opener;

  public ParticipantDirectory(DecisionLog log, Clock clock, int maxInboundMessageBytes) {
    this(log, clock, maxInboundMessageBytes, List.of());
  }

  /** With {@code interceptors} on every participant channel (a test and diagnostic hook). */
  public ParticipantDirectory(
      DecisionLog log,
      Clock clock,
      int maxInboundMessageBytes,
      List<ClientInterceptor> interceptors) {
    this(log, clock, maxInboundMessageBytes, interceptors, InsecureChannelCredentials.create());
  }

  /** Dialling participants with {@code credentials} (TLS when the coordinator has it). */
  public ParticipantDirectory(
      DecisionLog log,
      Clock clock,
      int maxInboundMessageBytes,
      List<ClientInterceptor> interceptors,
      ChannelCredentials credentials) {
    this(log, clock, maxInboundMessageBytes, interceptors, credentials, name -> List.of());
  }

  /**
   * And with {@code perParticipant}'s interceptors on the channel to each participant (its call
   * metrics, tracing), outermost: they see what the engine sees.
   */
  public ParticipantDirectory(
      DecisionLog log,
      Clock clock,
      int maxInboundMessageBytes,
      List<ClientInterceptor> interceptors,
      ChannelCredentials credentials,
      Function<String, List<ClientInterceptor>> perParticipant) {
    this.perParticipant = perParticipant;
    this.log = log;
    this.clock = clock;
    this.maxInboundMessageBytes = maxInboundMessageBytes;
    this.interceptors = List.copyOf(interceptors);
    this.credentials = credentials;
    this.opener = this::open;
  }

  /** With {@code opener} making each address's channel (tests). */
  ParticipantDirectory(DecisionLog log, Clock clock, Function<String, ManagedChannel> opener) {
    this.log = log;
    this.clock = clock;
    this.maxInboundMessageBytes = 0;
    this.interceptors = List.of();
    this.perParticipant = name -> List.of();
    this.credentials = null;
    this.opener = (name, address) -> opener.apply(address);
  }

  /**
   * On a log several coordinators share: where a name is not known here, the log is read again (it
   * may have registered with another node).
   */
  private volatile Supplier<List<StoredParticipant>> shared;

  public void load(List<StoredParticipant> stored) {
    for (StoredParticipant p : stored) {
      byName.put(p.name(), new Entry(p.name(), p.address(), p.registeredAt(), null, null));
    }
  }

  /**
   * The registry is shared with other coordinators through {@code registry} (the log's): a name
   * unknown here is looked up there, and {@link #refresh} takes the addresses participants gave
   * other nodes.
   */
  public void share(Supplier<List<StoredParticipant>> registry) {
    this.shared = registry;
  }

  /** Takes new names and changed addresses from the shared registry (see {@link #share}). */
  public void refresh() {
    Supplier<List<StoredParticipant>> registry = shared;
    if (registry == null) {
      return;
    }
    for (StoredParticipant p : registry.get()) {
      byName.compute(
          p.name(),
          (n, old) -> {
            if (old == null) {
              return new Entry(n, p.address(), p.registeredAt(), null, null);
            }
            if (old.address().equals(p.address())) {
              return old;
            }
            ManagedChannel cached = channels.get(key(n, p.address()));
            if (cached != null) {
              cached.resetConnectBackoff();
            }
            return new Entry(n, p.address(), old.registeredAt(), old.lastSeen(), null);
          });
    }
  }

  private Entry lookUp(String name) {
    Entry e = byName.get(name);
    if (e == null && shared != null) {
      try {
        refresh();
      } catch (LogStoreException unreadable) {
        return null; // unknown as far as this node can tell; the caller says so
      }
      e = byName.get(name);
    }
    return e;
  }

  /**
   * Durably records the address, then uses it. Completes with true if the name was known. A
   * participant registers when it (re)starts: a cached channel to its address stops waiting out
   * gRPC's reconnect backoff (up to two minutes) and connects now.
   */
  public CompletableFuture<Boolean> register(String name, String address) {
    long now = clock.millis();
    return log.register(new Registered(name, address, now))
        .thenApply(
            updated -> {
              byName.compute(
                  name,
                  (n, old) ->
                      new Entry(name, address, old == null ? now : old.registeredAt(), now, null));
              ManagedChannel cached = channels.get(key(name, address));
              if (cached != null) {
                cached.resetConnectBackoff();
              }
              return updated;
            });
  }

  public boolean isRegistered(String name) {
    return lookUp(name) != null;
  }

  public List<Entry> entries() {
    List<Entry> list = new ArrayList<>(byName.values());
    list.sort(Comparator.comparing(Entry::name));
    return list;
  }

  /** The channel to the participant's current address, empty if it is not registered. */
  Optional<ManagedChannel> channel(String name) {
    Entry e = lookUp(name);
    if (e == null) {
      return Optional.empty();
    }
    return Optional.of(
        channels.computeIfAbsent(key(name, e.address()), k -> opener.apply(name, e.address())));
  }

  /**
   * The channel for a retry, which the engine's own backoff has already spaced out: it connects now
   * rather than when gRPC's reconnect backoff would let it.
   */
  Optional<ManagedChannel> channelForRetry(String name) {
    Optional<ManagedChannel> channel = channel(name);
    channel.ifPresent(ManagedChannel::resetConnectBackoff);
    return channel;
  }

  public String addressOf(String name) {
    Entry e = byName.get(name);
    return e == null ? "" : e.address();
  }

  public void seen(String name) {
    byName.computeIfPresent(
        name, (n, e) -> new Entry(n, e.address(), e.registeredAt(), clock.millis(), null));
  }

  void failed(String name, String error) {
    byName.computeIfPresent(
        name, (n, e) -> new Entry(n, e.address(), e.registeredAt(), e.lastSeen(), error));
  }

  private static String key(String name, String address) {
    return name + ' ' + address;
  }

  /**
   * With TLS the server must present a certificate carrying the participant's name (checked as its
   * host name, through the authority): a certificate that is valid only for the address, as every
   * development one is for localhost, cannot receive another participant's Prepare.
   */
  private ManagedChannel open(String name, String address) {
    // grpc-java calls the last interceptor given first: the participant's own go last.
    List<ClientInterceptor> interceptors = new ArrayList<>(this.interceptors);
    interceptors.addAll(perParticipant.apply(name));
    // Callbacks only update state and queue work, so they run on the transport thread:
    // no hand-off per message (waking another thread costs ~75 us on small VMs).
    if (address.startsWith("inprocess:")) {
      return InProcessChannelBuilder.forName(address.substring("inprocess:".length()))
          .directExecutor()
          .intercept(interceptors)
          .build();
    }
    NettyChannelBuilder b =
        NettyChannelBuilder.forTarget(address, credentials)
            .directExecutor()
            .maxInboundMessageSize(maxInboundMessageBytes)
            .intercept(interceptors);
    if (!(credentials instanceof InsecureChannelCredentials)) {
      b.overrideAuthority(name);
    }
    return b.build();
  }

  @Override
  public void close() {
    for (ManagedChannel c : channels.values()) {
      c.shutdown();
    }
    for (ManagedChannel c : channels.values()) {
      try {
        if (!c.awaitTermination(2, TimeUnit.SECONDS)) {
          c.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        c.shutdownNow();
      }
    }
  }
}
