package dev.twopc.participant.internal;

import dev.twopc.participant.BranchContext;
import dev.twopc.participant.PrepareContext;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/** The context objects handed to the handler. */
final class Contexts {
  private Contexts() {}

  static class Branch implements BranchContext {
    final String txId;
    final String participant;
    final byte[] payload;
    final List<byte[]> staged;
    final Connection connection;
    final LockManager locks;

    Branch(
        String txId,
        String participant,
        byte[] payload,
        List<byte[]> staged,
        Connection connection,
        LockManager locks) {
      this.txId = txId;
      this.participant = participant;
      this.payload = payload;
      this.staged = staged;
      this.connection = connection;
      this.locks = locks;
    }

    @Override
    public String txId() {
      return txId;
    }

    @Override
    public String participant() {
      return participant;
    }

    @Override
    public byte[] payload() {
      return payload.clone();
    }

    @Override
    public List<byte[]> staged() {
      return staged.stream().map(byte[]::clone).toList();
    }

    @Override
    public Set<String> lockKeys() {
      return Set.copyOf(locks.heldBy(txId).keySet());
    }

    @Override
    public Connection connection() {
      return connection;
    }
  }

  static final class Prepare extends Branch implements PrepareContext {
    private final Instant deadline;
    private final Duration lockWait;
    private final Clock clock;
    private final boolean enlisted;
    private volatile boolean closed;

    Prepare(
        String txId,
        String participant,
        byte[] payload,
        List<byte[]> staged,
        Connection connection,
        LockManager locks,
        Instant deadline,
        Duration lockWait,
        Clock clock,
        boolean enlisted) {
      super(txId, participant, payload, staged, connection, locks);
      this.deadline = deadline;
      this.lockWait = lockWait;
      this.clock = clock;
      this.enlisted = enlisted;
    }

    @Override
    public void lock(String key) {
      take(key, LockManager.Mode.EXCLUSIVE);
    }

    @Override
    public void lockShared(String key) {
      take(key, LockManager.Mode.SHARED);
    }

    private void take(String key, LockManager.Mode mode) {
      if (key == null || key.isEmpty()) {
        throw new IllegalArgumentException("lock key must not be empty");
      }
      if (closed) {
        throw new IllegalStateException("locks can only be taken during prepare");
      }
      // The wait is bounded by the lock wait and by the coordinator's deadline: a vote that
      // arrives after the coordinator gave up is useless, and an unbounded wait could deadlock.
      long untilDeadline = Duration.between(clock.instant(), deadline).toNanos();
      long wait = Math.max(0, Math.min(lockWait.toNanos(), untilDeadline));
      locks.acquire(txId, key, mode, wait);
    }

    void close() {
      closed = true;
    }

    @Override
    public Instant deadline() {
      return deadline;
    }

    @Override
    public boolean enlisted() {
      return enlisted;
    }
  }
}
