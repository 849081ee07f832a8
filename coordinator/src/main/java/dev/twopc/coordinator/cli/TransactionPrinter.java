package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.Branch;
import dev.twopc.proto.v1.OperatorAction;
import dev.twopc.proto.v1.TimelineEvent;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.telemetry.Durations;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The human form of {@code tx show}: header, one block per branch, timeline, operator actions. */
final class TransactionPrinter {
  private final PrintWriter out;
  private final Instant now;

  TransactionPrinter(PrintWriter out, Instant now) {
    this.out = out;
    this.now = now;
  }

  void print(TransactionView tx) {
    List<String> flags = new ArrayList<>();
    if (tx.getInDoubt()) {
      flags.add("IN DOUBT");
    }
    if (tx.getParked()) {
      flags.add("PARKED");
    }
    out.println(
        "Transaction "
            + tx.getTxId()
            + (flags.isEmpty() ? "" : "  [" + String.join(", ", flags) + "]"));
    field("state", Views.name(tx.getState()) + " (outcome " + Views.name(tx.getOutcome()) + ")");
    field("age", Durations.age(Views.age(tx, now)));
    field("created", Views.time(tx.getCreatedAt()));
    field("deadline", Views.timeAndAge(tx.getDeadline(), now));
    field("decided", Views.timeAndAge(tx.getDecidedAt(), now));
    field("finished", Views.timeAndAge(tx.getFinishedAt(), now));
    if (!tx.getAbortReason().isEmpty()) {
      field("abort reason", tx.getAbortReason());
    }
    if (!tx.getIdempotencyKey().isEmpty()) {
      field("idempotency key", tx.getIdempotencyKey());
    }
    if (tx.getLabelsCount() > 0) {
      List<String> labels = new ArrayList<>();
      for (Map.Entry<String, String> e : new TreeMap<>(tx.getLabelsMap()).entrySet()) {
        labels.add(e.getKey() + "=" + e.getValue());
      }
      field("labels", String.join(", ", labels));
    }

    out.println();
    out.println("Branches (" + tx.getBranchesCount() + ")");
    if (tx.getBranchesCount() == 0) {
      out.println("  (none)");
    }
    for (Branch b : tx.getBranchesList()) {
      printBranch(b);
    }

    out.println();
    out.println("Timeline");
    if (tx.getTimelineCount() == 0) {
      out.println("  (none)");
    } else {
      TextTable t =
          new TextTable(
              new String[] {"AT", "EVENT", "PARTICIPANT", "DETAIL"}, new int[] {0, 0, 24, 0});
      for (TimelineEvent e : tx.getTimelineList()) {
        t.row(Views.time(e.getAt()), e.getKind(), Views.orDash(e.getParticipant()), e.getDetail());
      }
      t.print(out, TextTable.DEFAULT_WIDTH, "  ");
    }

    out.println();
    out.println("Operator actions");
    if (tx.getOperatorActionsCount() == 0) {
      out.println("  (none)");
    }
    for (OperatorAction a : tx.getOperatorActionsList()) {
      String head =
          "  "
              + Views.time(a.getAt())
              + "  "
              + a.getAction()
              + " by "
              + Views.orDash(a.getOperator())
              + ": "
              + (a.getAccepted() ? "accepted" : "REFUSED");
      out.println(head);
      if (!a.getReason().isEmpty()) {
        out.println("      reason: " + a.getReason());
      }
      if (!a.getRefusal().isEmpty()) {
        out.println("      refusal: " + a.getRefusal());
      }
    }
  }

  private void printBranch(Branch b) {
    out.println("  " + b.getParticipant() + "  " + Views.orDash(b.getAddress()));
    String vote =
        Views.name(b.getVote())
            + (b.getVoteReason().isEmpty() ? "" : " (" + b.getVoteReason() + ")");
    out.println(
        "    vote "
            + vote
            + "   state "
            + Views.name(b.getState())
            + "   attempts "
            + b.getAttempts()
            + "   parked "
            + Views.yesNo(b.getParked()));
    if (Views.isSet(b.getLastAttemptAt())) {
      out.println("    last attempt  " + Views.timeAndAge(b.getLastAttemptAt(), now));
    }
    if (Views.isSet(b.getNextAttemptAt())) {
      out.println("    next attempt  " + Views.timeAndAge(b.getNextAttemptAt(), now));
    }
    if (Views.isSet(b.getAcknowledgedAt())) {
      out.println("    acknowledged  " + Views.timeAndAge(b.getAcknowledgedAt(), now));
    }
    if (!b.getLastError().isEmpty()) {
      out.println("    last error    " + RpcErrors.oneLine(b.getLastError()));
    }
  }

  private void field(String name, String value) {
    out.println(String.format("  %-16s %s", name, value));
  }
}
