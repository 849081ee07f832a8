package dev.twopc.samples;

import dev.twopc.participant.ParticipantHandler;
import dev.twopc.participant.PrepareContext;
import dev.twopc.participant.Vote;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a sample's handler the way the SDK does, minus the network: each call in its own local
 * transaction on a real SQLite file database (WAL, as the SDK's embedded store), committed if
 * prepare votes YES (or commit/rollback return), rolled back otherwise. Locks are recorded, not
 * enforced.
 */
final class HandlerHarness implements AutoCloseable {
  private final SampleService service;
  private final ParticipantHandler handler;
  private final String url;
  private final Connection reader;

  HandlerHarness(SampleService service, Path dir) throws SQLException {
    this.service = service;
    this.handler = service.handler();
    this.url =
        "jdbc:sqlite:"
            + dir.resolve(service.name() + ".db").toAbsolutePath()
            + "?journal_mode=WAL&busy_timeout=10000";
    this.reader = DriverManager.getConnection(url);
    try (Connection c = open()) {
      service.createSchema(c);
      service.seed(c, Catalog.demo());
      c.commit();
    }
  }

  private Connection open() throws SQLException {
    Connection c = DriverManager.getConnection(url);
    c.setAutoCommit(false);
    return c;
  }

  /** Prepare of {@code order} in transaction {@code txId}; the locks taken go to {@code locks}. */
  Vote prepare(String txId, Order order, Set<String> locks) throws Exception {
    try (Connection c = open()) {
      Ctx ctx = new Ctx(txId, order, c, locks);
      Vote v;
      try {
        v = handler.prepare(ctx);
      } catch (Exception e) {
        c.rollback();
        throw e;
      }
      if (v.isYes()) {
        c.commit();
      } else {
        c.rollback();
      }
      return v;
    }
  }

  Vote prepare(String txId, Order order) throws Exception {
    return prepare(txId, order, new LinkedHashSet<>());
  }

  void commit(String txId, Order order) throws Exception {
    try (Connection c = open()) {
      handler.commit(new Ctx(txId, order, c, new LinkedHashSet<>()));
      c.commit();
    }
  }

  void rollback(String txId, Order order) throws Exception {
    try (Connection c = open()) {
      handler.rollback(new Ctx(txId, order, c, new LinkedHashSet<>()));
      c.commit();
    }
  }

  /** What the read API answers at {@code path}. */
  List<Map<String, Object>> read(String path) throws SQLException {
    return service.read(path, Map.of(), reader);
  }

  Map<String, Object> one(String path) throws SQLException {
    List<Map<String, Object>> rows = read(path);
    if (rows == null || rows.size() != 1) {
      throw new AssertionError("expected one row at " + path + ", got " + rows);
    }
    return rows.get(0);
  }

  @Override
  public void close() throws SQLException {
    reader.close();
  }

  private record Ctx(String txId, Order order, Connection connection, Set<String> locks)
      implements PrepareContext {
    @Override
    public String participant() {
      return "test";
    }

    @Override
    public byte[] payload() {
      return order.encode();
    }

    @Override
    public List<byte[]> staged() {
      return List.of();
    }

    @Override
    public Set<String> lockKeys() {
      return Set.copyOf(locks);
    }

    @Override
    public void lock(String key) {
      locks.add(key);
    }

    @Override
    public void lockShared(String key) {
      locks.add(key);
    }

    @Override
    public Instant deadline() {
      return Instant.now().plusSeconds(5);
    }

    @Override
    public boolean enlisted() {
      return false;
    }
  }
}
