package dev.twopc.telemetry.logging;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code key=value} pairs of an event line such as
 * {@code event=in_doubt_resolved participant=orders tx=7f3 outcome=COMMITTED}. A key is
 * {@code [a-z_][a-z0-9_.]*}; a value runs to the next whitespace, or is {@code "quoted"} with
 * {@code \"} and {@code \\} inside (a quote closes it only before whitespace or the end, so a
 * stray quote in an interpolated error message does not cut the value short). Words that are not
 * pairs are skipped; of a key given twice the first is kept.
 */
public final class KeyValues {
  private KeyValues() {}

  /** The pairs in order of appearance. */
  public static Map<String, String> parse(String message) {
    Map<String, String> out = new LinkedHashMap<>();
    if (message == null) {
      return out;
    }
    int n = message.length();
    int i = 0;
    while (i < n) {
      while (i < n && Character.isWhitespace(message.charAt(i))) {
        i++;
      }
      int keyStart = i;
      if (i < n && isKeyStart(message.charAt(i))) {
        i++;
        while (i < n && isKeyPart(message.charAt(i))) {
          i++;
        }
      }
      if (i == keyStart || i >= n || message.charAt(i) != '=') {
        while (i < n && !Character.isWhitespace(message.charAt(i))) {
          i++; // not a pair: skip the word
        }
        continue;
      }
      String key = message.substring(keyStart, i);
      i++;
      String value;
      if (i < n && message.charAt(i) == '"') {
        StringBuilder v = new StringBuilder();
        i++;
        for (; i < n; i++) {
          char c = message.charAt(i);
          if (c == '\\' && i + 1 < n
              && (message.charAt(i + 1) == '"' || message.charAt(i + 1) == '\\')) {
            v.append(message.charAt(++i));
          } else if (c == '"' && (i + 1 == n || Character.isWhitespace(message.charAt(i + 1)))) {
            break;
          } else {
            v.append(c);
          }
        }
        i++;
        value = v.toString();
      } else {
        int start = i;
        while (i < n && !Character.isWhitespace(message.charAt(i))) {
          i++;
        }
        value = message.substring(start, i);
      }
      out.putIfAbsent(key, value);
    }
    return out;
  }

  private static boolean isKeyStart(char c) {
    return (c >= 'a' && c <= 'z') || c == '_';
  }

  private static boolean isKeyPart(char c) {
    return isKeyStart(c) || (c >= '0' && c <= '9') || c == '.';
  }
}
