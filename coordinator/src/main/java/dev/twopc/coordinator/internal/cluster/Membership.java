package dev.twopc.coordinator.internal.cluster;

import dev.twopc.coordinator.RecoverySummary;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This coordinator as one node of several on a shared log. At start it joins (a new epoch) and
 * recovers what is free to claim: its own earlier epochs' transactions and those of nodes whose
 * lease lapsed. Then, every {@link #tick}, it renews its lease, fences nodes whose lease lapsed and
 * claims their transactions in bounded batches, resuming each as restart recovery does: phase 2 of
 * the decided, ABORT for the undecided. A node that finds its own lease lapsed (a long pause, or
 * the database out of reach for a whole lease) drops every live transaction and joins again, as if
 * it had restarted: what it ran is claimed from the log, by it or by another node.
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

  /** Where clients reach this node, once it listens (shown in the node list). */
  public void advertise(String address) {
    this.address = address;
  }

  /** Joins and recovers everything free to claim, before the node serves. */
  public RecoverySummary start() throws IOException {
    try {
      join();
      List<String> fenced = leases.fenceLapsed();
      if (!fenced.isEmpty()) {
        log.info("event=nodes_fenced nodes={} by={}", fenced, nodeId);
      }
    } catch (LogStoreException e) {
      throw new IOException("cannot join the shared decision log: " + e.getMessage(), e);
    }
    return Recovery.run(
        reader,
        () -> leases.claim(self, claimBatch),
        decisionLog,
        engine,
        clock,
        "the coordinator that ran it stopped before a decision");
  }

  private void join() {
    long sent = System.nanoTime();
    self = leases.join(nodeId, address, leaseMillis);
    renewedAtNanos = sent;
    log.info("event=node_joined node={} epoch={} lease_ms={}", nodeId, self.epoch(), leaseMillis);
  }

  /**
   * One round: the lease, then fencing and claiming. Not thread-safe: one caller, off the engine's
   * timer (it waits on the database).
   */
  public synchronized void tick() {
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
    } else {
      lapsed();
      return;
    }
    try {
      List<String> fenced = leases.fenceLapsed();
      if (!fenced.isEmpty()) {
        log.warn("event=nodes_fenced nodes={} by={}", fenced, nodeId);
      }
      takeOver();
    } catch (LogStoreException | IOException e) {
      log.warn("event=takeover_failed node={} error=\"{}\"", nodeId, e.getMessage());
    }
  }

  private void lapsed() {
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
      takeOver();
    } catch (LogStoreException | IOException e) {
      log.warn("event=rejoin_failed node={} error=\"{}\"", nodeId, e.getMessage());
    }
  }

  private void takeOver() throws IOException {
    List<StoredTransaction> claimed;
    do {
      claimed = leases.claim(self, claimBatch);
      for (StoredTransaction tx : claimed) {
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
            self.epoch(),
            kind);
      }
    } while (claimed.size() == claimBatch);
  }

  /** A graceful stop: the lease ends now, so other nodes claim what is left at their next tick. */
  public synchronized void leave() {
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
