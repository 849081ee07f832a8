package dev.twopc.coordinator.cli;

import dev.twopc.telemetry.Durations;
import dev.twopc.telemetry.MetricsText;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code twopc top}: a live view of one coordinator from its {@code /metrics} (the coordinator runs
 * with {@code --metrics-port}). Each refresh scrapes once and shows rates and latency percentiles
 * over the time since the previous scrape. On a terminal it redraws one screen; otherwise (a pipe,
 * a file, {@code --plain}) it prints one {@code key=value} line per refresh.
 */
@Command(
    name = "top",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Live view of a coordinator from its /metrics: throughput, outcomes, latency"
          + " percentiles, in-doubt count and oldest, per-participant errors.",
      "Redraws on a terminal; one key=value line per refresh otherwise."
    })
final class TopCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--metrics",
      paramLabel = "URL",
      defaultValue = "${TWOPC_METRICS_URL:-http://127.0.0.1:9464/metrics}",
      description =
          "The coordinator's metrics page (env TWOPC_METRICS_URL, default" + " ${DEFAULT-VALUE}).")
  String metrics;

  @Option(
      names = "--interval",
      paramLabel = "DURATION",
      defaultValue = "1s",
      converter = Durations.Converter.class,
      description = "Time between refreshes (default ${DEFAULT-VALUE}, at least 100ms).")
  Duration interval;

  @Option(
      names = "--count",
      paramLabel = "N",
      defaultValue = "0",
      description = "Stop after N refreshes (default: until interrupted).")
  int count;

  @Option(names = "--plain", description = "One key=value line per refresh, even on a terminal.")
  boolean plain;

  @Override
  public Integer call() throws InterruptedException {
    URI url = url();
    if (interval.compareTo(Duration.ofMillis(100)) < 0) {
      throw new ParameterException(spec.commandLine(), "--interval must be at least 100ms");
    }
    if (count < 0) {
      throw new ParameterException(spec.commandLine(), "--count must not be negative");
    }
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean screen = !plain && onTerminal();
    int width = width();
    HttpClient http = HttpClient.newBuilder().connectTimeout(timeout()).build();
    MetricsText before;
    try {
      before = MetricsText.fetch(http, url, timeout());
    } catch (IOException | RuntimeException e) {
      err.println(
          "twopc: cannot read "
              + url
              + ": "
              + why(e)
              + " (is the coordinator running with --metrics-port?)");
      err.flush();
      return ExitCodes.UNREACHABLE;
    }
    long beforeNanos = System.nanoTime();
    int exit = ExitCodes.OK;
    for (int shown = 0; count == 0 || shown < count; shown++) {
      Thread.sleep(interval.toMillis());
      MetricsText now;
      try {
        now = MetricsText.fetch(http, url, timeout());
      } catch (IOException | RuntimeException e) {
        String why = why(e);
        if (screen) {
          out.print("\033[H\033[2J");
          out.println("twopc top  " + url + "  " + Instant.now() + "  UNREACHABLE: " + why);
        } else {
          out.println("time=" + Instant.now() + " error=\"" + why.replace("\"", "'") + "\"");
        }
        out.flush();
        exit = ExitCodes.UNREACHABLE;
        continue;
      }
      long nowNanos = System.nanoTime();
      TopView view =
          new TopView(before, now, Duration.ofNanos(nowNanos - beforeNanos), Instant.now());
      if (screen) {
        out.print("\033[H\033[2J");
        List<String> lines = view.screen(url.toString(), width);
        lines.forEach(out::println);
      } else {
        out.println(view.plain());
      }
      out.flush();
      before = now;
      beforeNanos = nowNanos;
      exit = ExitCodes.OK;
    }
    return exit;
  }

  /** A failed scrape in one line: its message, or its type when it has none. */
  private static String why(Exception e) {
    return RpcErrors.oneLine(
        e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
  }

  private URI url() {
    try {
      URI u = new URI(metrics);
      if ((!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()))
          || u.getHost() == null) {
        throw new ParameterException(
            spec.commandLine(),
            "--metrics must be an http:// or https:// URL, not '" + metrics + "'");
      }
      return u;
    } catch (URISyntaxException e) {
      throw new ParameterException(
          spec.commandLine(),
          "--metrics must be an http:// or https:// URL, not '" + metrics + "'");
    }
  }

  /** A scrape may take up to one interval, and at least two seconds. */
  private Duration timeout() {
    return interval.compareTo(Duration.ofSeconds(2)) > 0 ? interval : Duration.ofSeconds(2);
  }

  /**
   * Whether stdout is a terminal. From JDK 22 a console exists even when output is redirected, and
   * {@code Console.isTerminal()} tells; before, a console exists only on a terminal.
   */
  @SuppressWarnings("SystemConsoleNull") // handled below: null before JDK 22, isTerminal() after
  private static boolean onTerminal() {
    java.io.Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true;
    }
  }

  private static int width() {
    try {
      int columns = Integer.parseInt(System.getenv().getOrDefault("COLUMNS", ""));
      return columns >= 40 ? columns : TextTable.DEFAULT_WIDTH;
    } catch (NumberFormatException e) {
      return TextTable.DEFAULT_WIDTH;
    }
  }
}
