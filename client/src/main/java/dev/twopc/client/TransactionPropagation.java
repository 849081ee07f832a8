package dev.twopc.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.stub.AbstractStub;
import java.util.regex.Pattern;

/**
 * Carries a transaction id on business calls to participants: the client side attaches it as the
 * {@value #HEADER} metadata header; the participant side (the participant SDK's server interceptor,
 * {@code Participant#serverInterceptor()}) enlists and exposes it through {@code
 * Participant.currentTxId()}.
 *
 * <pre>{@code
 * Transaction tx = client.begin();
 * OrdersGrpc.OrdersBlockingStub orders = TransactionPropagation.attach(ordersStub, tx.txId());
 * orders.placeOrder(request);           // the orders participant enlists itself
 * client.commit(tx.txId());
 *
 * // in the participant's business method:
 * participant.stage(work);              // staged for Participant.currentTxId()
 * }</pre>
 */
public final class TransactionPropagation {
  /** The metadata header carrying the transaction id. */
  public static final String HEADER = "twopc-tx-id";

  /** The metadata key of {@link #HEADER}. */
  public static final Metadata.Key<String> METADATA_KEY =
      Metadata.Key.of(HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private static final Pattern TX_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  private TransactionPropagation() {}

  /** A client interceptor adding {@code txId} to every call. */
  public static ClientInterceptor clientInterceptor(String txId) {
    if (txId == null || !TX_ID.matcher(txId).matches()) {
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
}
