package dev.twopc.participant;

/**
 * The resource-specific part of a participant: what prepare, commit and rollback mean for its data.
 * The SDK does the rest (locks' lifetime, the durable pending map, idempotency, recovery).
 *
 * <h2>Threading</h2>
 *
 * Methods are called from the participant's executor, concurrently for different transactions, but
 * never concurrently for the same transaction id. Implementations must be thread-safe.
 *
 * <h2>Idempotency</h2>
 *
 * <ul>
 *   <li>{@link #prepare} runs at most once per transaction whose vote was recorded: a duplicate
 *       Prepare is answered from the record without calling it. It may run again only if the
 *       previous attempt was not recorded (the process crashed first), so it must not have effects
 *       outside {@link BranchContext#connection()}.
 *   <li>{@link #commit} and {@link #rollback} take effect exactly once when they write only through
 *       {@link BranchContext#connection()}: the SDK commits those writes in the same local
 *       transaction that removes the branch from its pending map. If one throws, nothing of that
 *       attempt is kept, the branch stays prepared with its locks, and it is called again later
 *       (the coordinator retries phase 2 until acknowledged; so does recovery). Effects outside the
 *       connection must be idempotent.
 *   <li>After a restart, commit or rollback may be called for a branch prepared by an earlier
 *       process, with the payload and staged work recorded at prepare.
 * </ul>
 *
 * <pre>{@code
 * final class StockHandler implements ParticipantHandler {
 *   public Vote prepare(PrepareContext ctx) throws SQLException {
 *     String sku = new String(ctx.payload(), UTF_8);
 *     ctx.lock(sku);                                   // NO vote if held past the lock wait
 *     try (PreparedStatement ps = ctx.connection().prepareStatement(
 *         "UPDATE stock SET reserved = reserved + 1 WHERE sku = ? AND available > reserved")) {
 *       ps.setString(1, sku);
 *       return ps.executeUpdate() == 1 ? Vote.yes() : Vote.no("out of stock: " + sku);
 *     }
 *   }
 *   public void commit(BranchContext ctx) throws SQLException { ... reserved -> sold ... }
 *   public void rollback(BranchContext ctx) throws SQLException { ... release the reservation ... }
 * }
 * }</pre>
 */
public interface ParticipantHandler {
  /**
   * Checks and stages the branch's work, taking locks with {@link PrepareContext#lock}. Writes go
   * through {@link BranchContext#connection()} and become durable with the prepared record; they
   * are rolled back if the vote is not YES. An exception votes NO (its message is the reason).
   */
  Vote prepare(PrepareContext ctx) throws Exception;

  /** Makes the prepared work final. Called only for a branch that voted YES. */
  void commit(BranchContext ctx) throws Exception;

  /**
   * Undoes the prepared work (for example releases a reservation staged at prepare). Called only
   * for a branch that voted YES and then learned the transaction aborted.
   */
  void rollback(BranchContext ctx) throws Exception;
}
