package dev.twopc.samples;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The samples' one text format: a record is one line of {@code key=value} pairs separated by
 * spaces, values without spaces. Order payloads use it, and so do the read APIs (one record per
 * line), so {@code curl} output and logs read the same way and a grep finds an order everywhere.
 */
public final class Fields {
  private Fields() {}

  /** {@code key=value key=value}, in the map's order. */
  public static String format(Map<String, ?> fields) {
    StringJoiner line = new StringJoiner(" ");
    fields.forEach(
        (k, v) -> {
          String s = String.valueOf(v);
          if (s.isEmpty() || s.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException(
                "field " + k + " must be non-empty without spaces: '" + s + "'");
          }
          line.add(k + "=" + s);
        });
    return line.toString();
  }

  /** The pairs of one line, in order. */
  public static Map<String, String> parse(String line) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String pair : line.trim().split("\\s+")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected key=value, was '" + pair + "'");
      }
      fields.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return fields;
  }

  /** The value of {@code key}, which must be present. */
  public static String get(Map<String, String> fields, String key) {
    String v = fields.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing field " + key + " in " + fields);
    }
    return v;
  }

  public static long getLong(Map<String, String> fields, String key) {
    try {
      return Long.parseLong(get(fields, key));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "field " + key + " is not a number: " + fields.get(key), e);
    }
  }
}
