package dev.twopc.coordinator.internal.api;

import static dev.twopc.coordinator.internal.CoordinatorException.invalid;
import static dev.twopc.coordinator.internal.CoordinatorException.precondition;

import dev.twopc.coordinator.internal.CoordinatorException;
import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogReader.Cursor;
import dev.twopc.coordinator.internal.log.LogReader.Filter;
import dev.twopc.coordinator.internal.log.LogReader.Page;
import dev.twopc.coordinator.internal.log.LogRecord.OperatorActed;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.NodeLeases;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.protocol.TransactionEngine;
import dev.twopc.coordinator.internal.recovery.Recovery;
import dev.twopc.coordinator.internal.telemetry.CoordinatorMetrics;
import dev.twopc.proto.v1.AdminGetTransactionRequest;
import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.ListNodesRequest;
import dev.twopc.proto.v1.ListNodesResponse;
import dev.twopc.proto.v1.ListTransactionsRequest;
import dev.twopc.proto.v1.ListTransactionsResponse;
import dev.twopc.proto.v1.NodeInfo;
import dev.twopc.proto.v1.Resolution;
import dev.twopc.proto.v1.ResolveTransactionRequest;
import dev.twopc.proto.v1.RetryTransactionRequest;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.security.Caller;
import dev.twopc.security.Role;
import dev.twopc.security.RoleMap;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Admin gRPC service for operators. Resolution never breaks atomicity: ABORT is refused once
 * COMMIT is decided, COMMIT is refused without every branch's YES or after ABORT. Every resolution,
 * accepted or refused, is recorded durably with who and why.
 */
public final class AdminService extends AdminGrpc.AdminImplBase {
  private static final Logger log = LoggerFactory.getLogger(AdminService.class);

  /** The most a google.protobuf.Duration may hold: 10,000 years. */
  private static final long MAX_DURATION_SECONDS = 315_576_000_000L;

  private final TransactionEngine engine;
  private final TransactionQueries queries;
  private final LogReader reader;
  private final DecisionLog decisionLog;
  private final Validation validation;
  private final Clock clock;

  private final RoleMap roles;
  private final CoordinatorMetrics metrics;
  private final String nodeId;

  public AdminService(
      TransactionEngine engine,
      TransactionQueries queries,
      LogReader reader,
      DecisionLog decisionLog,
      dev.twopc.coordinator.CoordinatorConfig config) {
    this(engine, queries, reader, decisionLog, config, CoordinatorMetrics.disabled(), null);
  }

  /**
   * With each operator action, done or refused, counted in {@code metrics}; {@code nodeId} is this
   * coordinator's on a shared log (null: the log's only writer).
   */
  public AdminService(
      TransactionEngine engine,
      TransactionQueries queries,
      LogReader reader,
      DecisionLog decisionLog,
      dev.twopc.coordinator.CoordinatorConfig config,
      CoordinatorMetrics metrics,
      String nodeId) {
    this.nodeId = nodeId;
    this.metrics = metrics;
    this.engine = engine;
    this.queries = queries;
    this.reader = reader;
    this.decisionLog = decisionLog;
    this.validation = new Validation(config);
    this.clock = config.clock();
    this.roles = config.roles();
  }

  @Override
  @SuppressWarnings("ProtoDurationGetSecondsGetNano") // it checks the nanos field on its own
  public void listTransactions(
      ListTransactionsRequest req, StreamObserver<ListTransactionsResponse> out) {
    CoordinatorService.unary(
        out,
        () -> {
          int size = req.getPageSize() == 0 ? 100 : req.getPageSize();
          if (size < 0 || size > 1000) {
            throw invalid("page_size must be 1-1000, was " + req.getPageSize());
          }
          Set<TxState> states = EnumSet.noneOf(TxState.class);
          for (TransactionState s : req.getStatesList()) {
            Set<TxState> stored = Views.storedStates(s);
            if (stored.isEmpty()) {
              throw invalid("states: " + s + " is not a transaction state");
            }
            states.addAll(stored);
          }
          long now = clock.millis();
          Long createdBefore = null;
          if (req.hasOlderThan()) {
            if (req.getOlderThan().getSeconds() < 0) {
              throw invalid("older_than must not be negative");
            }
            if (req.getOlderThan().getNanos() < 0 || req.getOlderThan().getNanos() > 999_999_999) {
              throw invalid(
                  "older_than.nanos must be 0..999999999, was " + req.getOlderThan().getNanos());
            }
            if (req.getOlderThan().getSeconds() > MAX_DURATION_SECONDS) {
              // google.protobuf.Duration's range; beyond it the millisecond arithmetic overflows
              throw invalid(
                  "older_than is over the maximum of " + MAX_DURATION_SECONDS + " seconds");
            }
            createdBefore =
                now
                    - (req.getOlderThan().getSeconds() * 1000
                        + req.getOlderThan().getNanos() / 1_000_000);
          }
          Page page;
          try {
            page =
                reader.list(
                    new Filter(
                        states,
                        req.getInDoubt(),
                        createdBefore,
                        now,
                        decodeToken(req.getPageToken()),
                        size));
          } catch (LogStoreException e) {
            throw CoordinatorException.logUnavailable(e);
          }
          ListTransactionsResponse.Builder r = ListTransactionsResponse.newBuilder();
          for (StoredTransaction t : page.transactions()) {
            r.addTransactions(queries.overlay(t, queries.live(t.txId()).orElse(null)));
          }
          if (page.next() != null) {
            r.setNextPageToken(encodeToken(page.next()));
          }
          return r.build();
        });
  }

  @Override
  public void listNodes(ListNodesRequest req, StreamObserver<ListNodesResponse> out) {
    CoordinatorService.unary(
        out,
        () -> {
          ListNodesResponse.Builder r = ListNodesResponse.newBuilder();
          try {
            for (NodeLeases.Node n : reader.nodes()) {
              long left = n.leaseLeftMillis();
              r.addNodes(
                  NodeInfo.newBuilder()
                      .setNodeId(n.nodeId())
                      .setEpoch(n.epoch())
                      .setAddress(n.address() == null ? "" : n.address())
                      .setLeaseLeft(
                          com.google.protobuf.Duration.newBuilder()
                              .setSeconds(left / 1000)
                              .setNanos((int) (left % 1000) * 1_000_000))
                      .setFenced(n.fenced())
                      .setSelf(n.nodeId().equals(nodeId)));
            }
          } catch (LogStoreException e) {
            throw CoordinatorException.logUnavailable(e);
          }
          return r.build();
        });
  }

  @Override
  public void getTransaction(AdminGetTransactionRequest req, StreamObserver<TransactionView> out) {
    CoordinatorService.unary(out, () -> queries.get(validation.txId(req.getTxId())));
  }

  @Override
  public void retryTransaction(RetryTransactionRequest req, StreamObserver<TransactionView> out) {
    CoordinatorService.unary(
        out,
        () -> {
          String txId = validation.txId(req.getTxId());
          String operator =
              authenticatedOperator()
                  .orElseGet(
                      () ->
                          req.getOperator().isEmpty()
                              ? "unknown"
                              : validation.text(
                                  "operator", req.getOperator(), true, Limits.OPERATOR));
          String what;
          try {
            what = engine.live(txId).isEmpty() ? resumeFromLog(txId) : engine.retryNow(txId);
          } catch (RuntimeException refused) {
            metrics.operatorAction("retry", true);
            throw refused;
          }
          metrics.operatorAction("retry", false);
          // Not waited for: a retry changes no decision; a crash loses only its audit line.
          decisionLog.queue(
              new OperatorActed(
                  txId,
                  clock.millis(),
                  "RETRY",
                  operator,
                  Limits.text(what, Limits.REASON),
                  true,
                  null));
          log.info("event=operator_retry tx={} operator={}", txId, operator);
          return queries.get(txId);
        });
  }

  /**
   * {@code tx retry} of a transaction the log holds as unfinished that this process is not running
   * (it lost track of it): hand it to the engine as recovery would, which drives it on. A finished
   * one is refused (FAILED_PRECONDITION, its state), an unknown one NOT_FOUND.
   */
  private String resumeFromLog(String txId) {
    StoredTransaction stored;
    try {
      stored =
          reader
              .find(txId)
              .orElseThrow(() -> CoordinatorException.notFound("unknown transaction " + txId));
    } catch (LogStoreException e) {
      throw CoordinatorException.logUnavailable(e);
    }
    if (stored.finished()) {
      throw CoordinatorException.precondition(
          "transaction " + txId + " is " + stored.state() + "; nothing to retry");
    }
    if (engine.live(txId).isPresent()) {
      return engine.retryNow(txId);
    }
    try {
      Recovery.resumeOne(
          stored,
          decisionLog,
          engine,
          clock,
          "the coordinator had lost track of it before a decision (operator retry)");
      return "resumed from the log: this coordinator was not running it";
    } catch (java.io.IOException e) {
      throw CoordinatorException.logUnavailable(e);
    }
  }

  @Override
  public void resolveTransaction(
      ResolveTransactionRequest req, StreamObserver<TransactionView> out) {
    CoordinatorService.unary(
        out,
        () -> {
          String txId = validation.txId(req.getTxId());
          if (req.getResolution() != Resolution.RESOLUTION_COMMIT
              && req.getResolution() != Resolution.RESOLUTION_ABORT) {
            throw invalid("resolution must be COMMIT or ABORT");
          }
          String reason = validation.text("reason", req.getReason(), true, Limits.REASON);
          String operator =
              authenticatedOperator()
                  .orElseGet(
                      () -> validation.text("operator", req.getOperator(), true, Limits.OPERATOR));
          boolean commit = req.getResolution() == Resolution.RESOLUTION_COMMIT;
          TransactionView current = queries.get(txId); // NOT_FOUND for unknown ids
          String refusal =
              commit ? resolveCommit(txId, current) : resolveAbort(txId, current, reason);
          record(txId, commit ? "COMMIT" : "ABORT", operator, reason, refusal);
          if (refusal != null) {
            throw precondition(refusal);
          }
          return queries.get(txId);
        });
  }

  /**
   * With TLS, who acted is the caller's certificate (its name that has the operator role), not the
   * request's free-text field; without TLS there is no identity and the field is recorded.
   */
  private Optional<String> authenticatedOperator() {
    return Caller.current()
        .map(
            c -> {
              String name = roles == null ? null : roles.nameWith(c.names(), Role.OPERATOR);
              return Limits.text(name != null ? name : c.name(), Limits.OPERATOR);
            });
  }

  /** Null if done, else why it was refused. */
  private String resolveAbort(String txId, TransactionView current, String reason) {
    switch (current.getOutcome()) {
      case OUTCOME_COMMITTED:
        return "transaction "
            + txId
            + " is decided COMMIT; aborting it would break atomicity"
            + " (some branches may have committed). Retry phase 2 instead: twopc tx retry";
      case OUTCOME_ABORTED:
        retryIfLive(txId);
        return null;
      default:
        if (engine.operatorAbort(txId, "operator: " + reason)) {
          return null;
        }
        TransactionView now = queries.get(txId);
        if (now.getOutcome() == dev.twopc.proto.v1.Outcome.OUTCOME_ABORTED) {
          return null;
        }
        return "transaction "
            + txId
            + " is being decided by this coordinator ("
            + now.getState()
            + "); try again in a moment";
    }
  }

  private String resolveCommit(String txId, TransactionView current) {
    switch (current.getOutcome()) {
      case OUTCOME_ABORTED:
        return "transaction " + txId + " is decided ABORT; committing it would break atomicity";
      case OUTCOME_COMMITTED:
        retryIfLive(txId);
        return null;
      default:
        try {
          var result = engine.operatorCommit(txId).get();
          return result.outcome() == dev.twopc.proto.v1.Outcome.OUTCOME_COMMITTED
              ? null
              : "transaction " + txId + " was decided " + result.outcome() + " meanwhile";
        } catch (CoordinatorException e) {
          if (e.kind() == CoordinatorException.Kind.FAILED_PRECONDITION) {
            return e.getMessage();
          }
          throw e;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw CoordinatorException.unavailable("interrupted", e);
        } catch (ExecutionException e) {
          log.warn(
              "event=operator_commit_not_logged tx={} error=\"{}\"",
              txId,
              e.getCause().getMessage());
          throw CoordinatorException.unavailable(
              "could not log the decision; see the" + " coordinator's log", e.getCause());
        }
    }
  }

  private void retryIfLive(String txId) {
    if (engine.live(txId).isPresent()) {
      try {
        engine.retryNow(txId);
      } catch (CoordinatorException ignored) {
        // finished meanwhile
      }
    }
  }

  private void record(String txId, String action, String operator, String reason, String refusal) {
    log.info(
        "event=operator_resolution tx={} action={} operator={} accepted={} reason=\"{}\"",
        txId,
        action,
        operator,
        refusal == null,
        reason);
    metrics.operatorAction(action.toLowerCase(java.util.Locale.ROOT), refusal != null);
    try {
      decisionLog
          .append(
              new OperatorActed(
                  txId,
                  clock.millis(),
                  action,
                  operator,
                  reason,
                  refusal == null,
                  Limits.text(refusal, Limits.REFUSAL)))
          .get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CoordinatorException.unavailable("interrupted", e);
    } catch (ExecutionException e) {
      log.warn(
          "event=operator_action_not_recorded tx={} error=\"{}\"", txId, e.getCause().getMessage());
      throw CoordinatorException.unavailable(
          "could not record the operator action; see the" + " coordinator's log", e.getCause());
    }
  }

  private static String encodeToken(Cursor c) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((c.createdAt() + ":" + c.txId()).getBytes(StandardCharsets.UTF_8));
  }

  private static Cursor decodeToken(String token) {
    if (token.isEmpty()) {
      return null;
    }
    try {
      String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int colon = s.indexOf(':');
      return new Cursor(Long.parseLong(s.substring(0, colon)), s.substring(colon + 1));
    } catch (RuntimeException e) {
      throw invalid("page_token is not one this coordinator issued");
    }
  }
}
