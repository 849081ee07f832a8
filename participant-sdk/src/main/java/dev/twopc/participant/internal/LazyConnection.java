package dev.twopc.participant.internal;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Supplier;

/**
 * A prepare's connection, taken from the store when first used. A handler that takes its locks
 * before its first statement then waits for them without holding a connection: the embedded
 * store's pool has one, and a prepare waiting for a lock while holding it kept the lock holder's
 * commit (which needs that connection to release the lock) from running, so every contended
 * lock wait ended in a timeout and a NO vote.
 */
final class LazyConnection implements AutoCloseable {
  private final Supplier<Connection> open;
  private final Connection proxy;
  private Connection real;

  LazyConnection(Supplier<Connection> open) {
    this.open = open;
    this.proxy = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
        new Class<?>[] {Connection.class}, this::invoke);
  }

  /** The connection to hand out: each call on it opens the real one if not yet open. */
  Connection connection() {
    return proxy;
  }

  private synchronized Connection real() {
    if (real == null) {
      real = open.get();
    }
    return real;
  }

  private synchronized boolean opened() {
    return real != null;
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
      case "close":
        if (!opened() && (args == null || args.length == 0)) {
          return null; // nothing was done, so there is nothing to undo or give back
        }
        break;
      case "isClosed":
        if (!opened()) {
          return false;
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
    }
    if (c != null) {
      c.close();
    }
  }
}
