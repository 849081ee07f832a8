package dev.twopc.coordinator.internal.log.jdbc;

import dev.twopc.coordinator.internal.log.LogReader.Cursor;
import dev.twopc.coordinator.internal.log.LogReader.Filter;
import dev.twopc.coordinator.internal.log.LogReader.Page;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.OperatorActed;
import dev.twopc.coordinator.internal.log.StoredNames;
import dev.twopc.coordinator.internal.log.StoredParticipant;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/** The decision log's read queries in SQL; {@link JdbcLogStore} translates their errors. */
final class JdbcQueries {
  private static final String TX_COLUMNS =
      "tx_id, state, created_at, deadline_at, decision,"
          + " decided_at, decided_by, abort_reason, finished_at, idempotency_key, labels";

  private final DataSource dataSource;

  JdbcQueries(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  Optional<StoredTransaction> find(String txId) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      try {
        List<StoredTransaction> found =
            select(
                c, "SELECT " + TX_COLUMNS + " FROM twopc_tx WHERE tx_id = ?", List.of(txId), true);
        return found.stream().findFirst();
      } finally {
        c.rollback();
      }
    }
  }

  /** The logged decision, empty if none (presumed abort). */
  Optional<Decision> decisionOf(String txId) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT decision FROM twopc_tx WHERE tx_id = ?")) {
      ps.setString(1, txId);
      try (ResultSet rs = ps.executeQuery()) {
        Optional<Decision> d =
            rs.next()
                ? Optional.ofNullable(StoredNames.parse(Decision.class, rs.getString(1)))
                : Optional.empty();
        c.rollback();
        return d;
      }
    }
  }

  Optional<String> txIdForKey(String idempotencyKey) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT tx_id FROM twopc_tx WHERE idempotency_key = ?")) {
      ps.setString(1, idempotencyKey);
      try (ResultSet rs = ps.executeQuery()) {
        Optional<String> id = rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
        c.rollback();
        return id;
      }
    }
  }

  /** Every transaction not finished, with branches: recovery's work list. */
  List<StoredTransaction> unfinished() throws SQLException {
    return unfinished("", List.of());
  }

  /** The unfinished transactions that also match {@code and} (an SQL condition), oldest first. */
  List<StoredTransaction> unfinished(String and, List<?> args) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      try {
        return select(
            c,
            "SELECT "
                + TX_COLUMNS
                + " FROM twopc_tx WHERE finished_at IS NULL"
                + and
                + " ORDER BY created_at",
            args,
            true);
      } finally {
        c.rollback();
      }
    }
  }

  long countFinished() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT COUNT(*) FROM twopc_tx WHERE finished_at IS NOT NULL");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      long n = rs.getLong(1);
      c.rollback();
      return n;
    }
  }

  /** Transactions newest first, filtered, one page. */
  Page list(Filter f) throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT " + TX_COLUMNS + " FROM twopc_tx WHERE 1=1");
    List<Object> args = new ArrayList<>();
    if (f.states() != null && !f.states().isEmpty()) {
      sql.append(" AND state IN (").append("?,".repeat(f.states().size()));
      sql.setLength(sql.length() - 1);
      sql.append(')');
      f.states().forEach(st -> args.add(st.name()));
    }
    if (f.inDoubtOnly()) {
      sql.append(
          " AND (state IN ('COMMITTING','ABORTING')"
              + " OR (state IN ('ACTIVE','PREPARING','ONE_PHASE') AND deadline_at < ?))");
      args.add(f.now());
    }
    if (f.createdBefore() != null) {
      sql.append(" AND created_at <= ?");
      args.add(f.createdBefore());
    }
    if (f.after() != null) {
      sql.append(" AND (created_at < ? OR (created_at = ? AND tx_id < ?))");
      args.add(f.after().createdAt());
      args.add(f.after().createdAt());
      args.add(f.after().txId());
    }
    sql.append(" ORDER BY created_at DESC, tx_id DESC LIMIT ?");
    args.add(f.limit() + 1);
    try (Connection c = dataSource.getConnection()) {
      try {
        List<StoredTransaction> rows = select(c, sql.toString(), args, false);
        Cursor next = null;
        if (rows.size() > f.limit()) {
          rows = rows.subList(0, f.limit());
          StoredTransaction last = rows.get(rows.size() - 1);
          next = new Cursor(last.createdAt(), last.txId());
        }
        return new Page(withDetails(c, rows), next);
      } finally {
        c.rollback();
      }
    }
  }

  List<StoredParticipant> participants() throws SQLException {
    List<StoredParticipant> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT name, address, registered_at,"
                    + " updated_at FROM twopc_participant ORDER BY name");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(
            new StoredParticipant(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4)));
      }
      c.rollback();
    }
    return out;
  }

  /** Count of unacknowledged branches per participant in decided, unfinished transactions. */
  Map<String, Integer> inDoubtBranchesByParticipant() throws SQLException {
    Map<String, Integer> out = new HashMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT b.participant, COUNT(*)"
                    + " FROM twopc_branch b JOIN twopc_tx t ON t.tx_id = b.tx_id"
                    + " WHERE t.finished_at IS NULL AND b.state IN ('COMMITTING','ROLLING_BACK')"
                    + " GROUP BY b.participant");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getInt(2));
      }
      c.rollback();
    }
    return out;
  }

  private List<StoredTransaction> select(Connection c, String sql, List<?> args, boolean details)
      throws SQLException {
    List<StoredTransaction> rows = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.size(); i++) {
        ps.setObject(i + 1, args.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(
              new StoredTransaction(
                  rs.getString(1),
                  StoredNames.parse(TxState.class, rs.getString(2)),
                  rs.getLong(3),
                  rs.getLong(4),
                  StoredNames.parse(Decision.class, rs.getString(5)),
                  nullableLong(rs, 6),
                  rs.getString(7),
                  rs.getString(8),
                  nullableLong(rs, 9),
                  rs.getString(10),
                  Labels.decode(rs.getString(11)),
                  List.of(),
                  List.of()));
        }
      }
    }
    return details ? withDetails(c, rows) : rows;
  }

  private List<StoredTransaction> withDetails(Connection c, List<StoredTransaction> rows)
      throws SQLException {
    if (rows.isEmpty()) {
      return rows;
    }
    Map<String, List<BranchRow>> branches = new HashMap<>();
    Map<String, List<OperatorActed>> actions = new HashMap<>();
    // Chunked IN lists keep statements small whatever the page size.
    for (int from = 0; from < rows.size(); from += 500) {
      List<StoredTransaction> chunk = rows.subList(from, Math.min(rows.size(), from + 500));
      String in = "?,".repeat(chunk.size());
      in = in.substring(0, in.length() - 1);
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT tx_id, participant, idx,"
                  + " payload_digest, vote, vote_reason, state, attempts, last_error, last_attempt_at,"
                  + " acked_at, voted_at FROM twopc_branch WHERE tx_id IN ("
                  + in
                  + ") ORDER BY idx")) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i).txId());
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            branches
                .computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
                .add(
                    new BranchRow(
                        rs.getString(2),
                        rs.getInt(3),
                        rs.getString(4),
                        StoredNames.parse(Vote.class, rs.getString(5)),
                        rs.getString(6),
                        StoredNames.parse(BranchState.class, rs.getString(7)),
                        rs.getInt(8),
                        rs.getString(9),
                        nullableLong(rs, 10),
                        nullableLong(rs, 11),
                        nullableLong(rs, 12)));
          }
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT tx_id, at, action, operator,"
                  + " reason, accepted, refusal FROM twopc_action WHERE tx_id IN ("
                  + in
                  + ")"
                  + " ORDER BY at")) {
        for (int i = 0; i < chunk.size(); i++) {
          ps.setString(i + 1, chunk.get(i).txId());
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            actions
                .computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
                .add(
                    new OperatorActed(
                        rs.getString(1),
                        rs.getLong(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getBoolean(6),
                        rs.getString(7)));
          }
        }
      }
    }
    Map<String, StoredTransaction> out = new LinkedHashMap<>();
    for (StoredTransaction t : rows) {
      out.put(
          t.txId(),
          new StoredTransaction(
              t.txId(),
              t.state(),
              t.createdAt(),
              t.deadlineAt(),
              t.decision(),
              t.decidedAt(),
              t.decidedBy(),
              t.abortReason(),
              t.finishedAt(),
              t.idempotencyKey(),
              t.labels(),
              List.copyOf(branches.getOrDefault(t.txId(), List.of())),
              List.copyOf(actions.getOrDefault(t.txId(), List.of()))));
    }
    return new ArrayList<>(out.values());
  }

  private static Long nullableLong(ResultSet rs, int column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : v;
  }
}
