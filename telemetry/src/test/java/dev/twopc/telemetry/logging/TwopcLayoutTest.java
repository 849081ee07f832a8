package dev.twopc.telemetry.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TwopcLayoutTest {
  private static final String ISO =
      "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)";

  private final LoggerContext context = new LoggerContext();
  private final Logger logger = context.getLogger("dev.twopc.participant.internal.BranchEngine");

  private TwopcLayout layout(String format) {
    TwopcLayout layout = new TwopcLayout();
    layout.setContext(context);
    layout.setFormat(format);
    layout.start();
    return layout;
  }

  private LoggingEvent event(Level level, String message, Throwable t, Object... args) {
    return new LoggingEvent(TwopcLayoutTest.class.getName(), logger, level, message, t, args);
  }

  @Test
  void textIsOneLineWithAnIsoTimestamp() {
    String line =
        layout("text")
            .doLayout(
                event(
                    Level.INFO,
                    "event=branch_prepared participant={} tx={} vote=YES locks={}",
                    null,
                    "orders",
                    "t-1",
                    "[sku-1]"));
    assertTrue(
        line.matches(
            ISO
                + " INFO  \\["
                + Thread.currentThread().getName()
                + "\\] BranchEngine - event=branch_prepared participant=orders tx=t-1 vote=YES"
                + " locks=\\[sku-1\\]\\R"),
        line);
    String failed =
        layout("text")
            .doLayout(
                event(
                    Level.WARN,
                    "event=commit_failed participant={} tx={} phase=commit",
                    new IllegalStateException("x"),
                    "orders",
                    "t-1"));
    assertTrue(
        failed.contains(
            "event=commit_failed participant=orders tx=t-1 phase=commit"
                + System.lineSeparator()
                + "java.lang.IllegalStateException: x"),
        failed);
    assertTrue(failed.contains("\tat dev.twopc.telemetry.logging.TwopcLayoutTest"), failed);
  }

  @Test
  void jsonHasTheMessagesPairsAsFields() {
    TwopcLayout layout = layout("json");
    assertTrue(layout.json());
    String line =
        layout.doLayout(
            event(
                Level.INFO,
                "event=in_doubt_resolved participant={} tx={} outcome=COMMITTED detail=\"{}\"",
                null,
                "orders",
                "7f3e",
                "asked the coordinator, it said \"committed\""));
    assertTrue(line.endsWith(System.lineSeparator()), line);
    String json = line.strip();
    assertFalse(json.contains("\n"), json);
    Map<String, String> f = JsonObjects.parse(json);
    assertEquals(
        List.of(
            "ts",
            "level",
            "logger",
            "thread",
            "event",
            "participant",
            "tx",
            "outcome",
            "detail",
            "message"),
        List.copyOf(f.keySet()));
    assertTrue(
        f.get("ts").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), f.get("ts"));
    assertEquals("INFO", f.get("level"));
    assertEquals("dev.twopc.participant.internal.BranchEngine", f.get("logger"));
    assertEquals(Thread.currentThread().getName(), f.get("thread"));
    assertEquals("in_doubt_resolved", f.get("event"));
    assertEquals("orders", f.get("participant"));
    assertEquals("7f3e", f.get("tx"));
    assertEquals("COMMITTED", f.get("outcome"));
    assertEquals("asked the coordinator, it said \"committed\"", f.get("detail"));
    assertEquals(
        "event=in_doubt_resolved participant=orders tx=7f3e outcome=COMMITTED"
            + " detail=\"asked the coordinator, it said \"committed\"\"",
        f.get("message"));
  }

  @Test
  void jsonEscapesWhatJsonMust() {
    String odd =
        "quote \" backslash \\ newline \n tab \t cr \r bell \u0007 nul \u0000"
            + " line-sep \u2028 unicode é 日本 🙂 lone \ud800 end";
    String line = layout("json").doLayout(event(Level.ERROR, "event=odd detail=\"{}\"", null, odd));
    String json = line.strip();
    assertFalse(json.contains("\n") || json.contains("\r") || json.contains("\u2028"), json);
    Map<String, String> f = JsonObjects.parse(json);
    assertEquals("event=odd detail=\"" + odd + "\"", f.get("message"));
    assertEquals("odd", f.get("event"));
    assertTrue(json.contains("é 日本 🙂"), json); // non-ASCII stays readable (UTF-8)
  }

  @Test
  void anExceptionGivesErrorAndStack() {
    Exception cause = new IllegalStateException("store \"down\"\nretry later");
    String line =
        layout("json")
            .doLayout(
                event(
                    Level.WARN,
                    "event=in_doubt_unresolved participant={} tx={} error=\"{}\" retry_in={}",
                    cause,
                    "orders",
                    "t-9",
                    "UNAVAILABLE",
                    "PT1S"));
    Map<String, String> f = JsonObjects.parse(line.strip());
    assertEquals("java.lang.IllegalStateException: store \"down\"\nretry later", f.get("error"));
    assertTrue(f.get("stack").startsWith("java.lang.IllegalStateException: store"), f.get("stack"));
    assertTrue(
        f.get("stack").contains("\tat dev.twopc.telemetry.logging.TwopcLayoutTest"),
        f.get("stack"));
    // the message's own error= does not overwrite the exception's
    assertEquals("UNAVAILABLE", f.get("msg.error"));
    assertEquals("PT1S", f.get("retry_in"));
    assertEquals("WARN", f.get("level"));
  }

  @Test
  void aQuotedArgumentIsItsExactText() {
    String error = "UNAVAILABLE: \"db\" said \" next=y\nand more";
    Map<String, String> f =
        JsonObjects.parse(
            layout("json")
                .doLayout(
                    event(
                        Level.WARN,
                        "event=decision_write_failed tx={} error=\"{}\" listen={}:{}",
                        null,
                        "t-1",
                        error,
                        "*",
                        7000))
                .strip());
    assertEquals(error, f.get("error"));
    assertEquals("*:7000", f.get("listen"));
    assertFalse(f.containsKey("next"), f.toString());
    assertEquals(
        "event=decision_write_failed tx=t-1 error=\"" + error + "\" listen=*:7000",
        f.get("message"));
    // a bare {} holds pairs; a template that does not fit its arguments is read as formatted
    assertEquals(
        Map.of("event", "started", "port", "1", "resumed", "2", "kept", "3"),
        KeyValues.parse("event=started port={} {}", new Object[] {1, "resumed=2 kept=3"}));
    assertEquals(
        Map.of("event", "x", "a", "1"), KeyValues.parse("event=x a={}", new Object[] {1, 2}));
    assertEquals(
        Map.of("event", "x", "a", "1", "b", "{}"),
        KeyValues.parse("event=x a={} b={}", new Object[] {1}));
  }

  @Test
  void aPairNamedLikeALineFieldIsKeptApart() {
    Map<String, String> f =
        JsonObjects.parse(
            layout("json")
                .doLayout(event(Level.INFO, "event=x level=high message=hi error=e1", null))
                .strip());
    assertEquals("INFO", f.get("level"));
    assertEquals("high", f.get("msg.level"));
    assertEquals("hi", f.get("msg.message"));
    assertEquals("e1", f.get("error")); // no exception: error is the message's
  }

  @Test
  void theFormatComesFromThePropertyThenTheEnvironment() {
    String before = System.getProperty(TwopcLayout.FORMAT_PROPERTY);
    try {
      System.setProperty(TwopcLayout.FORMAT_PROPERTY, "JSON");
      assertTrue(layout(null).json());
      System.setProperty(TwopcLayout.FORMAT_PROPERTY, "text");
      assertFalse(layout(null).json());
      System.setProperty(TwopcLayout.FORMAT_PROPERTY, "yaml");
      assertFalse(layout(null).json()); // unknown: text, with a warning in logback's status
      System.clearProperty(TwopcLayout.FORMAT_PROPERTY);
      assertEquals(
          "json".equalsIgnoreCase(System.getenv(TwopcLayout.FORMAT_ENV)), layout(null).json());
    } finally {
      if (before == null) {
        System.clearProperty(TwopcLayout.FORMAT_PROPERTY);
      } else {
        System.setProperty(TwopcLayout.FORMAT_PROPERTY, before);
      }
    }
  }

  @Test
  void keyValuesReadsQuotedAndBareValues() {
    assertEquals(
        Map.of(
            "event",
            "started",
            "port",
            "7000",
            "store",
            "rocksdb:/data/log",
            "detail",
            "a \"b\" c\\d"),
        KeyValues.parse(
            "event=started port=7000"
                + " store=\"rocksdb:/data/log\" detail=\"a \\\"b\\\" c\\\\d\""));
    // prose and words that are not pairs are skipped; a key given twice keeps the first
    assertEquals(
        Map.of("event", "x", "tx", "1"),
        KeyValues.parse("some prose event=x tx=1 Bad=2 tx=3 =4 trailing"));
    // a quote inside a quoted value closes it only before whitespace or the end
    assertEquals(
        Map.of("error", "say \"hi\"now", "next", "y"),
        KeyValues.parse("error=\"say \"hi\"now\" next=y"));
    assertEquals(Map.of("detail", "never closed"), KeyValues.parse("detail=\"never closed"));
    assertEquals(Map.of("empty", "", "k.sub_1", "v"), KeyValues.parse("empty= k.sub_1=v"));
    assertThrows(IllegalArgumentException.class, () -> JsonObjects.parse("{\"a\":\"b\n\"}"));
  }
}
