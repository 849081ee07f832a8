package dev.twopc.telemetry.logging;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code key=value} pairs of an event line such as {@code event=in_doubt_resolved
 * participant=orders tx=7f3 outcome=COMMITTED}. A key is {@code [a-z_][a-z0-9_.]*}; a value runs to
 * the next whitespace, or is {@code "quoted"} with {@code \"} and {@code \\} inside (a quote closes
 * it only before whitespace or the end). Words that are not pairs are skipped; of a key given twice
 * the first is kept.
 *
 * <p>Read from the SLF4J template and its arguments, a {@code {}} in a value is the argument
 * itself, whatever it holds: {@code error="{}"} with an exception message full of quotes and spaces
 * is that message, exactly, not what a reader of the formatted line could make of it. A bare {@code
 * {}} word is an argument that holds pairs itself ({@code event=started ... {}}).
 */
public final class KeyValues {
  private KeyValues() {}

  /** The pairs of a formatted message (or of a template without arguments), in order. */
  public static Map<String, String> parse(String message) {
    return parse(message, null);
  }

  /**
   * The pairs of {@code template} with its placeholders taken from {@code args}; when their counts
   * differ (a template that does not fit its arguments), those of the message formatted as SLF4J
   * would.
   */
  public static Map<String, String> parse(String template, Object[] args) {
    Map<String, String> out = new LinkedHashMap<>();
    if (template == null) {
      return out;
    }
    if (args == null || placeholders(template) == args.length) {
      new Reader(template, args, out).run();
      return out;
    }
    StringBuilder formatted = new StringBuilder();
    int from = 0;
    int k = 0;
    for (int at = template.indexOf("{}");
        at >= 0 && k < args.length;
        at = template.indexOf("{}", from)) {
      formatted.append(template, from, at).append(args[k++]);
      from = at + 2;
    }
    return parse(formatted.append(template.substring(from)).toString());
  }

  private static int placeholders(String s) {
    int n = 0;
    for (int i = s.indexOf("{}"); i >= 0; i = s.indexOf("{}", i + 2)) {
      n++;
    }
    return n;
  }

  private static final class Reader {
    private final String s;
    private final Object[] args;
    private final Map<String, String> out;
    private final int n;
    private int i;
    private int next;

    Reader(String s, Object[] args, Map<String, String> out) {
      this.s = s;
      this.args = args;
      this.out = out;
      this.n = s.length();
    }

    /** At {@code i}: a placeholder to substitute? Then it is consumed and appended. */
    private boolean substitute(StringBuilder v) {
      if (args != null && s.startsWith("{}", i)) {
        v.append(args[next++]);
        i += 2;
        return true;
      }
      return false;
    }

    void run() {
      while (i < n) {
        while (i < n && Character.isWhitespace(s.charAt(i))) {
          i++;
        }
        int keyStart = i;
        if (i < n && isKeyStart(s.charAt(i))) {
          i++;
          while (i < n && isKeyPart(s.charAt(i))) {
            i++;
          }
        }
        if (i == keyStart || i >= n || s.charAt(i) != '=') {
          skipWord(keyStart);
          continue;
        }
        String key = s.substring(keyStart, i);
        i++;
        StringBuilder v = new StringBuilder();
        if (i < n && s.charAt(i) == '"') {
          i++;
          while (i < n) {
            char c = s.charAt(i);
            if (substitute(v)) {
              continue;
            }
            if (c == '\\' && i + 1 < n && (s.charAt(i + 1) == '"' || s.charAt(i + 1) == '\\')) {
              v.append(s.charAt(i + 1));
              i += 2;
            } else if (c == '"' && (i + 1 == n || Character.isWhitespace(s.charAt(i + 1)))) {
              i++;
              break;
            } else {
              v.append(c);
              i++;
            }
          }
        } else {
          while (i < n && !Character.isWhitespace(s.charAt(i))) {
            if (!substitute(v)) {
              v.append(s.charAt(i++));
            }
          }
        }
        out.putIfAbsent(key, v.toString());
      }
    }

    /** Not a pair: skip the word, counting its placeholders; a bare one holds pairs. */
    private void skipWord(int start) {
      i = start;
      boolean bare =
          args != null
              && s.startsWith("{}", i)
              && (i + 2 == n || Character.isWhitespace(s.charAt(i + 2)));
      if (bare) {
        parse(String.valueOf(args[next++]), null).forEach(out::putIfAbsent);
        i += 2;
        return;
      }
      while (i < n && !Character.isWhitespace(s.charAt(i))) {
        if (args != null && s.startsWith("{}", i)) {
          next++;
          i += 2;
        } else {
          i++;
        }
      }
    }
  }

  private static boolean isKeyStart(char c) {
    return (c >= 'a' && c <= 'z') || c == '_';
  }

  private static boolean isKeyPart(char c) {
    return isKeyStart(c) || (c >= '0' && c <= '9') || c == '.';
  }
}
