package dev.twopc.samples.orders;

import dev.twopc.participant.BranchContext;
import dev.twopc.participant.ParticipantHandler;
import dev.twopc.participant.PrepareContext;
import dev.twopc.participant.Vote;
import dev.twopc.samples.Order;
import dev.twopc.samples.Sql;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The seed's {@code OrderParticipant} on the SDK: prepare creates the order as PENDING (NO if the
 * order id exists), commit confirms it, rollback cancels it. Where the seed kept pending orders in
 * a map that a crash empties, the PENDING row is written in the same local transaction as the SDK's
 * prepared record, so a restarted service still knows the order and its lock.
 */
public final class OrderParticipant implements ParticipantHandler {
  @Override
  public Vote prepare(PrepareContext ctx) throws SQLException {
    Order order = Order.decode(ctx.payload());
    Connection c = ctx.connection();
    ctx.lock("order:" + order.id());
    if (Sql.longValue(c, "SELECT 1 FROM ORDERS WHERE ID = ?", order.id()).isPresent()) {
      return Vote.no("order id exists: " + order.id());
    }
    Sql.update(
        c,
        "INSERT INTO ORDERS (ID, TX_ID, STATUS, ACCOUNT, AMOUNT, ITEMS) "
            + "VALUES (?, ?, 'PENDING', ?, ?, ?)",
        order.id(),
        ctx.txId(),
        order.account(),
        order.amount(),
        order.itemsText());
    return Vote.yes();
  }

  @Override
  public void commit(BranchContext ctx) throws SQLException {
    Sql.update(
        ctx.connection(),
        "UPDATE ORDERS SET STATUS = 'CONFIRMED' " + "WHERE TX_ID = ? AND STATUS = 'PENDING'",
        ctx.txId());
  }

  @Override
  public void rollback(BranchContext ctx) throws SQLException {
    Sql.update(
        ctx.connection(),
        "UPDATE ORDERS SET STATUS = 'CANCELLED' " + "WHERE TX_ID = ? AND STATUS = 'PENDING'",
        ctx.txId());
  }
}
