package dev.twopc.coordinator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every log line of every module's main code is an event: its message starts {@code
 * event=snake_case} and goes on in {@code key=value} pairs (a value with spaces quoted), so that
 * one grep, or the JSON format's fields, follows a transaction across the coordinator and its
 * participants. Reads the sources of the whole reactor (the parent of this module).
 */
class LogVocabularyTest {
  /** A call on an SLF4J logger field, up to the start of its first argument. */
  static final Pattern CALL =
      Pattern.compile(
          "\\b(?:log|LOG|logger|LOGGER)\\s*\\.\\s*(?:trace|debug|info|warn|error)\\s*\\(\\s*");

  static final Pattern EVENT = Pattern.compile("event=[a-z0-9_]+");

  /** One pair: a key, then a quoted value (\" inside) or one without spaces; or a bare {}. */
  static final Pattern PAIR =
      Pattern.compile(
          "(?:[a-z_][a-z0-9_.]*=(?:\"(?:[^\"\\\\]|\\\\.)*\"|[^\\s\"]*)|\\{\\})(?:\\s+|$)");

  @Test
  void everyLogCallInMainCodeIsAnEvent() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    List<Path> sources = new ArrayList<>();
    try (Stream<Path> modules = Files.list(root)) {
      for (Path main :
          modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList()) {
        try (Stream<Path> files = Files.walk(main)) {
          files.filter(f -> f.toString().endsWith(".java")).forEach(sources::add);
        }
      }
    }
    assertTrue(sources.size() > 50, "found the reactor's sources under " + root);
    List<String> bad = new ArrayList<>();
    int calls = 0;
    for (Path f : sources) {
      String src = Files.readString(f);
      Matcher m = CALL.matcher(src);
      while (m.find()) {
        calls++;
        String where = root.relativize(f) + ":" + line(src, m.start());
        String message = leadingLiteral(src, m.end());
        String problem = message == null ? "the message is not a string literal" : problem(message);
        if (problem != null) {
          bad.add(where + ": " + problem + ": " + message);
        }
      }
    }
    assertTrue(calls > 60, "found " + calls + " log calls");
    assertTrue(bad.isEmpty(), "log calls that are not event lines:\n" + String.join("\n", bad));
  }

  @Test
  void theCheckRefusesProseAndAcceptsEvents() {
    assertEquals(null, problem("event=branch_prepared participant={} tx={} vote=YES locks={}"));
    assertEquals(null, problem("event=insecure_listen host={} detail=\"plain, \\\"text\\\"\""));
    assertEquals(null, problem("event=started port={} {}"));
    assertTrue(problem("participant started participant={}") != null);
    assertTrue(problem("event=Started port={}") != null);
    assertTrue(problem("event=log_batch_failed error={}; retrying one by one") != null);
    assertTrue(problem("event={}_failed tx={}") != null);
    assertTrue(problem("event=x detail=\"unclosed") != null);
    String src =
        "log.warn(\"event=commit_failed participant={}\"\n" + "    + \" tx={} phase=commit\", a);";
    Matcher m = CALL.matcher(src);
    assertTrue(m.find());
    assertEquals(
        "event=commit_failed participant={} tx={} phase=commit", leadingLiteral(src, m.end()));
  }

  /** Why this message is not an event line, or null if it is one. */
  static String problem(String message) {
    Matcher e = EVENT.matcher(message);
    if (!e.lookingAt() || (e.end() < message.length() && message.charAt(e.end()) != ' ')) {
      return "does not start event=snake_case";
    }
    Matcher p = PAIR.matcher(message);
    int at = 0;
    while (at < message.length()) {
      if (!p.find(at) || p.start() != at) {
        return "not a key=value pair at \"" + message.substring(at) + "\"";
      }
      at = p.end();
    }
    return null;
  }

  /**
   * The string literals at {@code at}, concatenated while {@code +} joins literal to literal; null
   * if the argument does not start with one.
   */
  static String leadingLiteral(String src, int at) {
    StringBuilder out = new StringBuilder();
    int i = at;
    boolean any = false;
    while (i < src.length() && src.charAt(i) == '"') {
      any = true;
      i++;
      for (; src.charAt(i) != '"'; i++) {
        char c = src.charAt(i);
        if (c == '\\') {
          char n = src.charAt(++i);
          out.append(
              switch (n) {
                case 'n' -> '\n';
                case 't' -> '\t';
                default -> n;
              });
        } else {
          out.append(c);
        }
      }
      i++;
      int j = skipSpace(src, i);
      if (j < src.length() && src.charAt(j) == '+') {
        int k = skipSpace(src, j + 1);
        if (k < src.length() && src.charAt(k) == '"') {
          i = k;
          continue;
        }
      }
      break;
    }
    return any ? out.toString() : null;
  }

  private static int skipSpace(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static int line(String src, int offset) {
    int n = 1;
    for (int i = 0; i < offset; i++) {
      if (src.charAt(i) == '\n') {
        n++;
      }
    }
    return n;
  }
}
