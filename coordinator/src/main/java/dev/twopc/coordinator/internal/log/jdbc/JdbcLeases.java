package dev.twopc.coordinator.internal.log.jdbc;

import dev.twopc.coordinator.internal.log.NodeLeases;
import dev.twopc.coordinator.internal.log.Owner;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * {@link NodeLeases} in PostgreSQL. Every time is the database's ({@code clock_timestamp()}), so no
 * two coordinators' clocks are compared. Renewing and fencing a node both update its one row, so
 * the database orders them: a lease renewed before it lapsed cannot be fenced, and a fenced one
 * cannot be renewed.
 */
final class JdbcLeases {
  /** The database's clock, in epoch milliseconds. */
  private static final String NOW = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

  private final DataSource dataSource;
  private final JdbcQueries queries;
  private final Consumer<Owner> writeAs;

  JdbcLeases(DataSource dataSource, JdbcQueries queries, Consumer<Owner> writeAs) {
    this.dataSource = dataSource;
    this.queries = queries;
    this.writeAs = writeAs;
  }

  Owner join(String nodeId, String address, long leaseMillis) throws SQLException {
    long epoch;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO twopc_node (node_id, epoch, address, lease_until, joined_at, fenced)"
                    + " VALUES (?, 1, ?, "
                    + NOW
                    + " + ?, "
                    + NOW
                    + ", FALSE)"
                    + " ON CONFLICT (node_id) DO UPDATE SET epoch = twopc_node.epoch + 1,"
                    + " address = EXCLUDED.address, lease_until = EXCLUDED.lease_until,"
                    + " joined_at = EXCLUDED.joined_at, fenced = FALSE"
                    + " RETURNING epoch")) {
      ps.setString(1, nodeId);
      ps.setString(2, address);
      ps.setLong(3, leaseMillis);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        epoch = rs.getLong(1);
      }
      c.commit();
    }
    Owner self = new Owner(nodeId, epoch);
    writeAs.accept(self);
    return self;
  }

  boolean renew(Owner self, String address, long leaseMillis) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE twopc_node SET lease_until = "
                    + NOW
                    + " + ?, address = COALESCE(?, address)"
                    + " WHERE node_id = ? AND epoch = ? AND lease_until >= "
                    + NOW)) {
      ps.setLong(1, leaseMillis);
      ps.setString(2, address);
      ps.setString(3, self.nodeId());
      ps.setLong(4, self.epoch());
      int n = ps.executeUpdate();
      c.commit();
      return n == 1;
    }
  }

  void release(Owner self) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE twopc_node SET lease_until = "
                    + NOW
                    + " - 1 WHERE node_id = ? AND epoch = ?")) {
      ps.setString(1, self.nodeId());
      ps.setLong(2, self.epoch());
      ps.executeUpdate();
      c.commit();
    }
  }

  List<String> fenceLapsed() throws SQLException {
    List<String> fenced = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE twopc_node SET epoch = epoch + 1, fenced = TRUE"
                    + " WHERE NOT fenced AND lease_until < "
                    + NOW
                    + " RETURNING node_id")) {
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          fenced.add(rs.getString(1));
        }
      }
      c.commit();
    }
    return fenced;
  }

  /** A row free to claim: of no node, or of an epoch older than its node's current one. */
  private static final String FREE =
      " (t.owner IS NULL OR NOT EXISTS (SELECT 1 FROM twopc_node n"
          + " WHERE n.node_id = t.owner AND n.epoch <= t.owner_epoch))";

  List<StoredTransaction> claim(Owner self, int max) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      List<String> locked = new ArrayList<>();
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT t.tx_id FROM twopc_tx t WHERE t.finished_at IS NULL AND"
                  + FREE
                  + " ORDER BY t.created_at LIMIT ? FOR UPDATE OF t SKIP LOCKED")) {
        ps.setInt(1, max);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            locked.add(rs.getString(1));
          }
        }
      }
      // Checked again now that the rows are locked, by a statement that sees every claim
      // committed before it: the locking read above may have judged a row by a snapshot older
      // than another node's claim of it, committed just before the lock was taken.
      try (PreparedStatement ps =
          c.prepareStatement(
              "UPDATE twopc_tx t SET owner = ?, owner_epoch = ? WHERE t.tx_id = ?"
                  + " AND t.finished_at IS NULL AND"
                  + FREE)) {
        for (String id : locked) {
          ps.setString(1, self.nodeId());
          ps.setLong(2, self.epoch());
          ps.setString(3, id);
          if (ps.executeUpdate() == 1) {
            ids.add(id);
          }
        }
      }
      c.commit();
    }
    if (ids.isEmpty()) {
      return List.of();
    }
    // Read after the claim committed: a write its former owner made before is in it, and any
    // made after matches no row.
    return queries.unfinished(
        " AND owner = ? AND owner_epoch = ? AND tx_id IN ("
            + String.join(",", java.util.Collections.nCopies(ids.size(), "?"))
            + ")",
        concat(List.of(self.nodeId(), self.epoch()), ids));
  }

  List<StoredTransaction> owned(Owner self) throws SQLException {
    return queries.unfinished(
        " AND owner = ? AND owner_epoch = ?", List.of(self.nodeId(), self.epoch()));
  }

  List<NodeLeases.Node> nodes() throws SQLException {
    List<NodeLeases.Node> nodes = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT node_id, epoch, address, lease_until - "
                    + NOW
                    + ", fenced FROM twopc_node ORDER BY node_id")) {
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          nodes.add(
              new NodeLeases.Node(
                  rs.getString(1),
                  rs.getLong(2),
                  rs.getString(3),
                  rs.getLong(4),
                  rs.getBoolean(5)));
        }
      }
      c.rollback();
    }
    return nodes;
  }

  private static List<Object> concat(List<Object> a, List<String> b) {
    List<Object> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
