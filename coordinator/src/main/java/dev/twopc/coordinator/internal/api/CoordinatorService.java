package dev.twopc.coordinator.internal.api;

import static dev.twopc.coordinator.internal.CoordinatorException.invalid;

import dev.twopc.coordinator.internal.CoordinatorException;
import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.concurrent.Completions;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.protocol.BranchSpec;
import dev.twopc.coordinator.internal.protocol.TransactionEngine;
import dev.twopc.coordinator.internal.protocol.TxResult;
import dev.twopc.coordinator.internal.transport.grpc.ParticipantDirectory;
import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.BeginResponse;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.CommitRequest;
import dev.twopc.proto.v1.CommitResponse;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.EnlistRequest;
import dev.twopc.proto.v1.EnlistResponse;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetOutcomeRequest;
import dev.twopc.proto.v1.GetOutcomeResponse;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.ListParticipantsRequest;
import dev.twopc.proto.v1.ListParticipantsResponse;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.proto.v1.RegisterParticipantRequest;
import dev.twopc.proto.v1.RegisterParticipantResponse;
import dev.twopc.proto.v1.RollbackRequest;
import dev.twopc.proto.v1.RollbackResponse;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.security.AccessControl;
import dev.twopc.security.Caller;
import dev.twopc.security.Role;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;

/** The Coordinator gRPC service: validates, delegates to the engine, maps errors. */
public final class CoordinatorService extends CoordinatorGrpc.CoordinatorImplBase {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(CoordinatorService.class);
  private final TransactionEngine engine;
  private final ParticipantDirectory directory;
  private final TransactionQueries queries;
  private final LogReader reader;
  private final Validation validation;
  private final int maxBranches;

  /**
   * Execute runs on the transport thread: without an idempotency key it never blocks (the engine
   * only queues RPCs and log appends), which saves a thread hand-off per transaction. Every other
   * call may read the log's database and runs on the server's executor.
   */
  private static final Executor DIRECT = Runnable::run;

  private static final String EXECUTE = CoordinatorGrpc.getExecuteMethod().getFullMethodName();

  public static final ServerCallExecutorSupplier EXECUTORS =
      new ServerCallExecutorSupplier() {
        @Override
        public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
          // By name: the server's descriptors are StrictMarshalling's, not the generated ones.
          return EXECUTE.equals(call.getMethodDescriptor().getFullMethodName()) ? DIRECT : null;
        }
      };

  private final Executor blocking;
  private final AccessControl access; // null: no TLS, no identities

  public CoordinatorService(
      TransactionEngine engine,
      ParticipantDirectory directory,
      TransactionQueries queries,
      LogReader reader,
      dev.twopc.coordinator.CoordinatorConfig config,
      Executor blocking,
      AccessControl access) {
    this.blocking = blocking;
    this.access = access;
    this.engine = engine;
    this.directory = directory;
    this.queries = queries;
    this.reader = reader;
    this.validation = new Validation(config);
    this.maxBranches = config.maxBranches();
  }

  @Override
  public void begin(BeginRequest req, StreamObserver<BeginResponse> out) {
    unary(
        out,
        () -> {
          TransactionEngine.Begun b =
              engine.begin(
                  validation.timeout(req.hasTimeout(), req.getTimeout()),
                  validation.idempotencyKey(req.getIdempotencyKey()),
                  validation.labels(req.getLabelsMap()));
          return BeginResponse.newBuilder()
              .setTxId(b.txId())
              .setDeadline(Views.ts(b.deadlineAt()))
              .build();
        });
  }

  @Override
  public void enlist(EnlistRequest req, StreamObserver<EnlistResponse> out) {
    unary(
        out,
        () -> {
          String txId = validation.txId(req.getTxId());
          String participant = validation.participant("participant", req.getParticipant());
          Caller caller = Caller.current().orElse(null);
          if (caller != null && !caller.has(Role.CLIENT)) {
            requireOwnName(
                caller,
                CoordinatorGrpc.getEnlistMethod().getFullMethodName(),
                participant,
                "enlist");
          }
          long deadline =
              engine.enlist(
                  txId,
                  participant,
                  validation.payload("payload", req.getPayload()),
                  req.getStaged());
          return EnlistResponse.newBuilder().setDeadline(Views.ts(deadline)).build();
        });
  }

  @Override
  public void commit(CommitRequest req, StreamObserver<CommitResponse> out) {
    async(
        out,
        () -> engine.commit(validation.txId(req.getTxId()), req.getWaitForCompletion()),
        r ->
            CommitResponse.newBuilder()
                .setTxId(r.txId())
                .setOutcome(r.outcome())
                .setReason(r.reason())
                .build());
  }

  @Override
  public void rollback(RollbackRequest req, StreamObserver<RollbackResponse> out) {
    unary(
        out,
        () -> {
          TxResult r =
              engine.rollback(
                  validation.txId(req.getTxId()),
                  validation.text("reason", req.getReason(), false, Limits.REASON));
          return RollbackResponse.newBuilder().setTxId(r.txId()).setOutcome(r.outcome()).build();
        });
  }

  @Override
  public void execute(ExecuteRequest req, StreamObserver<ExecuteResponse> out) {
    if (!req.getIdempotencyKey().isEmpty()) {
      // A key is looked up in the log: not on the transport thread.
      try {
        blocking.execute(() -> doExecute(req, out));
      } catch (java.util.concurrent.RejectedExecutionException stopping) {
        Errors.fail(
            out, CoordinatorException.unavailable("the coordinator is shutting down", stopping));
      }
      return;
    }
    doExecute(req, out);
  }

  private void doExecute(ExecuteRequest req, StreamObserver<ExecuteResponse> out) {
    async(
        out,
        () -> {
          if (req.getBranchesCount() == 0) {
            throw invalid("branches: at least one is required");
          }
          if (req.getBranchesCount() > maxBranches) {
            throw invalid(
                "branches: " + req.getBranchesCount() + " is over the limit of " + maxBranches);
          }
          List<BranchSpec> branches = new ArrayList<>(req.getBranchesCount());
          Set<String> seen = new HashSet<>();
          for (int i = 0; i < req.getBranchesCount(); i++) {
            BranchRequest b = req.getBranches(i);
            String name =
                validation.participant("branches[" + i + "].participant", b.getParticipant());
            if (!seen.add(name)) {
              throw invalid("branches[" + i + "]: participant " + name + " appears twice");
            }
            branches.add(
                new BranchSpec(
                    name, validation.payload("branches[" + i + "].payload", b.getPayload())));
          }
          return engine.execute(
              branches,
              validation.timeout(req.hasTimeout(), req.getTimeout()),
              validation.idempotencyKey(req.getIdempotencyKey()),
              validation.labels(req.getLabelsMap()),
              req.getWaitForCompletion());
        },
        r ->
            ExecuteResponse.newBuilder()
                .setTxId(r.txId())
                .setOutcome(r.outcome())
                .setReason(r.reason())
                .build());
  }

  @Override
  public void getTransaction(GetTransactionRequest req, StreamObserver<TransactionView> out) {
    unary(
        out,
        () -> {
          if (!req.getIdempotencyKey().isEmpty()) {
            if (!req.getTxId().isEmpty()) {
              throw CoordinatorException.invalid("give tx_id or idempotency_key, not both");
            }
            return queries.forClientByKey(validation.idempotencyKey(req.getIdempotencyKey()));
          }
          return queries.forClient(validation.txId(req.getTxId()));
        });
  }

  @Override
  public void getOutcome(GetOutcomeRequest req, StreamObserver<GetOutcomeResponse> out) {
    async(
        out,
        () -> {
          String txId = validation.txId(req.getTxId());
          String participant =
              req.getParticipant().isEmpty()
                  ? null
                  : validation.participant("participant", req.getParticipant());
          Caller caller = Caller.current().orElse(null);
          if (caller != null && !caller.has(Role.OPERATOR)) {
            String method = CoordinatorGrpc.getGetOutcomeMethod().getFullMethodName();
            if (participant == null) {
              throw access.refuse(
                  caller,
                  method,
                  caller.name() + " must name itself as the" + " participant asking");
            }
            requireOwnName(caller, method, participant, "ask outcomes as");
            if (!queries.mayHaveBranch(txId, participant)) {
              throw access.refuse(
                  caller, method, participant + " has no branch in transaction " + txId);
            }
          }
          if (participant != null) {
            directory.seen(participant);
          }
          return engine.outcome(txId);
        },
        // the id was validated above: it is the one asked for
        outcome ->
            GetOutcomeResponse.newBuilder().setTxId(req.getTxId()).setOutcome(outcome).build());
  }

  @Override
  public void registerParticipant(
      RegisterParticipantRequest req, StreamObserver<RegisterParticipantResponse> out) {
    async(
        out,
        () -> {
          String name = validation.participant("name", req.getName());
          String address = validation.address(req.getAddress());
          Caller caller = Caller.current().orElse(null);
          if (caller != null) {
            requireOwnName(
                caller,
                CoordinatorGrpc.getRegisterParticipantMethod().getFullMethodName(),
                name,
                "register as");
          }
          return directory
              .register(name, address)
              .exceptionally(
                  e -> {
                    // The store's message (SQL, paths) goes to the coordinator's log, not the wire.
                    log.warn(
                        "event=register_failed participant={} error=\"{}\"", name, e.getMessage());
                    throw CoordinatorException.unavailable(
                        "the registry could not be written; see the" + " coordinator's log", e);
                  });
        },
        updated -> RegisterParticipantResponse.newBuilder().setUpdated(updated).build());
  }

  @Override
  public void listParticipants(
      ListParticipantsRequest req, StreamObserver<ListParticipantsResponse> out) {
    unary(
        out,
        () -> {
          Map<String, Integer> inDoubt;
          try {
            inDoubt = reader.inDoubtBranchesByParticipant();
          } catch (LogStoreException e) {
            throw CoordinatorException.logUnavailable(e);
          }
          ListParticipantsResponse.Builder r = ListParticipantsResponse.newBuilder();
          for (ParticipantDirectory.Entry e : directory.entries()) {
            ParticipantInfo.Builder p =
                ParticipantInfo.newBuilder()
                    .setName(e.name())
                    .setAddress(e.address())
                    .setRegisteredAt(Views.ts(e.registeredAt()))
                    .setInDoubtBranches(inDoubt.getOrDefault(e.name(), 0));
            if (e.lastSeen() != null) {
              p.setLastSeen(Views.ts(e.lastSeen()));
            }
            if (e.lastError() != null) {
              p.setLastError(e.lastError());
            }
            r.addParticipants(p);
          }
          return r.build();
        });
  }

  /** With access control, a participant acts only under a name its certificate carries. */
  private void requireOwnName(Caller caller, String method, String participant, String action) {
    if (!caller.carries(participant)) {
      throw access.refuse(
          caller,
          method,
          caller.name()
              + " may not "
              + action
              + " "
              + participant
              + ": its certificate names "
              + String.join(", ", caller.names()));
    }
  }

  static <T> void unary(StreamObserver<T> out, Supplier<T> call) {
    T result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      Errors.fail(out, e);
      return;
    }
    out.onNext(result);
    out.onCompleted();
  }

  static <R, T> void async(
      StreamObserver<T> out, Supplier<CompletableFuture<R>> call, Function<R, T> toResponse) {
    CompletableFuture<R> f;
    try {
      f = call.get();
    } catch (RuntimeException e) {
      Errors.fail(out, e);
      return;
    }
    Completions.whenDone(
        f,
        "rpc answer",
        (r, e) -> {
          try {
            if (e != null) {
              Errors.fail(out, e);
            } else {
              out.onNext(toResponse.apply(r));
              out.onCompleted();
            }
          } catch (RuntimeException cancelled) {
            // the client went away (deadline, cancel); it asks again with GetTransaction
          }
        });
  }
}
