package dev.twopc.samples.payments;

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
 * Account balances. Prepare locks the account and moves the order's amount from the balance to held
 * (NO if the account is unknown or the balance is short); commit charges it (held to charged);
 * rollback gives it back. Writes go through the branch's connection only.
 */
public final class PaymentsHandler implements ParticipantHandler {
  @Override
  public Vote prepare(PrepareContext ctx) throws SQLException {
    Order order = Order.decode(ctx.payload());
    Connection c = ctx.connection();
    ctx.lock("account:" + order.account());
    Optional<Long> balance =
        Sql.longValue(c, "SELECT BALANCE FROM ACCOUNT WHERE ID = ?", order.account());
    if (balance.isEmpty()) {
      return Vote.no("unknown account " + order.account());
    }
    if (balance.get() < order.amount()) {
      return Vote.no(
          "insufficient funds: "
              + order.account()
              + " has "
              + balance.get()
              + ", order "
              + order.id()
              + " costs "
              + order.amount());
    }
    Sql.update(
        c,
        "UPDATE ACCOUNT SET BALANCE = BALANCE - ?, HELD = HELD + ? WHERE ID = ?",
        order.amount(),
        order.amount(),
        order.account());
    Sql.update(
        c,
        "INSERT INTO HOLD (TX_ID, ORDER_ID, ACCOUNT, AMOUNT, STATE) "
            + "VALUES (?, ?, ?, ?, 'HELD')",
        ctx.txId(),
        order.id(),
        order.account(),
        order.amount());
    return Vote.yes();
  }

  @Override
  public void commit(BranchContext ctx) throws SQLException {
    finish(ctx, "CHARGED", "CHARGED = CHARGED + ?");
  }

  @Override
  public void rollback(BranchContext ctx) throws SQLException {
    finish(ctx, "RELEASED", "BALANCE = BALANCE + ?");
  }

  /** Applies the hold prepare made (the HOLD row of this transaction), then marks it. */
  private static void finish(BranchContext ctx, String state, String moveTo) throws SQLException {
    Connection c = ctx.connection();
    for (Map<String, Object> h :
        Sql.rows(
            c, "SELECT ACCOUNT, AMOUNT FROM HOLD WHERE TX_ID = ? AND STATE = 'HELD'", ctx.txId())) {
      Sql.update(
          c,
          "UPDATE ACCOUNT SET HELD = HELD - ?, " + moveTo + " WHERE ID = ?",
          h.get("amount"),
          h.get("amount"),
          h.get("account"));
    }
    Sql.update(
        c, "UPDATE HOLD SET STATE = ? WHERE TX_ID = ? AND STATE = 'HELD'", state, ctx.txId());
  }
}
