package dev.twopc.participant.internal;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Supplier;

/**
 * A prepare's connection, taken from the store when first used. A handler that takes its locks
 * before its first statement then waits for them without holding a connection: the embedded store's
 * pool has one, and a prepare waiting for a lock while holding it kept the lock holder's commit
 * (which needs that connection to release the lock) from running, so every contended lock wait
 * ended in a timeout and a NO vote.
 */
final class LazyConnection implements AutoCloseable {
  private final Supplier<Connection> open;
  private final Connection proxy;
  private Connection real;
  private StoreException openFailure;
  private boolean closed;

  LazyConnection(Supplier<Connection> open) {
    this.open = open;
    this.proxy =
        (Connection)
            Proxy.newProxyInstance(
                Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, this::invoke);
  }

  /** The connection to hand out: each call on it opens the real one if not yet open. */
  Connection connection() {
    return proxy;
  }

  private synchronized Connection real() throws SQLException {
    if (closed) {
      throw new SQLException(
          "the prepare's connection is closed: it was used after prepare" + " returned", "08003");
    }
    if (real == null) {
      try {
        real = open.get();
      } catch (StoreException e) {
        openFailure = e;
        throw e.getCause() instanceof SQLException sql
            ? sql
            : new SQLException(e.getMessage(), "08001", e);
      }
    }
    return real;
  }

  synchronized boolean opened() {
    return real != null;
  }

  /**
   * Rethrows the store's failure to open the connection, if there was one: the store failed, not
   * the handler, so the caller records no vote (a NO would outlive the outage) and the call fails
   * as a store failure.
   */
  synchronized void throwIfOpenFailed() {
    if (openFailure != null) {
      throw openFailure;
    }
  }

  private Object invoke(Object self, Method m, Object[] args) throws Throwable {
    switch (m.getName()) {
      case "equals":
        return self == args[0];
      case "hashCode":
        return System.identityHashCode(self);
      case "toString":
        return "LazyConnection[" + (opened() ? real() : "not opened") + "]";
      case "rollback":
      case "commit":
      case "close":
        if (!opened() && (args == null || args.length == 0)) {
          return null; // nothing was done, so there is nothing to undo, apply or give back
        }
        break;
      case "isClosed":
        synchronized (this) {
          if (closed || real == null) {
            return closed;
          }
        }
        break;
      default:
        break;
    }
    try {
      return m.invoke(real(), args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  @Override
  public void close() throws SQLException {
    Connection c;
    synchronized (this) {
      c = real;
      closed = true;
    }
    if (c != null) {
      c.close();
    }
  }
}
