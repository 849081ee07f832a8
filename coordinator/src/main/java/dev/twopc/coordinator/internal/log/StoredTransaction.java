package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.OperatorActed;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import java.util.List;
import java.util.Map;

/** A transaction as read back from the decision log. Times are epoch milliseconds. */
public record StoredTransaction(
    String txId,
    TxState state,
    long createdAt,
    long deadlineAt,
    Decision decision,
    Long decidedAt,
    String decidedBy,
    String abortReason,
    Long finishedAt,
    String idempotencyKey,
    Map<String, String> labels,
    List<BranchRow> branches,
    List<OperatorActed> actions) {

  public boolean finished() {
    return finishedAt != null;
  }
}
