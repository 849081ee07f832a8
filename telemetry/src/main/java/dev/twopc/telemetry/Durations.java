package dev.twopc.telemetry;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The one duration syntax of every twopc command and every flag ({@code 500ms}, {@code 5s}, {@code
 * 3m}, {@code 2h}, {@code 7d}, or ISO-8601 such as {@code PT5S}), how durations are printed back,
 * and ages for people. The coordinator's CLI, the bench and the samples all use it (their picocli
 * flags through {@link Converter}), so a value that works for one flag works for all, and a bad one
 * gets the same message everywhere. It lives here because this module is the one every program
 * depends on and that depends on nothing of ours; like {@link TelemetryFlags}, its picocli part
 * needs picocli, an optional dependency of this module.
 */
public final class Durations {
  /** What the error messages offer. */
  static final String FORMS = "use e.g. 500ms, 5s, 3m, 2h, 7d or PT5S";

  private static final Pattern SIMPLE = Pattern.compile("(\\d{1,12})(ms|s|m|h|d)");

  private Durations() {}

  /**
   * {@code 500ms}, {@code 5s}, {@code 3m}, {@code 2h}, {@code 7d} (any case, no sign, no fraction,
   * no space), or ISO-8601 such as {@code PT5S}. Negative values are rejected; zero is allowed
   * (callers decide if it is sensible).
   *
   * @throws IllegalArgumentException one line naming the value and the accepted forms
   */
  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("empty duration: " + FORMS);
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    Matcher m = SIMPLE.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "ms":
          return Duration.ofMillis(n);
        case "s":
          return Duration.ofSeconds(n);
        case "m":
          return Duration.ofMinutes(n);
        case "h":
          return Duration.ofHours(n);
        default:
          return Duration.ofDays(n);
      }
    }
    if (t.startsWith("p")) {
      try {
        Duration d = Duration.parse(text.trim());
        if (d.isNegative()) {
          throw new IllegalArgumentException("negative duration '" + text + "': " + FORMS);
        }
        return d;
      } catch (DateTimeParseException e) {
        // fall through to the common message
      }
    }
    throw new IllegalArgumentException("bad duration '" + text + "': " + FORMS);
  }

  /**
   * The inverse of {@link #parse} for whole milliseconds, in the largest unit that is exact: {@code
   * 5s}, {@code 10m}, {@code 1500ms}.
   */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms == 0) {
      return "0s";
    }
    if (ms % 86_400_000L == 0) {
      return ms / 86_400_000L + "d";
    }
    if (ms % 3_600_000L == 0) {
      return ms / 3_600_000L + "h";
    }
    if (ms % 60_000L == 0) {
      return ms / 60_000L + "m";
    }
    if (ms % 1000L == 0) {
      return ms / 1000L + "s";
    }
    return ms + "ms";
  }

  /**
   * A compact age at most two units wide: {@code 850ms}, {@code 42s}, {@code 3m12s}, {@code 2h05m},
   * {@code 3d04h}. Negative ages (clock skew) print as {@code 0s}. For people, not for {@link
   * #parse}.
   */
  public static String age(Duration d) {
    if (d.isNegative()) {
      return "0s";
    }
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + "ms";
    }
    long s = ms / 1000;
    if (s < 60) {
      return s + "s";
    }
    if (s < 3600) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    if (s < 86_400) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
    return String.format(Locale.ROOT, "%dd%02dh", s / 86_400, (s % 86_400) / 3600);
  }

  /**
   * The picocli converter of every duration flag ({@code converter = Durations.Converter.class}),
   * so a bad value is a usage error naming the option, with {@link #parse}'s message.
   */
  public static final class Converter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
