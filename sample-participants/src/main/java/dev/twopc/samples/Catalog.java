package dev.twopc.samples;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo shop's data: what {@code --seed} puts in the services and what the shop client orders.
 * Twenty SKUs with stock and a price, twenty funded accounts, and one account that can pay for
 * nothing ({@link #BROKE_ACCOUNT}), so that some orders are doomed by design.
 */
public final class Catalog {
  /** An account seeded with almost nothing: every order charged to it lacks funds. */
  public static final String BROKE_ACCOUNT = "ACCT-BROKE";

  /** A SKU nobody stocks. */
  public static final String UNKNOWN_SKU = "SKU-404";

  private final Map<String, Long> stock = new LinkedHashMap<>();
  private final Map<String, Long> prices = new LinkedHashMap<>();
  private final Map<String, Long> balances = new LinkedHashMap<>();

  private Catalog() {}

  /** The demo catalog: 500 units of each SKU, 1,000,000 cents in each funded account. */
  public static Catalog demo() {
    return demo(1);
  }

  /**
   * The demo catalog with {@code scale} times the stock and the balances (not the broke account's),
   * for runs long and fast enough to sell out the demo's (the chaos run).
   */
  public static Catalog demo(int scale) {
    if (scale < 1) {
      throw new IllegalArgumentException("catalog scale must be at least 1, was " + scale);
    }
    Catalog c = new Catalog();
    for (int i = 1; i <= 20; i++) {
      String sku = String.format("SKU-%02d", i);
      c.stock.put(sku, 500L * scale);
      c.prices.put(sku, 100L + 25L * i);
    }
    for (int i = 1; i <= 20; i++) {
      c.balances.put(String.format("ACCT-%02d", i), 1_000_000L * scale);
    }
    c.balances.put(BROKE_ACCOUNT, 100L);
    return c;
  }

  /** Initial stock per SKU. */
  public Map<String, Long> stock() {
    return Collections.unmodifiableMap(stock);
  }

  /** Price per SKU, in cents. */
  public long price(String sku) {
    Long p = prices.get(sku);
    return p == null ? 999L : p;
  }

  /** Initial balance per account, in cents. */
  public Map<String, Long> balances() {
    return Collections.unmodifiableMap(balances);
  }

  public List<String> skus() {
    return new ArrayList<>(stock.keySet());
  }

  /** The funded accounts (all but the broke one). */
  public List<String> accounts() {
    List<String> a = new ArrayList<>(balances.keySet());
    a.remove(BROKE_ACCOUNT);
    return a;
  }

  public long totalStock() {
    return stock.values().stream().mapToLong(Long::longValue).sum();
  }

  public long totalBalance() {
    return balances.values().stream().mapToLong(Long::longValue).sum();
  }
}
