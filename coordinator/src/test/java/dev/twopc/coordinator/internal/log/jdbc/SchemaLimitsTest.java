package dev.twopc.coordinator.internal.log.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.internal.Limits;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every value the log stores is bounded by {@link Limits}, and each limit fits its column. */
class SchemaLimitsTest {
  private static final Pattern TABLE = Pattern.compile("CREATE TABLE IF NOT EXISTS (\\w+) \\(");
  private static final Pattern COLUMN = Pattern.compile("(\\w+) VARCHAR\\((\\d+)\\)");

  /** table.column to its VARCHAR size, for every dialect (they must agree). */
  private static Map<String, Integer> columns(Dialect dialect) {
    Map<String, Integer> sizes = new HashMap<>();
    for (String sql : Schema.statements(dialect)) {
      Matcher t = TABLE.matcher(sql);
      if (!t.find()) {
        continue;
      }
      Matcher c = COLUMN.matcher(sql);
      while (c.find()) {
        sizes.put(t.group(1) + "." + c.group(1), Integer.parseInt(c.group(2)));
      }
    }
    return sizes;
  }

  private static void fits(Map<String, Integer> cols, String column, int limit) {
    Integer size = cols.get(column);
    assertNotNull(size, column + " is not in the schema");
    assertTrue(limit <= size, column + " is VARCHAR(" + size + "), the limit is " + limit);
  }

  @Test
  void everyLimitFitsItsColumn() {
    for (Dialect d : Dialect.values()) {
      Map<String, Integer> c = columns(d);
      fits(c, "twopc_tx.tx_id", Limits.TX_ID);
      fits(c, "twopc_branch.tx_id", Limits.TX_ID);
      fits(c, "twopc_action.tx_id", Limits.TX_ID);
      fits(c, "twopc_tx.decided_by", Limits.DECIDED_BY);
      fits(c, "twopc_tx.abort_reason", Limits.REASON);
      fits(c, "twopc_tx.idempotency_key", Limits.IDEMPOTENCY_KEY);
      // labels is a long-text column (Dialect.longText): no VARCHAR bound to fit
      fits(c, "twopc_branch.participant", Limits.PARTICIPANT);
      fits(c, "twopc_branch.vote_reason", Limits.REASON);
      fits(c, "twopc_branch.last_error", Limits.LAST_ERROR);
      fits(c, "twopc_action.operator", Limits.OPERATOR);
      fits(c, "twopc_action.reason", Limits.REASON);
      fits(c, "twopc_action.refusal", Limits.REFUSAL);
      fits(c, "twopc_participant.name", Limits.PARTICIPANT);
      fits(c, "twopc_participant.address", Limits.ADDRESS);
    }
  }

  @Test
  void configuredIdLengthCannotOutgrowTheColumn() {
    assertEquals(
        Limits.TX_ID, CoordinatorConfig.builder().maxIdLength(Limits.TX_ID).build().maxIdLength());
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () -> CoordinatorConfig.builder().maxIdLength(Limits.TX_ID + 1).build());
  }

  @Test
  void labelsAtTheirLimitsEncodeWithinTheColumn() {
    // The API refuses labels whose encoded form is longer; the column must hold the longest.
    Map<String, String> labels = new HashMap<>();
    for (int i = 0; labels.size() < Limits.LABELS; i++) {
      String key = String.format("%02d", i) + "k".repeat(Limits.LABEL_KEY - 2);
      labels.put(key, "v".repeat(Limits.LABEL_VALUE));
    }
    String encoded = Labels.encode(labels);
    assertTrue(
        encoded.length() > Limits.LABELS_ENCODED,
        "plain ASCII labels at their limits already need the encoded-size check");
  }
}
