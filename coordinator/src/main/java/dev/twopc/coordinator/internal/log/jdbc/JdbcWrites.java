package dev.twopc.coordinator.internal.log.jdbc;

import static dev.twopc.coordinator.internal.log.StoredNames.name;

import dev.twopc.coordinator.internal.Limits;
import dev.twopc.coordinator.internal.log.DecisionLog.DecisionResult;
import dev.twopc.coordinator.internal.log.LogRecord;
import dev.twopc.coordinator.internal.log.LogRecord.Begun;
import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.BranchUpdated;
import dev.twopc.coordinator.internal.log.LogRecord.Decided;
import dev.twopc.coordinator.internal.log.LogRecord.Enlisted;
import dev.twopc.coordinator.internal.log.LogRecord.Finished;
import dev.twopc.coordinator.internal.log.LogRecord.OperatorActed;
import dev.twopc.coordinator.internal.log.LogRecord.Prune;
import dev.twopc.coordinator.internal.log.LogRecord.Registered;
import dev.twopc.coordinator.internal.log.Owner;
import dev.twopc.coordinator.internal.log.StoredNames;
import dev.twopc.coordinator.internal.model.Decision;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/** The decision log's records as SQL: one batch in one database transaction. */
final class JdbcWrites {
  /** The batch's prepared statements, each parsed once per batch rather than per record. */
  private static final class Statements implements AutoCloseable {
    private final Connection c;
    private final Dialect dialect;

    /** This node on a shared log (rows it inserts are its own, its owner-only writes check it). */
    private final Owner self;

    private final java.util.Map<String, PreparedStatement> cache = new java.util.HashMap<>();

    Statements(Connection c, Dialect dialect, Owner self) {
      this.c = c;
      this.dialect = dialect;
      this.self = self;
    }

    PreparedStatement get(String sql) throws SQLException {
      PreparedStatement ps = cache.get(sql);
      if (ps == null) {
        ps = c.prepareStatement(sql);
        cache.put(sql, ps);
      }
      return ps;
    }

    @Override
    public void close() {
      for (PreparedStatement ps : cache.values()) {
        try {
          ps.close();
        } catch (SQLException ignored) {
          // closing with the connection anyway
        }
      }
    }
  }

  private JdbcWrites() {}

  /**
   * Applies the records in one transaction (not committed here); one result per record.
   *
   * @param self this node when several share the log (null: the only writer)
   */
  static List<Object> apply(Connection c, Dialect dialect, Owner self, List<LogRecord> batch)
      throws SQLException {
    List<Object> results = new ArrayList<>(batch.size());
    try (Statements st = new Statements(c, dialect, self)) {
      for (LogRecord r : batch) {
        results.add(apply(st, r));
      }
    }
    return results;
  }

  private static Object apply(Statements c, LogRecord record) throws SQLException {
    if (record instanceof Begun b) {
      insertBegun(c, b); // appended once per transaction, always first
    } else if (record instanceof Enlisted e) {
      insertBranches(c, e.txId(), List.of(e.branch()), true);
    } else if (record instanceof Decided d) {
      return decide(c, d);
    } else if (record instanceof BranchUpdated u) {
      updateBranch(c, u);
    } else if (record instanceof Finished f) {
      for (BranchUpdated u : f.branches()) {
        updateBranch(c, u);
      }
      // Fenced: the end of a transaction another node claimed is that node's to write.
      PreparedStatement ps =
          c.get(
              "UPDATE twopc_tx SET state = ?, finished_at = ? WHERE tx_id = ?"
                  + (c.self == null ? "" : " AND owner = ? AND owner_epoch = ?"));
      ps.setString(1, name(f.state()));
      ps.setLong(2, f.finishedAt());
      ps.setString(3, f.txId());
      if (c.self != null) {
        ps.setString(4, c.self.nodeId());
        ps.setLong(5, c.self.epoch());
      }
      ps.executeUpdate();
    } else if (record instanceof OperatorActed a) {
      {
        PreparedStatement ps =
            c.get(
                "INSERT INTO twopc_action"
                    + " (tx_id, at, action, operator, reason, accepted, refusal) VALUES (?,?,?,?,?,?,?)");
        ps.setString(1, a.txId());
        ps.setLong(2, a.at());
        ps.setString(3, a.action());
        ps.setString(4, clip(a.operator(), Schema.NAME));
        ps.setString(5, clip(a.reason(), Schema.TEXT));
        ps.setBoolean(6, a.accepted());
        ps.setString(7, clip(a.refusal(), Schema.TEXT));
        ps.executeUpdate();
      }
    } else if (record instanceof Registered r) {
      return register(c, r);
    } else if (record instanceof Prune p) {
      return prune(c, p);
    }
    return null;
  }

  private static boolean txExists(Statements c, String txId) throws SQLException {
    {
      PreparedStatement ps = c.get("SELECT 1 FROM twopc_tx WHERE tx_id = ?");
      ps.setString(1, txId);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  private static void insertBegun(Statements c, Begun b) throws SQLException {
    if (insertTx(c, b, null)) {
      insertBranches(c, b.txId(), b.branches(), false);
    }
  }

  /**
   * The transaction's row: as begun, or (a fresh transaction) already with its decision. On a log
   * several nodes share, insert-if-absent: another node may have written an ABORT tombstone for the
   * id (a participant asked it for the outcome), or taken the idempotency key.
   *
   * @return whether the row was inserted
   */
  private static boolean insertTx(Statements c, Begun b, Decided d) throws SQLException {
    PreparedStatement ps =
        c.get(
            "INSERT INTO twopc_tx"
                + " (tx_id, state, created_at, deadline_at, idempotency_key, labels, decision,"
                + " decided_at, decided_by, abort_reason, finished_at, owner, owner_epoch)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + (c.self != null && c.dialect == Dialect.POSTGRESQL
                    ? " ON CONFLICT DO NOTHING"
                    : ""));
    ps.setString(1, b.txId());
    ps.setString(2, name(d == null ? b.state() : d.state()));
    ps.setLong(3, b.createdAt());
    ps.setLong(4, b.deadlineAt());
    ps.setString(5, b.idempotencyKey());
    ps.setString(6, Labels.encode(b.labels()));
    ps.setString(7, d == null ? null : name(d.decision()));
    setLong(ps, 8, d == null ? null : d.decidedAt());
    ps.setString(9, d == null ? null : clip(d.decidedBy(), Schema.NAME));
    ps.setString(10, d == null ? null : clip(d.abortReason(), Schema.TEXT));
    boolean over = d != null && d.state().isFinal();
    setLong(ps, 11, over ? d.decidedAt() : null);
    ps.setString(12, c.self == null ? null : c.self.nodeId());
    setLong(ps, 13, c.self == null ? null : c.self.epoch());
    return ps.executeUpdate() == 1;
  }

  private static void insertBranches(
      Statements c, String txId, List<BranchRow> rows, boolean replace) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    // Delete-then-insert rather than MERGE: portable to any JDBC store.
    {
      PreparedStatement del =
          replace ? c.get("DELETE FROM twopc_branch WHERE tx_id = ? AND participant = ?") : null;
      PreparedStatement ps =
          c.get(
              "INSERT INTO twopc_branch"
                  + " (tx_id, participant, idx, payload_digest, vote, vote_reason, state, attempts,"
                  + " last_error, last_attempt_at, acked_at, voted_at)"
                  + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
      for (BranchRow r : rows) {
        if (del != null) {
          del.setString(1, txId);
          del.setString(2, r.participant());
          del.addBatch();
        }
        ps.setString(1, txId);
        ps.setString(2, r.participant());
        ps.setInt(3, r.index());
        ps.setString(4, r.payloadDigest());
        ps.setString(5, name(r.vote()));
        ps.setString(6, clip(r.voteReason(), Schema.TEXT));
        ps.setString(7, name(r.state()));
        ps.setInt(8, r.attempts());
        ps.setString(9, clip(r.lastError(), Schema.TEXT));
        setLong(ps, 10, r.lastAttemptAt());
        setLong(ps, 11, r.acknowledgedAt());
        setLong(ps, 12, r.votedAt());
        ps.addBatch();
      }
      if (del != null) {
        del.executeBatch();
      }
      ps.executeBatch();
    }
  }

  /** Insert-if-absent: the first decision written for a transaction is the one that stays. */
  // Safety rule 2: "AND decision IS NULL"; a later writer reads back the decision that is there.
  private static DecisionResult decide(Statements c, Decided d) throws SQLException {
    // Not in the log yet (one-phase, or aborted before its begin was written): insert it with
    // the decision's branch rows, so they are written once.
    boolean fresh = d.begun() != null && (!d.begunAppended() || !txExists(c, d.txId()));
    // One row with its decision, rather than a begin row and then an update of it. Not inserted
    // (a shared log): another node's tombstone holds the id, which the update below finds.
    if (fresh && insertTx(c, d.begun(), d)) {
      insertBranches(c, d.txId(), d.branches(), false);
      return new DecisionResult(d.decision(), true);
    }
    {
      PreparedStatement ps =
          c.get(
              "UPDATE twopc_tx SET decision = ?, state = ?,"
                  + " decided_at = ?, decided_by = ?, abort_reason = ?,"
                  + " finished_at = ?"
                  + " WHERE tx_id = ? AND decision IS NULL");
      ps.setString(1, name(d.decision()));
      ps.setString(2, name(d.state()));
      ps.setLong(3, d.decidedAt());
      ps.setString(4, clip(d.decidedBy(), Schema.NAME));
      ps.setString(5, clip(d.abortReason(), Schema.TEXT));
      boolean over = d.state().isFinal();
      setLong(ps, 6, over ? d.decidedAt() : null);
      ps.setString(7, d.txId());
      if (ps.executeUpdate() == 1) {
        insertBranches(c, d.txId(), d.branches(), true);
        return new DecisionResult(d.decision(), true);
      }
    }
    {
      PreparedStatement ps = c.get("SELECT decision FROM twopc_tx WHERE tx_id = ?");
      ps.setString(1, d.txId());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return new DecisionResult(StoredNames.parse(Decision.class, rs.getString(1)), false);
        }
      }
    }
    if (c.self != null) {
      // A shared log, and no row: its idempotency key is another transaction's (a retry on
      // another node). Nothing is written, so nothing can ever commit it: the answer is ABORT.
      return new DecisionResult(Decision.ABORT, false);
    }
    throw new SQLException("transaction " + d.txId() + " has no begin record to decide");
  }

  private static void updateBranch(Statements c, BranchUpdated u) throws SQLException {
    {
      // Fenced: phase-2 progress of a transaction another node claimed is that node's to write.
      PreparedStatement ps =
          c.get(
              "UPDATE twopc_branch SET state = ?,"
                  + " attempts = ?, last_error = ?, last_attempt_at = ?, acked_at = ?"
                  + " WHERE tx_id = ? AND participant = ?"
                  + (c.self == null
                      ? ""
                      : " AND EXISTS (SELECT 1 FROM twopc_tx t WHERE t.tx_id = twopc_branch.tx_id"
                          + " AND t.owner = ? AND t.owner_epoch = ?)"));
      ps.setString(1, name(u.state()));
      ps.setInt(2, u.attempts());
      ps.setString(3, clip(u.lastError(), Schema.TEXT));
      setLong(ps, 4, u.lastAttemptAt());
      setLong(ps, 5, u.acknowledgedAt());
      ps.setString(6, u.txId());
      ps.setString(7, u.participant());
      if (c.self != null) {
        ps.setString(8, c.self.nodeId());
        ps.setLong(9, c.self.epoch());
      }
      ps.executeUpdate();
    }
  }

  private static Boolean register(Statements c, Registered r) throws SQLException {
    {
      PreparedStatement ps =
          c.get("UPDATE twopc_participant SET address = ?, updated_at = ? WHERE name = ?");
      ps.setString(1, r.address());
      ps.setLong(2, r.at());
      ps.setString(3, r.name());
      if (ps.executeUpdate() == 1) {
        return Boolean.TRUE;
      }
    }
    {
      PreparedStatement ps =
          c.get(
              "INSERT INTO twopc_participant"
                  + " (name, address, registered_at, updated_at) VALUES (?,?,?,?)");
      ps.setString(1, r.name());
      ps.setString(2, r.address());
      ps.setLong(3, r.at());
      ps.setLong(4, r.at());
      ps.executeUpdate();
    }
    return Boolean.FALSE;
  }

  /** Deletes one batch of finished transactions; answers how many. */
  private static Integer prune(Statements c, Prune p) throws SQLException {
    List<String> ids = new ArrayList<>();
    {
      PreparedStatement ps =
          c.get(
              "SELECT tx_id FROM twopc_tx"
                  + " WHERE finished_at IS NOT NULL AND finished_at < ? ORDER BY finished_at"
                  + " LIMIT ?");
      ps.setLong(1, p.before());
      ps.setInt(2, p.batchSize());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
    }
    for (String table : new String[] {"twopc_branch", "twopc_action", "twopc_tx"}) {
      {
        PreparedStatement ps = c.get("DELETE FROM " + table + " WHERE tx_id = ?");
        for (String id : ids) {
          ps.setString(1, id);
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
    return ids.size();
  }

  /**
   * Free text cut to its column, as a second line behind the bounds applied where values enter (an
   * older schema, or a record written by a path that forgot): diagnostics of any length must not
   * fail the write of the record they belong to.
   */
  static String clip(String s, int max) {
    return Limits.text(s, max);
  }

  private static void setLong(PreparedStatement ps, int index, Long value) throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value);
    }
  }
}
