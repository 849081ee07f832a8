package dev.twopc.participant.internal;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the transaction id of a business call, enlists this participant once per transaction
 * (before the business method runs) and exposes the id to it through the gRPC Context.
 */
public final class TxServerInterceptor implements ServerInterceptor {
  private static final Logger log = LoggerFactory.getLogger(TxServerInterceptor.class);

  private final String name;
  private final CoordinatorLink link;
  private final Staging staging;
  private final Registrar registrar;
  private final Clock clock;

  public TxServerInterceptor(
      String name, CoordinatorLink link, Staging staging, Registrar registrar, Clock clock) {
    this.name = name;
    this.link = link;
    this.staging = staging;
    this.registrar = registrar;
    this.clock = clock;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
      ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    String txId = headers.get(TxContextKey.METADATA_KEY);
    if (txId == null) {
      return next.startCall(call, headers);
    }
    if (!Ids.isTxId(txId)) {
      call.close(
          Status.INVALID_ARGUMENT.withDescription(
              TxContextKey.HEADER + " must be 1-128 characters of [A-Za-z0-9._:-]"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    try {
      enlist(txId);
    } catch (StatusRuntimeException e) {
      Status s = e.getStatus();
      call.close(
          Status.fromCode(s.getCode())
              .withDescription("enlisting in tx=" + txId + " failed: " + s.getDescription()),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Context ctx = Context.current().withValue(TxContextKey.CONTEXT_KEY, txId);
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  /** Enlists this participant in {@code txId} unless it already did. */
  public void enlist(String txId) {
    staging.ensureEnlisted(
        txId,
        clock.instant(),
        () -> {
          try {
            link.enlist(txId, name);
            log.debug("event=enlisted participant={} tx={}", name, txId);
          } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
              registrar.registerSoon();
            }
            log.warn(
                "event=enlist_failed participant={} tx={} status=\"{}\"",
                name,
                txId,
                e.getStatus());
            throw e;
          }
        });
  }
}
