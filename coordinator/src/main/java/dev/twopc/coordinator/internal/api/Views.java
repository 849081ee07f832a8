package dev.twopc.coordinator.internal.api;

import com.google.protobuf.Timestamp;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.OperatorActed;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.proto.v1.Branch;
import dev.twopc.proto.v1.BranchState;
import dev.twopc.proto.v1.OperatorAction;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.TimelineEvent;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.proto.v1.Vote;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/** Turns logged or live transactions into the wire's {@link TransactionView}. */
public final class Views {
  private final Duration parkAfter;
  private final Function<String, String> addressOf;

  public Views(Duration parkAfter, Function<String, String> addressOf) {
    this.parkAfter = parkAfter;
    this.addressOf = addressOf;
  }

  TransactionView view(StoredTransaction t, Map<String, Long> nextAttempts, long now) {
    TransactionView.Builder v =
        TransactionView.newBuilder()
            .setTxId(t.txId())
            .setState(state(t.state()))
            .setOutcome(outcome(t))
            .setCreatedAt(ts(t.createdAt()))
            .setDeadline(ts(t.deadlineAt()))
            .setAge(
                com.google.protobuf.Duration.newBuilder()
                    .setSeconds(Math.max(0, now - t.createdAt()) / 1000)
                    .setNanos((int) (Math.max(0, now - t.createdAt()) % 1000) * 1_000_000))
            .putAllLabels(t.labels());
    if (t.decidedAt() != null) {
      v.setDecidedAt(ts(t.decidedAt()));
    }
    if (t.finishedAt() != null) {
      v.setFinishedAt(ts(t.finishedAt()));
    }
    if (t.idempotencyKey() != null) {
      v.setIdempotencyKey(t.idempotencyKey());
    }
    if (t.abortReason() != null) {
      v.setAbortReason(t.abortReason());
    }
    boolean parked = false;
    for (BranchRow b : t.branches()) {
      boolean waiting = b.state().awaitingPhaseTwo();
      boolean branchParked =
          waiting && t.decidedAt() != null && now - t.decidedAt() > parkAfter.toMillis();
      parked |= branchParked;
      Branch.Builder bb =
          Branch.newBuilder()
              .setParticipant(b.participant())
              .setAddress(addressOf.apply(b.participant()))
              .setVote(vote(b.vote()))
              .setState(branchState(b.state()))
              .setAttempts(b.attempts())
              .setParked(branchParked);
      if (b.voteReason() != null) {
        bb.setVoteReason(b.voteReason());
      }
      if (b.lastError() != null) {
        bb.setLastError(b.lastError());
      }
      if (b.lastAttemptAt() != null) {
        bb.setLastAttemptAt(ts(b.lastAttemptAt()));
      }
      if (b.acknowledgedAt() != null) {
        bb.setAcknowledgedAt(ts(b.acknowledgedAt()));
      }
      if (b.payloadDigest() != null) {
        bb.setPayloadDigest(b.payloadDigest());
      }
      Long next = nextAttempts.get(b.participant());
      if (next != null && waiting) {
        bb.setNextAttemptAt(ts(next));
      }
      v.addBranches(bb);
    }
    boolean undecidedLate = t.decision() == null && t.finishedAt() == null && now > t.deadlineAt();
    v.setInDoubt(t.state().inPhaseTwo() || undecidedLate);
    v.setParked(parked);
    for (OperatorActed a : t.actions()) {
      OperatorAction.Builder ab =
          OperatorAction.newBuilder()
              .setAt(ts(a.at()))
              .setAction(a.action())
              .setOperator(a.operator())
              .setReason(a.reason())
              .setAccepted(a.accepted());
      if (a.refusal() != null) {
        ab.setRefusal(a.refusal());
      }
      v.addOperatorActions(ab);
    }
    v.addAllTimeline(timeline(t));
    return v.build();
  }

  private static List<TimelineEvent> timeline(StoredTransaction t) {
    List<TimelineEvent> events = new ArrayList<>();
    events.add(event(t.createdAt(), "BEGUN", "", ""));
    for (BranchRow b : t.branches()) {
      if (b.votedAt() != null && b.vote() != null) {
        events.add(
            event(
                b.votedAt(),
                "PREPARED",
                b.participant(),
                "voted " + b.vote() + (b.voteReason() == null ? "" : ": " + b.voteReason())));
      }
    }
    if (t.decidedAt() != null) {
      events.add(
          event(
              t.decidedAt(),
              "DECIDED",
              "",
              t.decision()
                  + " by "
                  + t.decidedBy()
                  + (t.abortReason() == null ? "" : ": " + t.abortReason())));
    }
    for (BranchRow b : t.branches()) {
      if (b.acknowledgedAt() != null) {
        events.add(event(b.acknowledgedAt(), "ACKNOWLEDGED", b.participant(), b.state().name()));
      }
    }
    for (OperatorActed a : t.actions()) {
      events.add(
          event(
              a.at(),
              "OPERATOR",
              "",
              a.action()
                  + " by "
                  + a.operator()
                  + (a.accepted() ? "" : " (refused: " + a.refusal() + ")")
                  + ": "
                  + a.reason()));
    }
    if (t.finishedAt() != null) {
      events.add(event(t.finishedAt(), "FINISHED", "", t.state().name()));
    }
    events.sort(
        Comparator.comparing(e -> e.getAt().getSeconds() * 1_000_000_000L + e.getAt().getNanos()));
    return events;
  }

  private static TimelineEvent event(long at, String kind, String participant, String detail) {
    return TimelineEvent.newBuilder()
        .setAt(ts(at))
        .setKind(kind)
        .setParticipant(participant)
        .setDetail(detail)
        .build();
  }

  static Outcome outcome(StoredTransaction t) {
    if (t.decision() == Decision.COMMIT) {
      return Outcome.OUTCOME_COMMITTED;
    }
    if (t.decision() == Decision.ABORT || t.finishedAt() != null) {
      return Outcome.OUTCOME_ABORTED;
    }
    return Outcome.OUTCOME_IN_PROGRESS;
  }

  static Timestamp ts(long millis) {
    return Timestamp.newBuilder()
        .setSeconds(Math.floorDiv(millis, 1000))
        .setNanos(Math.floorMod(millis, 1000) * 1_000_000)
        .build();
  }

  /** The wire has no DECIDING or ONE_PHASE: both are PREPARING to clients and operators. */
  static TransactionState state(TxState s) {
    return switch (s) {
      case ACTIVE -> TransactionState.TRANSACTION_STATE_ACTIVE;
      case PREPARING, DECIDING, ONE_PHASE -> TransactionState.TRANSACTION_STATE_PREPARING;
      case COMMITTING -> TransactionState.TRANSACTION_STATE_COMMITTING;
      case COMMITTED -> TransactionState.TRANSACTION_STATE_COMMITTED;
      case ABORTING -> TransactionState.TRANSACTION_STATE_ABORTING;
      case ABORTED -> TransactionState.TRANSACTION_STATE_ABORTED;
    };
  }

  /** The log's states shown as {@code s}; empty for a value that is no state. */
  static Set<TxState> storedStates(TransactionState s) {
    return switch (s) {
      case TRANSACTION_STATE_ACTIVE -> EnumSet.of(TxState.ACTIVE);
      case TRANSACTION_STATE_PREPARING -> EnumSet.of(TxState.PREPARING, TxState.ONE_PHASE);
      case TRANSACTION_STATE_COMMITTING -> EnumSet.of(TxState.COMMITTING);
      case TRANSACTION_STATE_COMMITTED -> EnumSet.of(TxState.COMMITTED);
      case TRANSACTION_STATE_ABORTING -> EnumSet.of(TxState.ABORTING);
      case TRANSACTION_STATE_ABORTED -> EnumSet.of(TxState.ABORTED);
      default -> EnumSet.noneOf(TxState.class);
    };
  }

  private static BranchState branchState(dev.twopc.coordinator.internal.model.BranchState s) {
    return switch (s) {
      case ENLISTED -> BranchState.BRANCH_STATE_ENLISTED;
      case PREPARED -> BranchState.BRANCH_STATE_PREPARED;
      case READ_ONLY -> BranchState.BRANCH_STATE_READ_ONLY;
      case REFUSED -> BranchState.BRANCH_STATE_REFUSED;
      case COMMITTING -> BranchState.BRANCH_STATE_COMMITTING;
      case ROLLING_BACK -> BranchState.BRANCH_STATE_ROLLING_BACK;
      case COMMITTED -> BranchState.BRANCH_STATE_COMMITTED;
      case ROLLED_BACK -> BranchState.BRANCH_STATE_ROLLED_BACK;
    };
  }

  private static Vote vote(dev.twopc.coordinator.internal.model.Vote v) {
    if (v == null) {
      return Vote.VOTE_UNSPECIFIED;
    }
    return switch (v) {
      case YES -> Vote.VOTE_YES;
      case NO -> Vote.VOTE_NO;
      case READ_ONLY -> Vote.VOTE_READ_ONLY;
    };
  }
}
