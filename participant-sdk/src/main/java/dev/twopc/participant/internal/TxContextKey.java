package dev.twopc.participant.internal;

import dev.twopc.client.TransactionPropagation;
import io.grpc.Context;
import io.grpc.Metadata;

/** Where the transaction id travels: a metadata header on the wire, a Context key in-process. */
public final class TxContextKey {
  public static final String HEADER = TransactionPropagation.HEADER;
  public static final Metadata.Key<String> METADATA_KEY = TransactionPropagation.METADATA_KEY;
  public static final Context.Key<String> CONTEXT_KEY = Context.key("twopc-tx-id");

  private TxContextKey() {}
}
