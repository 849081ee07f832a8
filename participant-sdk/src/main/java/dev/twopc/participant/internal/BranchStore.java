package dev.twopc.participant.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The participant's durable state in its own DataSource: the pending map (prepared branches) and
 * the recently finished transaction ids. Rows are keyed by (participant, tx id), so several
 * participants may share one database.
 */
public final class BranchStore {
  static final String PREPARED = "TWOPC_PREPARED_BRANCH";
  static final String FINISHED = "TWOPC_FINISHED_BRANCH";

  private final DataSource dataSource;
  private final String participant;

  /** Null unless the store has a single connection: see {@link #grouped}. */
  private final GroupCommit group;

  /** A store on a DataSource with its own pool: each local transaction commits by itself. */
  public BranchStore(DataSource dataSource, String participant) {
    this(dataSource, participant, null);
  }

  private BranchStore(DataSource dataSource, String participant, GroupCommit group) {
    this.dataSource = dataSource;
    this.participant = participant;
    this.group = group;
  }

  /**
   * A store on a DataSource of one connection (the embedded SQLite): the local transactions that
   * arrive together share one commit and its sync ({@link GroupCommit}). {@code wait}: how long a
   * local transaction waits for the connection.
   */
  public static BranchStore grouped(DataSource single, String participant, Duration wait) {
    return new BranchStore(single, participant, new GroupCommit(single, wait));
  }

  /** Creates the tables if they do not exist. */
  public void createSchema() {
    try (Connection c = dataSource.getConnection()) {
      Dialect d = Dialect.of(c.getMetaData());
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE IF NOT EXISTS "
                + PREPARED
                + " ("
                + "PARTICIPANT VARCHAR(64) NOT NULL, TX_ID VARCHAR(128) NOT NULL, "
                + "WORK "
                + d.bytes
                + " NOT NULL, LOCKS "
                + d.text
                + " NOT NULL, "
                + "COORDINATOR VARCHAR(255) NOT NULL, PREPARED_AT BIGINT NOT NULL, "
                + "PRIMARY KEY (PARTICIPANT, TX_ID))");
        s.execute(
            "CREATE TABLE IF NOT EXISTS "
                + FINISHED
                + " ("
                + "PARTICIPANT VARCHAR(64) NOT NULL, TX_ID VARCHAR(128) NOT NULL, "
                + "FATE VARCHAR(16) NOT NULL, REASON VARCHAR(1024) NOT NULL, "
                + "FINISHED_AT BIGINT NOT NULL, PRIMARY KEY (PARTICIPANT, TX_ID))");
        s.execute(
            "CREATE INDEX IF NOT EXISTS " + FINISHED + "_AT ON " + FINISHED + " (FINISHED_AT)");
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    } catch (SQLException e) {
      throw new StoreException("creating the participant tables", e);
    }
  }

  /** The group commit of a single-connection store; empty for a store with its own pool. */
  Optional<GroupCommit> group() {
    return Optional.ofNullable(group);
  }

  /** A connection in a fresh local transaction (auto-commit off). The caller closes it. */
  public Connection begin() {
    try {
      if (group != null) {
        return group.begin();
      }
      Connection c = dataSource.getConnection();
      try {
        if (c.getAutoCommit()) {
          c.setAutoCommit(false);
        }
        return c;
      } catch (SQLException e) {
        c.close();
        throw e;
      }
    } catch (SQLException e) {
      throw new StoreException("opening a local transaction", e);
    }
  }

  public void insertPrepared(Connection c, PreparedRecord r) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO "
                + PREPARED
                + " (PARTICIPANT, TX_ID, WORK, LOCKS, COORDINATOR, PREPARED_AT) VALUES (?,?,?,?,?,?)")) {
      ps.setString(1, participant);
      ps.setString(2, r.txId());
      ps.setBytes(3, Codec.encodeWork(r.payload(), r.staged()));
      ps.setString(4, Codec.encodeLocks(r.locks()));
      ps.setString(5, r.coordinator());
      ps.setLong(6, r.preparedAt().toEpochMilli());
      ps.executeUpdate();
    }
  }

  /** Deletes the prepared row; false if there was none (an earlier attempt finished it). */
  public boolean deletePrepared(Connection c, String txId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM " + PREPARED + " WHERE PARTICIPANT = ? AND TX_ID = ?")) {
      ps.setString(1, participant);
      ps.setString(2, txId);
      return ps.executeUpdate() == 1;
    }
  }

  public void insertFinished(Connection c, String txId, Fate fate, String reason, Instant at)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO "
                + FINISHED
                + " (PARTICIPANT, TX_ID, FATE, REASON, FINISHED_AT) VALUES (?,?,?,?,?)")) {
      ps.setString(1, participant);
      ps.setString(2, txId);
      ps.setString(3, fate.name());
      ps.setString(4, truncate(reason == null ? "" : reason, 1024));
      ps.setLong(5, at.toEpochMilli());
      ps.executeUpdate();
    }
  }

  /** Records a finished branch in its own local transaction. */
  public void recordFinished(String txId, Fate fate, String reason, Instant at) {
    try (Connection c = begin()) {
      try {
        insertFinished(c, txId, fate, reason, at);
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new StoreException("recording finished tx=" + txId, e);
    }
  }

  public Optional<Finished> finished(Connection c, String txId) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT FATE, REASON, FINISHED_AT FROM "
                + FINISHED
                + " WHERE PARTICIPANT = ? AND TX_ID = ?")) {
      ps.setString(1, participant);
      ps.setString(2, txId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new Finished(
                txId,
                Fate.valueOf(rs.getString(1)),
                rs.getString(2),
                Instant.ofEpochMilli(rs.getLong(3))));
      }
    }
  }

  public Optional<Finished> finished(String txId) {
    try (Connection c = begin()) {
      try {
        Optional<Finished> f = finished(c, txId);
        // A read: ending it by rollback costs no sync (and, grouped, waits for no batch).
        c.rollback();
        return f;
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new StoreException("reading finished tx=" + txId, e);
    }
  }

  /** Every prepared branch of this participant, oldest first. */
  public List<PreparedRecord> loadPrepared() {
    try (Connection c = begin()) {
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT TX_ID, WORK, LOCKS, COORDINATOR, "
                  + "PREPARED_AT FROM "
                  + PREPARED
                  + " WHERE PARTICIPANT = ? ORDER BY PREPARED_AT")) {
        ps.setString(1, participant);
        List<PreparedRecord> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            List<byte[]> work = Codec.decodeWork(rs.getBytes(2));
            out.add(
                new PreparedRecord(
                    rs.getString(1),
                    work.get(0),
                    work.subList(1, work.size()),
                    Codec.decodeLocks(rs.getString(3)),
                    rs.getString(4),
                    Instant.ofEpochMilli(rs.getLong(5))));
          }
        }
        c.rollback(); // a read: nothing to make durable
        return out;
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new StoreException("loading prepared branches", e);
    }
  }

  /** Forgets finished ids older than {@code before}, at most {@code batch} of them. */
  public int pruneFinished(Instant before, int batch) {
    try (Connection c = begin()) {
      try {
        List<String> ids = new ArrayList<>();
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT TX_ID FROM "
                    + FINISHED
                    + " WHERE PARTICIPANT = ? AND FINISHED_AT < ? ORDER BY FINISHED_AT")) {
          ps.setString(1, participant);
          ps.setLong(2, before.toEpochMilli());
          ps.setMaxRows(batch);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              ids.add(rs.getString(1));
            }
          }
        }
        if (!ids.isEmpty()) {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM " + FINISHED + " WHERE PARTICIPANT = ? AND TX_ID = ?")) {
            for (String id : ids) {
              ps.setString(1, participant);
              ps.setString(2, id);
              ps.addBatch();
            }
            ps.executeBatch();
          }
        }
        c.commit();
        return ids.size();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new StoreException("pruning finished branches", e);
    }
  }

  static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
