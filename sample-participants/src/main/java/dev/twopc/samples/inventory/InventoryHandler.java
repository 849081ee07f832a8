package dev.twopc.samples.inventory;

import dev.twopc.participant.BranchContext;
import dev.twopc.participant.ParticipantHandler;
import dev.twopc.participant.PrepareContext;
import dev.twopc.participant.Vote;
import dev.twopc.samples.Order;
import dev.twopc.samples.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;

/**
 * Stock per SKU. Prepare locks the order's SKUs and moves the quantity from available to reserved
 * (NO if a SKU is unknown or short); commit moves it from reserved to sold; rollback puts it back.
 * Every write goes through the branch's connection, so it becomes durable together with the SDK's
 * record of the branch, or not at all.
 */
public final class InventoryHandler implements ParticipantHandler {
  @Override
  public Vote prepare(PrepareContext ctx) throws SQLException {
    Order order = Order.decode(ctx.payload());
    Connection c = ctx.connection();
    // Held until commit or rollback: no other order can take this stock meanwhile. The items are
    // sorted by SKU, so two orders never wait for each other's locks in opposite order.
    for (Order.Line line : order.items()) {
      ctx.lock("sku:" + line.sku());
    }
    for (Order.Line line : order.items()) {
      Optional<Long> available =
          Sql.longValue(c, "SELECT AVAILABLE FROM STOCK WHERE SKU = ?", line.sku());
      if (available.isEmpty()) {
        return Vote.no("unknown SKU " + line.sku());
      }
      if (available.get() < line.quantity()) {
        return Vote.no(
            "out of stock: "
                + line.sku()
                + " has "
                + available.get()
                + ", order "
                + order.id()
                + " wants "
                + line.quantity());
      }
      Sql.update(
          c,
          "UPDATE STOCK SET AVAILABLE = AVAILABLE - ?, RESERVED = RESERVED + ? " + "WHERE SKU = ?",
          line.quantity(),
          line.quantity(),
          line.sku());
      Sql.update(
          c,
          "INSERT INTO RESERVATION (TX_ID, ORDER_ID, SKU, QUANTITY, STATE) "
              + "VALUES (?, ?, ?, ?, 'RESERVED')",
          ctx.txId(),
          order.id(),
          line.sku(),
          line.quantity());
    }
    return Vote.yes();
  }

  @Override
  public void commit(BranchContext ctx) throws SQLException {
    finish(ctx, "SOLD", "SOLD = SOLD + ?");
  }

  @Override
  public void rollback(BranchContext ctx) throws SQLException {
    finish(ctx, "RELEASED", "AVAILABLE = AVAILABLE + ?");
  }

  /** Applies what prepare reserved (the RESERVATION rows of this transaction), then marks them. */
  private static void finish(BranchContext ctx, String state, String moveTo) throws SQLException {
    Connection c = ctx.connection();
    for (Map<String, Object> r :
        Sql.rows(
            c,
            "SELECT SKU, QUANTITY FROM RESERVATION " + "WHERE TX_ID = ? AND STATE = 'RESERVED'",
            ctx.txId())) {
      Sql.update(
          c,
          "UPDATE STOCK SET RESERVED = RESERVED - ?, " + moveTo + " WHERE SKU = ?",
          r.get("quantity"),
          r.get("quantity"),
          r.get("sku"));
    }
    Sql.update(
        c,
        "UPDATE RESERVATION SET STATE = ? WHERE TX_ID = ? AND STATE = 'RESERVED'",
        state,
        ctx.txId());
  }
}
