package dev.twopc.client;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.twopc.client.internal.Failover;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BeginResponse;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.CommitRequest;
import dev.twopc.proto.v1.CommitResponse;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.RollbackRequest;
import dev.twopc.proto.v1.RollbackResponse;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.security.TlsCredentials;
import dev.twopc.security.TlsFiles;
import io.grpc.Channel;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * What applications use to run distributed transactions: in one call ({@link #execute}) or
 * interactively ({@link #begin}, business calls carrying the id, {@link #commit}).
 *
 * <pre>{@code
 * try (TransactionClient client = TransactionClient.builder().target("localhost:7000").build()) {
 *   TransactionResult r = client.execute(List.of(
 *       new TransactionBranch("inventory", skuBytes),
 *       new TransactionBranch("payments", amountBytes)));
 *   switch (r.outcome()) {
 *     case COMMITTED -> ...;
 *     case ABORTED -> ...;               // r.reason() says why
 *     case UNKNOWN, IN_PROGRESS -> ...;  // no answer: see "After UNKNOWN" below
 *   }
 * }
 * }</pre>
 *
 * <p><b>After UNKNOWN.</b> The call's answer was lost (deadline, coordinator restarting or
 * unreachable); the transaction may have committed, aborted, or still be running.
 *
 * <ul>
 *   <li>{@link #execute}: the transaction id never reached you ({@link TransactionResult#txId()} is
 *       empty), so give every Execute whose outcome matters an idempotency key ({@link
 *       TransactionOptions#idempotencyKey}). Then either repeat the same Execute with the same key
 *       (it answers the same transaction's outcome, never runs it twice), or ask {@link
 *       #statusByKey(String)}. Without a key the transaction cannot be looked up; it still ends
 *       all-or-nothing at the participants.
 *   <li>{@link #commit}: you hold the id; ask {@link #status(String)} (or repeat the commit, which
 *       answers the same decision) until it is COMMITTED or ABORTED.
 * </ul>
 *
 * <p><b>When NOT_FOUND is final.</b> {@link #status(String)} of an id the coordinator issued within
 * its retention (7 days by default) always answers: with no record it is ABORTED (presumed abort: a
 * COMMIT is logged before anyone is told). It throws NOT_FOUND only for an id older than the
 * retention or never issued, and that is final. {@link #statusByKey(String)} throws NOT_FOUND when
 * no transaction used the key within the retention: nothing committed under it, and repeating the
 * Execute with the key starts it. A key used for one request and sent with another (other branches
 * or payloads) is refused with FAILED_PRECONDITION naming the key.
 *
 * <p>Outcomes are honest: a Commit or Execute whose answer is lost (deadline exceeded, coordinator
 * unavailable) is {@link TransactionOutcome#UNKNOWN}, never a guess. Calls the coordinator refused
 * for good (bad input, unknown transaction, wrong state) throw {@link TransactionException}.
 * Thread-safe.
 */
public final class TransactionClient implements AutoCloseable {
  private final Failover nodes;
  private final List<ManagedChannel> owned;
  private final Duration callTimeout;
  private final Duration commitTimeout;
  private final TlsCredentials tls; // null: plaintext, or a channel of the caller's

  private TransactionClient(Builder b, TlsCredentials tls) {
    this.tls = tls;
    List<Channel> bases = new ArrayList<>();
    if (b.channel != null) {
      bases.add(b.channel);
      this.owned = List.of();
    } else {
      List<ManagedChannel> opened = new ArrayList<>();
      for (String target : Failover.split(b.target)) {
        opened.add(
            Grpc.newChannelBuilder(
                    target, tls == null ? InsecureChannelCredentials.create() : tls.channel())
                .build());
      }
      this.owned = List.copyOf(opened);
      bases.addAll(opened);
    }
    List<Channel> channels = new ArrayList<>();
    for (Channel base : bases) {
      channels.add(
          b.interceptors.isEmpty()
              ? base
              : io.grpc.ClientInterceptors.intercept(base, b.interceptors));
    }
    this.nodes = new Failover(channels);
    this.callTimeout = b.callTimeout;
    this.commitTimeout = b.commitTimeout;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * {@code call} on a coordinator node, moving to the next node given on UNAVAILABLE (see {@link
   * Builder#target}); each attempt has {@code timeout}.
   */
  private <T> T call(Duration timeout, Function<CoordinatorGrpc.CoordinatorBlockingStub, T> call) {
    return nodes.call(
        ch ->
            call.apply(
                CoordinatorGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)));
  }

  /**
   * The key a request is sent with: the caller's, or, with several nodes to fail over to, one made
   * up here so that a retry on another node is the same request and not a second transaction.
   */
  private String keyFor(TransactionOptions options) {
    if (!options.idempotencyKey().isEmpty() || nodes.size() == 1) {
      return options.idempotencyKey();
    }
    return "auto-" + UUID.randomUUID();
  }

  /** Begins an interactive transaction with the coordinator's default timeout. */
  public Transaction begin() {
    return begin(TransactionOptions.defaults());
  }

  public Transaction begin(TransactionOptions options) {
    BeginRequest.Builder req =
        BeginRequest.newBuilder().setIdempotencyKey(keyFor(options)).putAllLabels(options.labels());
    if (options.timeout() != null) {
      req.setTimeout(toProto(options.timeout()));
    }
    try {
      BeginResponse r = call(callTimeout, stub -> stub.begin(req.build()));
      return new Transaction(r.getTxId(), toInstant(r.getDeadline()));
    } catch (StatusRuntimeException e) {
      throw refused("begin", e);
    }
  }

  /**
   * Enlists {@code participant} in {@code txId} with its work: the participant's handler gets
   * {@code payload} at prepare, as with {@link #execute}. (Participants reached by business calls
   * carrying the id enlist themselves; both may happen for one participant.) Enlisting the same
   * participant again is a no-op; naming another non-empty payload then is refused
   * (FAILED_PRECONDITION). Returns the transaction's deadline.
   */
  public Instant enlist(String txId, String participant, byte[] payload) {
    try {
      EnlistRequest req =
          EnlistRequest.newBuilder()
              .setTxId(txId)
              .setParticipant(participant)
              .setPayload(ByteString.copyFrom(payload == null ? new byte[0] : payload))
              .build();
      return toInstant(call(callTimeout, stub -> stub.enlist(req)).getDeadline());
    } catch (StatusRuntimeException e) {
      throw refused("enlist", e);
    }
  }

  /** Commits an interactive transaction; answers once the decision is durable. */
  public TransactionResult commit(String txId) {
    return commit(txId, false);
  }

  /** Commits; with {@code waitForCompletion}, answers after every branch acknowledged. */
  public TransactionResult commit(String txId, boolean waitForCompletion) {
    try {
      CommitRequest req =
          CommitRequest.newBuilder().setTxId(txId).setWaitForCompletion(waitForCompletion).build();
      CommitResponse r = call(commitTimeout, stub -> stub.commit(req));
      return new TransactionResult(txId, fromProto(r.getOutcome()), r.getReason());
    } catch (StatusRuntimeException e) {
      return unknownOrThrow("commit", txId, e);
    }
  }

  /** Aborts an undecided transaction. Rolling back an aborted transaction is a no-op. */
  public TransactionResult rollback(String txId, String reason) {
    try {
      RollbackRequest req =
          RollbackRequest.newBuilder()
              .setTxId(txId)
              .setReason(reason == null ? "" : reason)
              .build();
      RollbackResponse r = call(callTimeout, stub -> stub.rollback(req));
      return new TransactionResult(txId, fromProto(r.getOutcome()), reason);
    } catch (StatusRuntimeException e) {
      throw refused("rollback", e);
    }
  }

  /** Runs a whole transaction over {@code branches} in one call. */
  public TransactionResult execute(List<TransactionBranch> branches) {
    return execute(branches, TransactionOptions.defaults());
  }

  public TransactionResult execute(List<TransactionBranch> branches, TransactionOptions options) {
    Objects.requireNonNull(branches, "branches");
    ExecuteRequest.Builder req =
        ExecuteRequest.newBuilder()
            .setIdempotencyKey(keyFor(options))
            .setWaitForCompletion(options.waitForCompletion())
            .putAllLabels(options.labels());
    for (TransactionBranch b : branches) {
      req.addBranches(
          BranchRequest.newBuilder()
              .setParticipant(b.participant())
              .setPayload(ByteString.copyFrom(b.payload())));
    }
    if (options.timeout() != null) {
      req.setTimeout(toProto(options.timeout()));
    }
    try {
      ExecuteRequest request = req.build();
      ExecuteResponse r = call(commitTimeout, stub -> stub.execute(request));
      return new TransactionResult(r.getTxId(), fromProto(r.getOutcome()), r.getReason());
    } catch (StatusRuntimeException e) {
      return unknownOrThrow("execute", "", e);
    }
  }

  /**
   * The transaction begun or executed with idempotency key {@code key}, as {@link #status(String)}
   * reports it; the way to clear up an Execute that answered UNKNOWN. Throws {@link
   * TransactionException} NOT_FOUND when no transaction used the key within the coordinator's
   * retention (final: nothing committed under it).
   */
  public TransactionResult statusByKey(String key) {
    Objects.requireNonNull(key, "key");
    try {
      GetTransactionRequest req = GetTransactionRequest.newBuilder().setIdempotencyKey(key).build();
      TransactionView v = call(callTimeout, stub -> stub.getTransaction(req));
      return new TransactionResult(v.getTxId(), fromProto(v.getOutcome()), v.getAbortReason());
    } catch (StatusRuntimeException e) {
      throw refused("status", e);
    }
  }

  /**
   * What the coordinator tells a client about {@code txId} now: COMMITTED, ABORTED (also for an id
   * it issued within its retention and has no record of: presumed abort), or IN_PROGRESS. NOT_FOUND
   * (thrown) means older than the retention or never issued, and is final.
   */
  public TransactionResult status(String txId) {
    try {
      GetTransactionRequest req = GetTransactionRequest.newBuilder().setTxId(txId).build();
      TransactionView v = call(callTimeout, stub -> stub.getTransaction(req));
      return new TransactionResult(txId, fromProto(v.getOutcome()), v.getAbortReason());
    } catch (StatusRuntimeException e) {
      throw refused("status", e);
    }
  }

  private static TransactionResult unknownOrThrow(
      String what, String txId, StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    if (code == Status.Code.INVALID_ARGUMENT
        || code == Status.Code.NOT_FOUND
        || code == Status.Code.FAILED_PRECONDITION) {
      throw refused(what, e);
    }
    // Any other failure may have happened after the decision was made durable: the honest
    // answer is UNKNOWN, to be cleared up with status() (or a retry with the idempotency key).
    String d = e.getStatus().getDescription();
    return new TransactionResult(
        txId,
        TransactionOutcome.UNKNOWN,
        "no answer to " + what + ": " + code + (d == null ? "" : " " + d));
  }

  private static TransactionException refused(String what, StatusRuntimeException e) {
    Status s = e.getStatus();
    TransactionException.Code code =
        switch (s.getCode()) {
          case INVALID_ARGUMENT -> TransactionException.Code.INVALID_ARGUMENT;
          case NOT_FOUND -> TransactionException.Code.NOT_FOUND;
          case FAILED_PRECONDITION -> TransactionException.Code.FAILED_PRECONDITION;
          case UNAVAILABLE -> TransactionException.Code.UNAVAILABLE;
          case DEADLINE_EXCEEDED -> TransactionException.Code.DEADLINE_EXCEEDED;
          default -> TransactionException.Code.OTHER;
        };
    return new TransactionException(
        code,
        what
            + " failed: "
            + s.getCode()
            + (s.getDescription() == null ? "" : " " + s.getDescription()),
        e);
  }

  private static TransactionOutcome fromProto(dev.twopc.proto.v1.Outcome o) {
    return switch (o) {
      case OUTCOME_COMMITTED -> TransactionOutcome.COMMITTED;
      case OUTCOME_ABORTED -> TransactionOutcome.ABORTED;
      case OUTCOME_IN_PROGRESS -> TransactionOutcome.IN_PROGRESS;
      default -> TransactionOutcome.UNKNOWN;
    };
  }

  private static com.google.protobuf.Duration toProto(Duration d) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(d.getSeconds())
        .setNanos(d.getNano())
        .build();
  }

  private static Instant toInstant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  /** Closes the channel if the client created it; a given channel is left to its owner. */
  @Override
  public void close() {
    if (tls != null) {
      tls.close();
    }
    owned.forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel ch : owned) {
      try {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Configures a {@link TransactionClient}. */
  public static final class Builder {
    private String target;
    private Channel channel;
    private Duration callTimeout = Duration.ofSeconds(10);
    private Duration commitTimeout = Duration.ofSeconds(30);
    private TlsFiles tls;
    private List<ClientInterceptor> interceptors = List.of();

    private Builder() {}

    /**
     * Calls the coordinator over TLS: {@code files}' trust bundle verifies it, and its certificate
     * (if given) identifies this client (mutual TLS, as a coordinator with TLS requires). The files
     * are read again when they change. With {@link #target} only.
     */
    public Builder tls(TlsFiles files) {
      this.tls = files;
      return this;
    }

    /**
     * The coordinator's host:port, or several nodes of one coordinator cluster (a shared PostgreSQL
     * log), comma-separated: a call the node cannot take (UNAVAILABLE) goes to the next, and then
     * Begin and Execute carry an idempotency key (the caller's, or one made up) so that a retry
     * elsewhere is the same request. The client owns the channels it opens.
     */
    public Builder target(String target) {
      this.target = target;
      return this;
    }

    /** A channel to the coordinator, owned by the caller. */
    public Builder channel(Channel channel) {
      this.channel = channel;
      return this;
    }

    /** Deadline of begin, enlist, rollback and status; default 10 s. */
    public Builder callTimeout(Duration d) {
      this.callTimeout = d;
      return this;
    }

    /** Deadline of commit and execute; past it the outcome is UNKNOWN. Default 30 s. */
    public Builder commitTimeout(Duration d) {
      this.commitTimeout = d;
      return this;
    }

    /**
     * Interceptors on every call to the coordinator, e.g. tracing: {@code
     * .interceptors(Tracing.of(openTelemetry).clientInterceptors())} (twopc-telemetry) makes each
     * call a client span whose context travels to the coordinator and from there to the
     * participants, so that a transaction is one trace. None unless set.
     */
    public Builder interceptors(List<? extends ClientInterceptor> interceptors) {
      this.interceptors = List.copyOf(interceptors);
      return this;
    }

    public TransactionClient build() {
      if ((target == null) == (channel == null)) {
        throw new IllegalArgumentException("exactly one of target and channel is required");
      }
      if (target != null && target.isBlank()) {
        throw new IllegalArgumentException("target must not be blank");
      }
      if (target != null) {
        Failover.split(target); // names the empty address, if any
      }
      positive("callTimeout", callTimeout);
      positive("commitTimeout", commitTimeout);
      if (tls != null && channel != null) {
        throw new IllegalArgumentException(
            "tls goes with target; a channel of yours carries" + " its own credentials");
      }
      TlsCredentials credentials;
      try {
        credentials = tls == null ? null : TlsCredentials.load(tls, Duration.ofMinutes(1));
      } catch (IOException e) {
        throw new IllegalArgumentException(e.getMessage(), e);
      }
      return new TransactionClient(this, credentials);
    }

    private static void positive(String field, Duration d) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(field + " must be a positive duration, was " + d);
      }
    }
  }
}
