package dev.twopc.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.participant.Vote;
import dev.twopc.samples.inventory.InventoryService;
import dev.twopc.samples.orders.OrdersService;
import dev.twopc.samples.payments.PaymentsService;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each sample handler's votes and what its data looks like after commit or rollback. */
class HandlersTest {
  @TempDir Path dir;

  private static Order order(String id, String account, long amount, Order.Line... lines) {
    return new Order(id, account, amount, List.of(lines));
  }

  private static Map<String, Object> row(Object... kv) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void inventoryVotesNoForAnUnknownSkuAndReservesNothing() throws Exception {
    try (HandlerHarness inv = new HandlerHarness(new InventoryService(), dir)) {
      Vote v =
          inv.prepare(
              "tx-1",
              order(
                  "o-1",
                  "ACCT-01",
                  100,
                  new Order.Line("SKU-01", 2),
                  new Order.Line(Catalog.UNKNOWN_SKU, 1)));
      assertEquals(Vote.no("unknown SKU SKU-404"), v);
      // SKU-01 was reserved before the unknown one was met; the NO rolled it back.
      assertEquals(
          row("sku", "SKU-01", "available", 500L, "reserved", 0L, "sold", 0L),
          inv.one("/stock/SKU-01"));
      assertEquals(List.of(), inv.read("/reservations"));
    }
  }

  @Test
  void inventoryVotesNoWhenOutOfStock() throws Exception {
    try (HandlerHarness inv = new HandlerHarness(new InventoryService(), dir)) {
      Vote v = inv.prepare("tx-1", order("o-1", "ACCT-01", 100, new Order.Line("SKU-02", 501)));
      assertEquals(Vote.Kind.NO, v.kind());
      assertTrue(v.reason().startsWith("out of stock: SKU-02 has 500"), v.reason());
      assertEquals(500L, inv.one("/stock/SKU-02").get("available"));
    }
  }

  @Test
  void inventoryLocksSortedSkusReservesThenSellsOrReleases() throws Exception {
    try (HandlerHarness inv = new HandlerHarness(new InventoryService(), dir)) {
      Order sold =
          order("o-1", "ACCT-01", 100, new Order.Line("SKU-03", 2), new Order.Line("SKU-01", 1));
      Set<String> locks = new LinkedHashSet<>();
      assertEquals(Vote.yes(), inv.prepare("tx-1", sold, locks));
      assertEquals(List.of("sku:SKU-01", "sku:SKU-03"), List.copyOf(locks));
      assertEquals(
          row("sku", "SKU-03", "available", 498L, "reserved", 2L, "sold", 0L),
          inv.one("/stock/SKU-03"));
      inv.commit("tx-1", sold);
      assertEquals(
          row("sku", "SKU-03", "available", 498L, "reserved", 0L, "sold", 2L),
          inv.one("/stock/SKU-03"));

      Order released = order("o-2", "ACCT-01", 100, new Order.Line("SKU-03", 5));
      assertEquals(Vote.yes(), inv.prepare("tx-2", released));
      inv.rollback("tx-2", released);
      assertEquals(
          row("sku", "SKU-03", "available", 498L, "reserved", 0L, "sold", 2L),
          inv.one("/stock/SKU-03"));
      assertEquals(
          List.of("SOLD", "SOLD", "RELEASED"),
          inv.read("/reservations").stream().map(r -> r.get("state")).toList());
    }
  }

  @Test
  void paymentsVotesNoForInsufficientFunds() throws Exception {
    try (HandlerHarness pay = new HandlerHarness(new PaymentsService(), dir)) {
      Vote v =
          pay.prepare(
              "tx-1", order("o-1", Catalog.BROKE_ACCOUNT, 101, new Order.Line("SKU-01", 1)));
      assertEquals(Vote.Kind.NO, v.kind());
      assertTrue(v.reason().startsWith("insufficient funds: ACCT-BROKE has 100"), v.reason());
      assertEquals(
          row("account", "ACCT-BROKE", "balance", 100L, "held", 0L, "charged", 0L),
          pay.one("/accounts/ACCT-BROKE"));
    }
  }

  @Test
  void paymentsVotesNoForAnUnknownAccount() throws Exception {
    try (HandlerHarness pay = new HandlerHarness(new PaymentsService(), dir)) {
      assertEquals(
          Vote.no("unknown account ACCT-NONE"),
          pay.prepare("tx-1", order("o-1", "ACCT-NONE", 1, new Order.Line("SKU-01", 1))));
      assertEquals(List.of(), pay.read("/holds"));
    }
  }

  @Test
  void paymentsHoldsThenChargesOrReleases() throws Exception {
    try (HandlerHarness pay = new HandlerHarness(new PaymentsService(), dir)) {
      Order charged = order("o-1", "ACCT-01", 300, new Order.Line("SKU-01", 1));
      Set<String> locks = new LinkedHashSet<>();
      assertEquals(Vote.yes(), pay.prepare("tx-1", charged, locks));
      assertEquals(Set.of("account:ACCT-01"), locks);
      assertEquals(
          row("account", "ACCT-01", "balance", 999_700L, "held", 300L, "charged", 0L),
          pay.one("/accounts/ACCT-01"));
      pay.commit("tx-1", charged);
      Order released = order("o-2", "ACCT-01", 50, new Order.Line("SKU-01", 1));
      assertEquals(Vote.yes(), pay.prepare("tx-2", released));
      pay.rollback("tx-2", released);
      assertEquals(
          row("account", "ACCT-01", "balance", 999_700L, "held", 0L, "charged", 300L),
          pay.one("/accounts/ACCT-01"));
    }
  }

  @Test
  void ordersVotesNoForADuplicateOrderId() throws Exception {
    try (HandlerHarness orders = new HandlerHarness(new OrdersService(), dir)) {
      Order o = order("o-1", "ACCT-01", 300, new Order.Line("SKU-01", 1));
      assertEquals(Vote.yes(), orders.prepare("tx-1", o));
      orders.commit("tx-1", o);
      assertEquals(Vote.no("order id exists: o-1"), orders.prepare("tx-2", o));
      assertEquals("CONFIRMED", orders.one("/orders/o-1").get("status"));
      assertEquals("tx-1", orders.one("/orders/o-1").get("tx"));
    }
  }

  @Test
  void ordersArePendingAtPrepareThenConfirmedOrCancelled() throws Exception {
    try (HandlerHarness orders = new HandlerHarness(new OrdersService(), dir)) {
      Order a = order("o-a", "ACCT-01", 300, new Order.Line("SKU-01", 1));
      Order b = order("o-b", "ACCT-02", 200, new Order.Line("SKU-02", 1));
      Set<String> locks = new LinkedHashSet<>();
      assertEquals(Vote.yes(), orders.prepare("tx-a", a, locks));
      assertEquals(Set.of("order:o-a"), locks);
      assertEquals(Vote.yes(), orders.prepare("tx-b", b));
      assertEquals("PENDING", orders.one("/orders/o-a").get("status"));
      orders.commit("tx-a", a);
      orders.rollback("tx-b", b);
      assertEquals("CONFIRMED", orders.one("/orders/o-a").get("status"));
      assertEquals("CANCELLED", orders.one("/orders/o-b").get("status"));
      assertEquals(
          "orders=2 pending=0 confirmed=1 cancelled=1 confirmed_amount=300",
          Fields.format(orders.one("/totals")));
      assertNull(orders.read("/orders/o-none"));
    }
  }

  @Test
  void orderPayloadRoundTripsAndMergesLinesBySku() {
    Order o =
        order(
            "o-1",
            "ACCT-01",
            300,
            new Order.Line("SKU-02", 1),
            new Order.Line("SKU-01", 2),
            new Order.Line("SKU-02", 3));
    assertEquals("order=o-1 account=ACCT-01 amount=300 items=SKU-01:2,SKU-02:4", o.toLine());
    assertEquals(o, Order.decode(o.encode()));
  }
}
