package dev.twopc.coordinator.internal.log;

import java.util.List;

/**
 * Ownership on a log several coordinator nodes share. Each node holds a lease measured on the
 * database's clock; each joining, and each fencing by another node once the lease lapsed, starts a
 * new epoch of the node. A transaction row names the node and epoch that drive it: rows of an epoch
 * older than their node's current one (or of no node) are free to claim, and owner-only writes
 * ({@link LogRecord.BranchUpdated}, {@link LogRecord.Finished}) match the row's owner and epoch, so
 * a fenced node's late writes change nothing. Decisions need no lease: they are a compare-and-set
 * on the row (safety rule 2). Every method may throw {@link LogStoreException}.
 */
public interface NodeLeases {

  /** A node as the log holds it; {@code leaseLeftMillis} is negative once its lease lapsed. */
  record Node(String nodeId, long epoch, String address, long leaseLeftMillis, boolean fenced) {}

  /**
   * Joins (or rejoins) as {@code nodeId}: a new epoch with a lease of {@code leaseMillis}. The rows
   * of its earlier epochs are free to claim from now on; from here the store writes as this node.
   */
  Owner join(String nodeId, String address, long leaseMillis);

  /**
   * Extends the lease (and records where clients reach the node, if {@code address} is not null);
   * false if it lapsed or the node was fenced (a lapsed lease is never renewed: the node must
   * rejoin, as if it had restarted).
   */
  boolean renew(Owner self, String address, long leaseMillis);

  /** Ends the lease now (a graceful stop): the node's rows are free once it is fenced. */
  void release(Owner self);

  /** Fences every node whose lease lapsed: a new epoch, so its rows are free; their ids. */
  List<String> fenceLapsed();

  /**
   * Claims up to {@code max} unfinished transactions free to claim (oldest first, skipping rows
   * another node is claiming at the same moment) for {@code self}; answers them as stored.
   */
  List<StoredTransaction> claim(Owner self, int max);

  /** The unfinished transactions {@code self} owns at its epoch, oldest first. */
  List<StoredTransaction> owned(Owner self);

  /** Every node, by id. */
  List<Node> nodes();
}
