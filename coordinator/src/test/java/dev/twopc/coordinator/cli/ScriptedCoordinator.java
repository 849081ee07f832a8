package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.AdminGetTransactionRequest;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ListParticipantsResponse;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.ListTransactionsResponse;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.Shutdown;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A coordinator whose Admin and ListParticipants answers are scripted, to pin the CLI's output and
 * error mapping byte for byte. The real coordinator is exercised by the other tests.
 */
final class ScriptedCoordinator implements AutoCloseable {
  /** Served by ListTransactions in pages; the token is the index of the next item. */
  volatile List<TransactionView> transactions = List.of();

  volatile TransactionView transaction = TransactionView.getDefaultInstance();
  volatile ListParticipantsResponse participants = ListParticipantsResponse.getDefaultInstance();

  /** When set, every call fails with it. */
  volatile Status failure;

  /** When set, calls are never answered (to hit the client's deadline). */
  volatile boolean silent;

  final List<ListTransactionsRequest> listRequests = new CopyOnWriteArrayList<>();
  final List<ResolveTransactionRequest> resolveRequests = new CopyOnWriteArrayList<>();
  final List<RetryTransactionRequest> retryRequests = new CopyOnWriteArrayList<>();
  final List<String> getRequests = new CopyOnWriteArrayList<>();
  private final Server server;

  ScriptedCoordinator() throws IOException {
    server =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(new Admin())
            .addService(new Coordinator())
            .build()
            .start();
  }

  String target() {
    return "localhost:" + server.getPort();
  }

  private <T> boolean failed(StreamObserver<T> out) {
    if (silent) {
      return true;
    }
    Status f = failure;
    if (f != null) {
      out.onError(f.asRuntimeException());
      return true;
    }
    return false;
  }

  private <T> void answer(StreamObserver<T> out, T value) {
    if (!failed(out)) {
      out.onNext(value);
      out.onCompleted();
    }
  }

  private final class Admin extends AdminGrpc.AdminImplBase {
    @Override
    public void listTransactions(
        ListTransactionsRequest req, StreamObserver<ListTransactionsResponse> out) {
      listRequests.add(req);
      List<TransactionView> all = transactions;
      int from = req.getPageToken().isEmpty() ? 0 : Integer.parseInt(req.getPageToken());
      int size = req.getPageSize() == 0 ? 100 : Math.min(req.getPageSize(), 1000);
      int to = Math.min(all.size(), from + size);
      answer(
          out,
          ListTransactionsResponse.newBuilder()
              .addAllTransactions(all.subList(from, to))
              .setNextPageToken(to < all.size() ? Integer.toString(to) : "")
              .build());
    }

    @Override
    public void getTransaction(
        AdminGetTransactionRequest req, StreamObserver<TransactionView> out) {
      getRequests.add(req.getTxId());
      answer(out, transaction);
    }

    @Override
    public void retryTransaction(RetryTransactionRequest req, StreamObserver<TransactionView> out) {
      retryRequests.add(req);
      answer(out, transaction);
    }

    @Override
    public void resolveTransaction(
        ResolveTransactionRequest req, StreamObserver<TransactionView> out) {
      resolveRequests.add(req);
      answer(out, transaction);
    }
  }

  private final class Coordinator extends CoordinatorGrpc.CoordinatorImplBase {
    @Override
    public void listParticipants(
        ListParticipantsRequest req, StreamObserver<ListParticipantsResponse> out) {
      answer(out, participants);
    }
  }

  @Override
  public void close() {
    Shutdown.now(server);
  }
}
