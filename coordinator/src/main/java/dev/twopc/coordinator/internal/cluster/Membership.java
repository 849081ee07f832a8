package dev.twopc.coordinator.internal.cluster;

import dev.twopc.coordinator.RecoverySummary;
import dev.twopc.coordinator.internal.concurrent.Completions;
import dev.twopc.coordinator.internal.log.DecisionLog;
import dev.twopc.coordinator.internal.log.LogReader;
import dev.twopc.coordinator.internal.log.LogStoreException;
import dev.twopc.coordinator.internal.log.NodeLeases;
import dev.twopc.coordinator.internal.log.Owner;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.protocol.TransactionEngine;
import dev.twopc.coordinator.internal.recovery.Recovery;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This coordinator as one node of several on a shared log. At start it joins (a new epoch) and
 * recovers what is free to claim: its own earlier epochs' transactions and those of nodes whose
 * lease lapsed. Then it renews its lease, and fences nodes whose lease lapsed and claims their
 * transactions in bounded batches, resuming each as restart recovery does: phase 2 of the decided,
 * ABORT for the undecided. A node that finds its own lease lapsed (a long pause, or the database
 * out of reach for a whole lease) drops every live transaction and joins again, as if it had
 * restarted: what it ran is claimed from the log, by it or by another node. Renewal ({@link
 * #renew}) and takeover ({@link #takeOver}) run on threads of their own, so that a long takeover
 * never delays a renewal.
 */
public final class Membership {
  private static final Logger log = LoggerFactory.getLogger(Membership.class);

  private final NodeLeases leases;
  private final LogReader reader;
  private final DecisionLog decisionLog;
  private final TransactionEngine engine;
  private final Clock clock;
  private final String nodeId;
  private final long leaseMillis;
  private final int claimBatch;
  private volatile String address;
  private volatile Owner self;

  /** Monotonic time the last successful renewal was sent at; a lease lasts from there. */
  private long renewedAtNanos;

  private final Object leaseLock = new Object();
  private final ScheduledExecutorService renewals =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "twopc-lease");
            t.setDaemon(true);
            return t;
          });
  private final Object takeoverLock = new Object();

  public Membership(
      NodeLeases leases,
      LogReader reader,
      DecisionLog decisionLog,
      TransactionEngine engine,
      Clock clock,
      String nodeId,
      Duration lease,
      int claimBatch) {
    this.leases = leases;
    this.reader = reader;
    this.decisionLog = decisionLog;
    this.engine = engine;
    this.clock = clock;
    this.nodeId = nodeId;
    this.leaseMillis = lease.toMillis();
    this.claimBatch = claimBatch;
  }

  public String nodeId() {
    return nodeId;
  }

  /** This node's current epoch. */
  public Owner self() {
    return self;
  }

  /** Where clients reach this node, once it listens (shown in the node list): recorded now. */
  public void advertise(String address) {
    this.address = address;
    renew();
  }

  /**
   * Joins, starts renewing the lease (on a thread of its own, five times per lease, from now on: a
   * recovery longer than a lease must not cost the lease) and recovers everything free to claim,
   * before the node serves.
   */
  public RecoverySummary start() throws IOException {
    try {
      join();
      long every = Math.max(1, leaseMillis / 5);
      Completions.every(renewals, "lease", this::renew, every, TimeUnit.MILLISECONDS);
      List<String> fenced = leases.fenceLapsed();
      if (!fenced.isEmpty()) {
        log.info("event=nodes_fenced nodes={} by={}", fenced, nodeId);
      }
    } catch (LogStoreException e) {
      renewals.shutdownNow();
      throw new IOException("cannot join the shared decision log: " + e.getMessage(), e);
    }
    try {
      return Recovery.run(
          reader,
          () -> leases.claim(self, claimBatch),
          decisionLog,
          engine,
          clock,
          "the coordinator that ran it stopped before a decision");
    } catch (IOException | RuntimeException e) {
      renewals.shutdownNow();
      throw e;
    }
  }

  private void join() {
    // guarded by leaseLock, or before any renewal runs
    long sent = System.nanoTime();
    self = leases.join(nodeId, address, leaseMillis);
    renewedAtNanos = sent;
    log.info("event=node_joined node={} epoch={} lease_ms={}", nodeId, self.epoch(), leaseMillis);
  }

  /**
   * Renews the lease, or, finding it lapsed, drops what this node ran and joins again. Runs on a
   * thread of its own, five times per lease: a takeover of much work must not hold it up.
   */
  public void renew() {
    synchronized (leaseLock) {
      long sent = System.nanoTime();
      boolean renewed;
      try {
        renewed = leases.renew(self, address, leaseMillis);
      } catch (LogStoreException e) {
        log.warn("event=lease_renew_failed node={} error=\"{}\"", nodeId, e.getMessage());
        if (System.nanoTime() - renewedAtNanos < leaseMillis * 1_000_000) {
          return; // the lease may still hold; nothing else can be done without the database
        }
        renewed = false;
      }
      if (renewed) {
        renewedAtNanos = sent;
        return;
      }
      int dropped =
          engine.abandonAll(
              "node " + nodeId + " lost its lease on the shared log; ask any node for the outcome");
      log.error(
          "event=lease_lost node={} epoch={} dropped={} detail=\"paused or cut off from the"
              + " database past its lease; rejoining\"",
          nodeId,
          self.epoch(),
          dropped);
      try {
        join();
      } catch (LogStoreException e) {
        log.warn("event=rejoin_failed node={} error=\"{}\"", nodeId, e.getMessage());
      }
    }
  }

  /**
   * Fences the nodes whose lease lapsed and claims what is free, in batches, resuming each claimed
   * transaction as restart recovery does; stops when this node's epoch changes under it (its own
   * lease lapsed meanwhile). Runs on its own thread.
   */
  public void takeOver() {
    synchronized (takeoverLock) {
      try {
        List<String> fenced = leases.fenceLapsed();
        if (!fenced.isEmpty()) {
          log.warn("event=nodes_fenced nodes={} by={}", fenced, nodeId);
        }
        Owner as = self;
        List<StoredTransaction> claimed;
        do {
          claimed = leases.claim(as, claimBatch);
          for (StoredTransaction tx : claimed) {
            if (!self.equals(as)) {
              return; // rejoined: what was claimed under the old epoch is free again
            }
            Recovery.Resumed kind =
                Recovery.resumeOne(
                    tx,
                    decisionLog,
                    engine,
                    clock,
                    "the coordinator that ran it lost its lease before a decision");
            log.info(
                "event=claimed tx={} node={} epoch={} resumed={}",
                tx.txId(),
                nodeId,
                as.epoch(),
                kind);
          }
        } while (claimed.size() == claimBatch);
      } catch (LogStoreException | IOException e) {
        log.warn("event=takeover_failed node={} error=\"{}\"", nodeId, e.getMessage());
      }
    }
  }

  /**
   * A graceful stop: no more renewals, and the lease ends now, so other nodes claim what is left at
   * their next takeover round.
   */
  public void leave() {
    renewals.shutdownNow();
    try {
      leases.release(self);
      log.info("event=node_left node={} epoch={}", nodeId, self.epoch());
    } catch (LogStoreException e) {
      log.warn("event=leave_failed node={} error=\"{}\"", nodeId, e.getMessage());
    }
  }

  /** The unfinished transactions this node owns (the liveness check's work list). */
  public List<StoredTransaction> owned() {
    return leases.owned(self);
  }
}
