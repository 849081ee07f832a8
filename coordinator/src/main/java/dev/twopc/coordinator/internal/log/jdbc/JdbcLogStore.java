package dev.twopc.coordinator.internal.log.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.log.LogRecord;
import dev.twopc.coordinator.internal.log.LogStore;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.NodeLeases;
import dev.twopc.coordinator.internal.log.Owner;
import dev.twopc.coordinator.internal.log.StoredParticipant;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.Decision;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The decision log in a JDBC database (PostgreSQL and MariaDB for production, H2 and SQLite for
 * tests and small setups): the connection pool, the schema and its version, and the translation of
 * {@link SQLException} into {@link LogStoreException}.
 */
public final class JdbcLogStore implements LogStore {
  /** Bumped whenever the tables change; a newer log than this code refuses to open. */
  static final int SCHEMA_VERSION = 2;

  private final HikariDataSource dataSource;
  private final Dialect dialect;
  private final String description;
  private final JdbcQueries queries;
  private final NodeLeases leases;

  /** This node, once it joined a log several nodes share; null while it is the only writer. */
  private volatile Owner self;

  private JdbcLogStore(HikariDataSource dataSource, Dialect dialect, String description) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.description = description;
    this.queries = new JdbcQueries(dataSource);
    this.leases =
        dialect == Dialect.POSTGRESQL
            ? new Leases(new JdbcLeases(dataSource, queries, owner -> self = owner))
            : null;
  }

  /** {@link JdbcLeases} with its errors translated. */
  private final class Leases implements NodeLeases {
    private final JdbcLeases sql;

    Leases(JdbcLeases sql) {
      this.sql = sql;
    }

    @Override
    public Owner join(String nodeId, String address, long leaseMillis) {
      try {
        return sql.join(nodeId, address, leaseMillis);
      } catch (SQLException e) {
        throw failed("lease", e);
      }
    }

    @Override
    public boolean renew(Owner owner, String address, long leaseMillis) {
      try {
        return sql.renew(owner, address, leaseMillis);
      } catch (SQLException e) {
        throw failed("lease", e);
      }
    }

    @Override
    public void release(Owner owner) {
      try {
        sql.release(owner);
      } catch (SQLException e) {
        throw failed("lease", e);
      }
    }

    @Override
    public List<String> fenceLapsed() {
      try {
        return sql.fenceLapsed();
      } catch (SQLException e) {
        throw failed("lease", e);
      }
    }

    @Override
    public List<StoredTransaction> claim(Owner owner, int max) {
      try {
        return sql.claim(owner, max);
      } catch (SQLException e) {
        throw failed("claim", e);
      }
    }

    @Override
    public List<StoredTransaction> owned(Owner owner) {
      try {
        return sql.owned(owner);
      } catch (SQLException e) {
        throw failed("read", e);
      }
    }

    @Override
    public List<Node> nodes() {
      try {
        return sql.nodes();
      } catch (SQLException e) {
        throw failed("read", e);
      }
    }
  }

  @Override
  public Optional<NodeLeases> leases() {
    return Optional.ofNullable(leases);
  }

  @Override
  public List<NodeLeases.Node> nodes() {
    return leases == null ? List.of() : leases.nodes();
  }

  /** Opens (and creates or checks the schema of) the log at {@code url}. */
  public static JdbcLogStore open(String url, String user, String password, Durability durability)
      throws IOException {
    Dialect dialect = Dialect.of(url);
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(url);
    if (user != null && !user.isEmpty()) {
      hc.setUsername(user);
      hc.setPassword(password);
    } else if (dialect == Dialect.H2) {
      hc.setUsername("sa"); // what twopc 0.1 created its H2 logs with
      hc.setPassword(password == null ? "" : password);
    }
    hc.setPoolName("twopc-log");
    hc.setMaximumPoolSize(8);
    hc.setMinimumIdle(1);
    hc.setAutoCommit(false);
    hc.setConnectionTimeout(3_000);
    hc.setValidationTimeout(1_000);
    hc.setInitializationFailTimeout(10_000);
    dialect.configure(hc, durability);
    HikariDataSource ds;
    try {
      ds = new HikariDataSource(hc);
    } catch (RuntimeException e) {
      throw new IOException(
          "cannot open the decision log at " + redact(url) + ": " + oneLine(e), e);
    }
    JdbcLogStore store = new JdbcLogStore(ds, dialect, redact(url));
    try {
      store.migrate();
    } catch (SQLException e) {
      ds.close();
      throw new IOException(
          "cannot create the decision log schema at " + redact(url) + ": " + oneLine(e), e);
    }
    return store;
  }

  private void migrate() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      for (String ddl : Schema.statements(dialect)) {
        s.execute(ddl);
      }
      Integer version = null;
      try (ResultSet rs = s.executeQuery("SELECT MAX(version) FROM twopc_schema")) {
        if (rs.next()) {
          int v = rs.getInt(1);
          version = rs.wasNull() ? null : v;
        }
      }
      if (version == null) {
        s.executeUpdate("INSERT INTO twopc_schema (version) VALUES (" + SCHEMA_VERSION + ")");
      } else if (version < SCHEMA_VERSION) {
        for (String ddl : Schema.upgrade(version)) {
          s.execute(ddl);
        }
        s.executeUpdate("UPDATE twopc_schema SET version = " + SCHEMA_VERSION);
      } else if (version > SCHEMA_VERSION) {
        throw new SQLException(
            "the decision log has schema version "
                + version
                + ", newer than this coordinator's "
                + SCHEMA_VERSION);
      }
      c.commit();
    }
  }

  @Override
  public List<Object> write(List<LogRecord> batch, Durability durability) {
    try (Connection c = dataSource.getConnection()) {
      List<Object> results;
      try {
        dialect.beforeWrite(c, durability);
        results = JdbcWrites.apply(c, dialect, self, batch);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        // A dead server may report a vendor SQLState the pool does not treat as fatal.
        dataSource.evictConnection(c);
        throw e;
      }
      // Durability: the batch reaches the disk before anyone hears of it.
      dialect.afterCommit(c, durability);
      return results;
    } catch (SQLException e) {
      throw failed("write", e);
    }
  }

  @Override
  public Optional<StoredTransaction> find(String txId) {
    try {
      return queries.find(txId);
    } catch (SQLException e) {
      throw failed("read", e);
    }
  }

  @Override
  public Optional<Decision> decisionOf(String txId) {
    try {
      return queries.decisionOf(txId);
    } catch (SQLException e) {
      throw failed("read", e);
    }
  }

  @Override
  public Optional<String> txIdForKey(String idempotencyKey) {
    try {
      return queries.txIdForKey(idempotencyKey);
    } catch (SQLException e) {
      throw failed("read", e);
    }
  }

  @Override
  public List<StoredTransaction> unfinished() {
    try {
      return queries.unfinished();
    } catch (SQLException e) {
      throw failed("read", e);
    }
  }

  @Override
  public long countFinished() {
    try {
      return queries.countFinished();
    } catch (SQLException e) {
      throw failed("read", e);
    }
  }

  @Override
  public Page list(Filter filter) {
    try {
      return queries.list(filter);
    } catch (SQLException e) {
      throw failed("read", e);
    }
  }

  @Override
  public List<StoredParticipant> participants() {
    try {
      return queries.participants();
    } catch (SQLException e) {
      throw failed("read", e);
    }
  }

  @Override
  public Map<String, Integer> inDoubtBranchesByParticipant() {
    try {
      return queries.inDoubtBranchesByParticipant();
    } catch (SQLException e) {
      throw failed("read", e);
    }
  }

  @Override
  public String description() {
    return description;
  }

  private LogStoreException failed(String what, SQLException e) {
    return new LogStoreException(
        "decision log " + what + " failed on " + description + ": " + oneLine(e),
        e.getSQLState(),
        e);
  }

  private static String oneLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the connection is broken; it was evicted
    }
  }

  private static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^;&]*", "$1***");
  }

  @Override
  public void close() {
    if (dialect == Dialect.H2) {
      // A clean close leaves H2 nothing to replay at the next start.
      try (Connection c = dataSource.getConnection();
          Statement s = c.createStatement()) {
        s.execute("CHECKPOINT SYNC");
        c.commit();
      } catch (SQLException ignored) {
        // the store is going away anyway; every decision is already on disk
      }
    }
    dataSource.close();
  }
}
