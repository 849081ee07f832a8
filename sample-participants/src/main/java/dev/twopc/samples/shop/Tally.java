package dev.twopc.samples.shop;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a stream of orders got from the coordinator: counts per outcome and why orders aborted.
 *
 * @param abortReasons aborted orders per kind of reason (unknown SKU, out of stock, ...)
 */
public record Tally(
    int placed, int committed, int aborted, int unknown, Map<String, Integer> abortReasons) {

  public static Tally of(List<ShopClient.Placed> placed) {
    int c = 0;
    int a = 0;
    int u = 0;
    Map<String, Integer> reasons = new TreeMap<>();
    for (ShopClient.Placed p : placed) {
      switch (p.outcome()) {
        case COMMITTED -> c++;
        case ABORTED -> {
          a++;
          reasons.merge(kind(p.result().reason()), 1, Integer::sum);
        }
        default -> u++;
      }
    }
    return new Tally(placed.size(), c, a, u, Map.copyOf(reasons));
  }

  /** The abort kind of a transaction whose participant could not be reached at prepare. */
  public static final String UNREACHABLE = "participant unreachable";

  /**
   * The kind of an abort reason, for counting: the NO votes the samples give, a participant that
   * could not be reached (down or restarting), or "other".
   */
  public static String kind(String reason) {
    String r = reason.toLowerCase(Locale.ROOT);
    if (r.contains("prepare failed at")) {
      return UNREACHABLE;
    }
    for (String k :
        List.of("unknown sku", "out of stock", "insufficient funds", "order id exists", "lock")) {
      if (r.contains(k)) {
        return k.equals("lock") ? "lock wait" : k.replace("sku", "SKU");
      }
    }
    return r.isBlank() ? "no reason given" : "other";
  }

  /** e.g. {@code committed 312, aborted 58 (out of stock 19, ...), unknown 30}. */
  public String describe() {
    StringBuilder why = new StringBuilder();
    new TreeMap<>(abortReasons)
        .forEach(
            (k, n) -> why.append(why.length() == 0 ? "" : ", ").append(k).append(' ').append(n));
    return "committed "
        + committed
        + ", aborted "
        + aborted
        + (why.length() == 0 ? "" : " (" + why + ")")
        + ", unknown "
        + unknown;
  }
}
