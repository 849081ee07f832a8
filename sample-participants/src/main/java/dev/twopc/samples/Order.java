package dev.twopc.samples;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An order: what the shop sends to each of the three services as its branch payload, e.g. {@code
 * order=o-1a2b-0007 account=ACCT-03 amount=750 items=SKU-01:2,SKU-05:1}. Each service reads the
 * part it owns: inventory the items, payments the account and amount, orders all of it.
 *
 * @param amount the price to charge, in cents
 * @param items the lines, at most one per SKU, sorted by SKU
 */
public record Order(String id, String account, long amount, List<Line> items) {
  /** One line of an order. */
  public record Line(String sku, int quantity) {
    public Line {
      Objects.requireNonNull(sku, "sku");
      if (quantity <= 0) {
        throw new IllegalArgumentException("quantity must be positive, was " + quantity);
      }
    }
  }

  public Order {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(account, "account");
    if (amount < 0) {
      throw new IllegalArgumentException("amount must not be negative, was " + amount);
    }
    if (items.isEmpty()) {
      throw new IllegalArgumentException("an order needs at least one item");
    }
    // One line per SKU, sorted: a service that locks the SKUs in this order never deadlocks
    // with another order locking an overlapping set.
    Map<String, Integer> bySku = new TreeMap<>();
    for (Line l : items) {
      bySku.merge(l.sku(), l.quantity(), Integer::sum);
    }
    List<Line> merged = new ArrayList<>();
    bySku.forEach((sku, q) -> merged.add(new Line(sku, q)));
    items = List.copyOf(merged);
  }

  /** The payload bytes of every branch of this order. */
  public byte[] encode() {
    return toLine().getBytes(UTF_8);
  }

  public String toLine() {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("order", id);
    f.put("account", account);
    f.put("amount", amount);
    f.put("items", itemsText());
    return Fields.format(f);
  }

  /** {@code SKU-01:2,SKU-05:1}. */
  public String itemsText() {
    StringBuilder sb = new StringBuilder();
    for (Line l : items) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(l.sku()).append(':').append(l.quantity());
    }
    return sb.toString();
  }

  /** Reads a payload; a malformed one is an {@link IllegalArgumentException} (a NO vote). */
  public static Order decode(byte[] payload) {
    Map<String, String> f = Fields.parse(new String(payload, UTF_8));
    List<Line> lines = new ArrayList<>();
    for (String item : Fields.get(f, "items").split(",")) {
      int colon = item.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("item must be SKU:QUANTITY, was '" + item + "'");
      }
      lines.add(new Line(item.substring(0, colon), Integer.parseInt(item.substring(colon + 1))));
    }
    return new Order(
        Fields.get(f, "order"), Fields.get(f, "account"), Fields.getLong(f, "amount"), lines);
  }
}
