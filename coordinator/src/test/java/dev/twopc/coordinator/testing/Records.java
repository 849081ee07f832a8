package dev.twopc.coordinator.testing;

import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Log records as the engine writes them, for the tests and tools that drive a log directly. */
public final class Records {
  private Records() {}

  /**
   * The COMMIT of an unkeyed Execute whose {@code participants} all voted YES: begin and decision
   * in one forced record, each branch COMMITTING, as the engine logs it.
   */
  public static Decided executeCommitted(
      String txId, long at, String decidedBy, String... participants) {
    List<BranchRow> rows = new ArrayList<>();
    for (int i = 0; i < participants.length; i++) {
      rows.add(
          new BranchRow(
              participants[i],
              i,
              "d" + i,
              Vote.YES,
              null,
              BranchState.COMMITTING,
              0,
              null,
              null,
              null,
              at));
    }
    return new Decided(
        txId,
        Decision.COMMIT,
        TxState.COMMITTING,
        at,
        decidedBy,
        null,
        List.copyOf(rows),
        new Begun(txId, at, at + 30_000, null, Map.of(), List.copyOf(rows), TxState.ACTIVE),
        false);
  }
}
