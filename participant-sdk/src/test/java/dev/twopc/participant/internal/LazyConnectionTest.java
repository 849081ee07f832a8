package dev.twopc.participant.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The prepare's connection, opened on first use (a real SQLite connection behind it). */
class LazyConnectionTest {
  private final AtomicInteger opened = new AtomicInteger();
  private Connection real;

  private Connection open() {
    opened.incrementAndGet();
    try {
      real = DriverManager.getConnection("jdbc:sqlite::memory:");
      real.setAutoCommit(false);
      return real;
    } catch (SQLException e) {
      throw new StoreException("opening a local transaction", e);
    }
  }

  @Test
  void nothingIsOpenedUntilUsedAndNothingUndoneIfNeverUsed() throws SQLException {
    LazyConnection lazy = new LazyConnection(this::open);
    Connection c = lazy.connection();
    c.rollback();
    c.commit();
    assertFalse(c.isClosed());
    assertEquals(c, c);
    assertTrue(c.toString().contains("not opened"));
    lazy.close();
    assertTrue(c.isClosed());
    assertEquals(0, opened.get());
  }

  @Test
  void theFirstStatementOpensItOnceAndCloseGivesItBack() throws SQLException {
    LazyConnection lazy = new LazyConnection(this::open);
    Connection c = lazy.connection();
    try (Statement s = c.createStatement()) {
      s.execute("CREATE TABLE T (X INT)");
      s.execute("INSERT INTO T VALUES (1)");
    }
    c.commit();
    assertFalse(c.getAutoCommit());
    assertEquals(1, opened.get());
    lazy.close();
    assertTrue(real.isClosed());
    assertTrue(c.isClosed());
  }

  @Test
  void aUseAfterCloseFailsAndOpensNothing() throws SQLException {
    LazyConnection lazy = new LazyConnection(this::open);
    Connection c = lazy.connection();
    lazy.close();
    SQLException e = assertThrows(SQLException.class, c::createStatement);
    assertEquals("08003", e.getSQLState());
    assertEquals(0, opened.get());
  }

  @Test
  void aStoreThatCannotOpenIsTheStoresFailureNotTheHandlers() {
    SQLException down = new SQLException("pool timed out", "08001");
    LazyConnection lazy =
        new LazyConnection(
            () -> {
              throw new StoreException("opening a local transaction", down);
            });
    SQLException seen = assertThrows(SQLException.class, () -> lazy.connection().createStatement());
    assertSame(down, seen);
    StoreException rethrown = assertThrows(StoreException.class, lazy::throwIfOpenFailed);
    assertSame(down, rethrown.getCause());
  }
}
