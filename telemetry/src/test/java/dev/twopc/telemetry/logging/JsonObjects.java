package dev.twopc.telemetry.logging;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A strict reader of the one JSON shape the log writes, an object of string fields: anything else
 * (a raw control character, a bad escape, text after the object) is an error, so a test that reads
 * a line back proves it is valid JSON.
 */
final class JsonObjects {
  private final String s;
  private int i;

  private JsonObjects(String s) {
    this.s = s;
  }

  static Map<String, String> parse(String json) {
    JsonObjects p = new JsonObjects(json);
    Map<String, String> out = p.object();
    if (p.i != json.length()) {
      throw new IllegalArgumentException("text after the object at " + p.i + ": " + json);
    }
    return out;
  }

  private Map<String, String> object() {
    Map<String, String> out = new LinkedHashMap<>();
    expect('{');
    if (peek() == '}') {
      i++;
      return out;
    }
    while (true) {
      String key = string();
      expect(':');
      if (out.put(key, string()) != null) {
        throw new IllegalArgumentException("duplicate field " + key);
      }
      char c = next();
      if (c == '}') {
        return out;
      }
      if (c != ',') {
        throw new IllegalArgumentException("expected , or } at " + (i - 1) + ": " + s);
      }
    }
  }

  private String string() {
    expect('"');
    StringBuilder b = new StringBuilder();
    while (true) {
      char c = next();
      if (c == '"') {
        return b.toString();
      }
      if (c < 0x20) {
        throw new IllegalArgumentException("raw control character at " + (i - 1));
      }
      if (c != '\\') {
        b.append(c);
        continue;
      }
      char e = next();
      switch (e) {
        case '"', '\\', '/' -> b.append(e);
        case 'b' -> b.append('\b');
        case 'f' -> b.append('\f');
        case 'n' -> b.append('\n');
        case 'r' -> b.append('\r');
        case 't' -> b.append('\t');
        case 'u' -> {
          b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          i += 4;
        }
        default -> throw new IllegalArgumentException("bad escape \\" + e + " at " + (i - 1));
      }
    }
  }

  private void expect(char c) {
    if (next() != c) {
      throw new IllegalArgumentException("expected " + c + " at " + (i - 1) + ": " + s);
    }
  }

  private char peek() {
    if (i >= s.length()) {
      throw new IllegalArgumentException("unexpected end: " + s);
    }
    return s.charAt(i);
  }

  private char next() {
    char c = peek();
    i++;
    return c;
  }
}
