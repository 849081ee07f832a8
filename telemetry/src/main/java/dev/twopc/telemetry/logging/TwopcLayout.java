package dev.twopc.telemetry.logging;

import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The log line of twopc's programs, as text or as JSON. Text is the {@link #setPattern pattern} (an
 * ISO-8601 timestamp with its UTC offset, level, thread, logger, message). JSON, chosen by the
 * system property {@code twopc.log.format=json} or else the environment variable {@code
 * TWOPC_LOG_FORMAT=json}, is one object per line:
 *
 * <pre>{@code
 * {"ts":"2026-12-03T09:00:00.123Z","level":"INFO","logger":"dev.twopc.participant.internal.
 * InDoubtResolver","thread":"twopc-in-doubt","event":"in_doubt_resolved","participant":"orders",
 * "tx":"7f3...","outcome":"COMMITTED","message":"event=in_doubt_resolved participant=orders ..."}
 * }</pre>
 *
 * <p>Every {@code key=value} pair of the message (see {@link KeyValues}: read from the template and
 * its arguments, so that a quoted argument is its exact text) is a string field; {@code message} is
 * the whole formatted message. With an exception attached, {@code error} is its class and message
 * and {@code stack} its stack trace. A pair never overwrites a field of the line itself: one named
 * {@code ts}, {@code level}, {@code logger}, {@code thread} or {@code message} (or {@code error} or
 * {@code stack} beside an exception) is written as {@code msg.NAME}. In logback.xml:
 *
 * <pre>{@code
 * <encoder class="ch.qos.logback.core.encoder.LayoutWrappingEncoder">
 *   <charset>UTF-8</charset>
 *   <layout class="dev.twopc.telemetry.logging.TwopcLayout">
 *     <pattern>%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} - %msg%n</pattern>
 *   </layout>
 * </encoder>
 * }</pre>
 */
public final class TwopcLayout extends LayoutBase<ILoggingEvent> {
  /** The system property that chooses the format; it wins over {@link #FORMAT_ENV}. */
  public static final String FORMAT_PROPERTY = "twopc.log.format";

  /** The environment variable that chooses the format. */
  public static final String FORMAT_ENV = "TWOPC_LOG_FORMAT";

  /** The text pattern when none is configured. */
  public static final String DEFAULT_PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0} - %msg%n";

  private static final DateTimeFormatter TS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", Locale.ROOT)
          .withZone(ZoneOffset.UTC);
  private static final Set<String> FIELDS = Set.of("ts", "level", "logger", "thread", "message");

  private String pattern = DEFAULT_PATTERN;
  private String format;
  private boolean json;
  private PatternLayout text;

  /** The text format's logback pattern. */
  public void setPattern(String pattern) {
    this.pattern = pattern;
  }

  /**
   * {@code text} or {@code json}, over the property and the environment; for a configuration that
   * fixes it, and for tests.
   */
  public void setFormat(String format) {
    this.format = format;
  }

  /** Whether this layout writes JSON (known once started). */
  public boolean json() {
    return json;
  }

  @Override
  public void start() {
    String f = format;
    if (f == null || f.isBlank()) {
      f = System.getProperty(FORMAT_PROPERTY);
    }
    if (f == null || f.isBlank()) {
      f = System.getenv(FORMAT_ENV);
    }
    f = f == null || f.isBlank() ? "text" : f.trim().toLowerCase(Locale.ROOT);
    if (!f.equals("text") && !f.equals("json")) {
      addWarn(
          "unknown log format '"
              + f
              + "' ("
              + FORMAT_PROPERTY
              + " / "
              + FORMAT_ENV
              + "): text or json; writing text");
      f = "text";
    }
    json = f.equals("json");
    text = new PatternLayout();
    text.setContext(getContext());
    text.setPattern(pattern);
    text.start();
    super.start();
  }

  @Override
  public void stop() {
    if (text != null) {
      text.stop();
    }
    super.stop();
  }

  @Override
  public String doLayout(ILoggingEvent event) {
    return json ? toJson(event) : text.doLayout(event);
  }

  /** One JSON object, newline-terminated. */
  static String toJson(ILoggingEvent event) {
    StringBuilder out = new StringBuilder(256);
    out.append('{');
    field(out, "ts", TS.format(Instant.ofEpochMilli(event.getTimeStamp())));
    field(out, "level", event.getLevel().toString());
    field(out, "logger", event.getLoggerName());
    field(out, "thread", event.getThreadName());
    String message = event.getFormattedMessage();
    IThrowableProxy error = event.getThrowableProxy();
    Map<String, String> pairs =
        event.getArgumentArray() == null
            ? KeyValues.parse(message)
            : KeyValues.parse(event.getMessage(), event.getArgumentArray());
    for (Map.Entry<String, String> kv : pairs.entrySet()) {
      String key = kv.getKey();
      boolean taken =
          FIELDS.contains(key) || (error != null && (key.equals("error") || key.equals("stack")));
      field(out, taken ? "msg." + key : key, kv.getValue());
    }
    field(out, "message", message == null ? "" : message);
    if (error != null) {
      field(
          out,
          "error",
          error.getMessage() == null
              ? error.getClassName()
              : error.getClassName() + ": " + error.getMessage());
      field(out, "stack", ThrowableProxyUtil.asString(error));
    }
    out.setCharAt(out.length() - 1, '}');
    return out.append(CoreConstants.LINE_SEPARATOR).toString();
  }

  private static void field(StringBuilder out, String name, String value) {
    quote(out, name);
    out.append(':');
    quote(out, value);
    out.append(',');
  }

  /** A JSON string: quotes, backslashes, control characters and lone surrogates escaped. */
  static void quote(StringBuilder out, String s) {
    out.append('"');
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          boolean pairedHigh =
              Character.isHighSurrogate(c)
                  && i + 1 < n
                  && Character.isLowSurrogate(s.charAt(i + 1));
          boolean pairedLow =
              Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
          if (c < 0x20
              || c == '\u2028'
              || c == '\u2029'
              || (Character.isSurrogate(c) && !pairedHigh && !pairedLow)) {
            out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
