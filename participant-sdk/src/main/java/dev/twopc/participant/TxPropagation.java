package dev.twopc.participant;

import dev.twopc.participant.internal.Ids;
import dev.twopc.participant.internal.TxContextKey;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.stub.AbstractStub;
import java.util.Optional;

/**
 * Carries a transaction id on business calls to participants: the client side attaches it as the
 * {@value #HEADER} metadata header; the participant side (its server interceptor, see {@link
 * Participant#serverInterceptor()}) enlists and exposes it through {@link #currentTxId()}.
 *
 * <pre>{@code
 * Transaction tx = client.begin();
 * OrdersGrpc.OrdersBlockingStub orders = TxPropagation.attach(ordersStub, tx.txId());
 * orders.placeOrder(request);           // the orders participant enlists itself
 * client.commit(tx.txId());
 *
 * // in the participant's business method:
 * participant.stage(work);              // staged for TxPropagation.currentTxId()
 * }</pre>
 */
public final class TxPropagation {
  /** The metadata header carrying the transaction id. */
  public static final String HEADER = TxContextKey.HEADER;

  /** The metadata key of {@link #HEADER}. */
  public static final Metadata.Key<String> METADATA_KEY = TxContextKey.METADATA_KEY;

  private TxPropagation() {}

  /** A client interceptor adding {@code txId} to every call. */
  public static ClientInterceptor clientInterceptor(String txId) {
    if (!Ids.isTxId(txId)) {
      throw new IllegalArgumentException("txId must be 1-128 characters of [A-Za-z0-9._:-]");
    }
    return new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
          MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(
            next.newCall(method, options)) {
          @Override
          public void start(Listener<RespT> listener, Metadata headers) {
            headers.put(METADATA_KEY, txId);
            super.start(listener, headers);
          }
        };
      }
    };
  }

  /** {@code stub} with {@link #clientInterceptor(String)} attached. */
  public static <S extends AbstractStub<S>> S attach(S stub, String txId) {
    return stub.withInterceptors(clientInterceptor(txId));
  }

  /** The transaction of the business call being served, if it carried one. */
  public static Optional<String> currentTxId() {
    return Optional.ofNullable(TxContextKey.CONTEXT_KEY.get());
  }
}
