package dev.twopc.telemetry;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Samples read back from a {@code /metrics} page in the Prometheus text format (what {@code twopc
 * top} and the tests read). Only what twopc's own endpoints write: one sample per line, label
 * values without newlines.
 */
public final class MetricsText {
  /** One sample line: {@code name{labels} value}. */
  public record Sample(String name, Map<String, String> labels, double value) {
    /** True when every given {@code key, value} pair is among the labels. */
    public boolean has(String... keyValues) {
      for (int i = 0; i + 1 < keyValues.length; i += 2) {
        if (!keyValues[i + 1].equals(labels.get(keyValues[i]))) {
          return false;
        }
      }
      return true;
    }
  }

  private final List<Sample> samples;

  private MetricsText(List<Sample> samples) {
    this.samples = samples;
  }

  /** Fetches {@code url} (a /metrics page) within {@code timeout}. */
  public static MetricsText fetch(HttpClient http, URI url, Duration timeout)
      throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Accept", "text/plain")
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(url + " answered HTTP " + r.statusCode());
    }
    return parse(r.body());
  }

  /**
   * Parses a page; a line that is not a sample ({@code name[{labels}] value}) is skipped, and a
   * page with text but no sample at all is refused, so that another page answering 200 is not read
   * as a coordinator with nothing to report.
   */
  public static MetricsText parse(String text) {
    List<Sample> out = new ArrayList<>();
    boolean anyText = false;
    for (String line : text.split("\n", -1)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      anyText = true;
      try {
        out.add(sample(line));
      } catch (RuntimeException e) {
        // not a sample line: skipped
      }
    }
    if (anyText && out.isEmpty()) {
      throw new IllegalArgumentException("not a Prometheus text page");
    }
    return new MetricsText(List.copyOf(out));
  }

  private static Sample sample(String line) {
    int brace = line.indexOf('{');
    int space;
    String name;
    Map<String, String> labels = new LinkedHashMap<>();
    if (brace >= 0 && brace < line.indexOf(' ')) {
      name = line.substring(0, brace);
      int end = labels(line, brace + 1, labels);
      space = end;
    } else {
      space = line.indexOf(' ');
      name = line.substring(0, space);
    }
    String rest = line.substring(space).trim();
    int sp = rest.indexOf(' ');
    String value = sp < 0 ? rest : rest.substring(0, sp); // a timestamp may follow
    if (name.isEmpty() || value.isEmpty()) {
      throw new IllegalArgumentException("not a sample: " + line);
    }
    return new Sample(name, Map.copyOf(labels), parseValue(value));
  }

  /** Parses {@code k="v",...}} from {@code from}; returns the index after the closing brace. */
  private static int labels(String line, int from, Map<String, String> into) {
    int i = from;
    while (i < line.length() && line.charAt(i) != '}') {
      int eq = line.indexOf('=', i);
      String key = line.substring(i, eq).trim();
      StringBuilder v = new StringBuilder();
      int j = eq + 2; // past ="
      while (line.charAt(j) != '"') {
        char c = line.charAt(j);
        if (c == '\\') {
          char n = line.charAt(++j);
          v.append(n == 'n' ? '\n' : n);
        } else {
          v.append(c);
        }
        j++;
      }
      into.put(key, v.toString());
      i = j + 1;
      if (i < line.length() && line.charAt(i) == ',') {
        i++;
      }
    }
    return i + 1;
  }

  private static double parseValue(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(v);
    };
  }

  public List<Sample> samples() {
    return samples;
  }

  /** The samples named {@code name} with the given labels. */
  public List<Sample> all(String name, String... keyValues) {
    return samples.stream().filter(s -> s.name().equals(name) && s.has(keyValues)).toList();
  }

  /** The sum of the samples named {@code name} with the given labels (0 when none). */
  public double sum(String name, String... keyValues) {
    return all(name, keyValues).stream().mapToDouble(Sample::value).sum();
  }

  /**
   * The {@code q} quantile (0..1) of histogram {@code name}'s observations in {@code this} minus
   * those in {@code before} (null: since start), interpolated within the bucket as Prometheus'
   * histogram_quantile does; NaN when nothing was observed.
   */
  public double quantile(String name, double q, MetricsText before, String... keyValues) {
    Map<Double, Double> now = buckets(this, name, keyValues);
    Map<Double, Double> then = before == null ? Map.of() : buckets(before, name, keyValues);
    List<double[]> cumulative = new ArrayList<>();
    for (var e : now.entrySet()) {
      cumulative.add(new double[] {e.getKey(), e.getValue() - then.getOrDefault(e.getKey(), 0.0)});
    }
    cumulative.sort((a, b) -> Double.compare(a[0], b[0]));
    if (cumulative.isEmpty()) {
      return Double.NaN;
    }
    double total = cumulative.get(cumulative.size() - 1)[1];
    if (total <= 0) {
      return Double.NaN;
    }
    double rank = q * total;
    double lowerBound = 0;
    double lowerCount = 0;
    for (double[] b : cumulative) {
      if (b[1] >= rank) {
        if (Double.isInfinite(b[0])) {
          return lowerBound; // beyond the last finite bucket: its bound, as Prometheus does
        }
        double inBucket = b[1] - lowerCount;
        return inBucket <= 0
            ? b[0]
            : lowerBound + (b[0] - lowerBound) * (rank - lowerCount) / inBucket;
      }
      lowerBound = b[0];
      lowerCount = b[1];
    }
    return lowerBound;
  }

  /** Upper bound to cumulative count, summed over the series that match. */
  private static Map<Double, Double> buckets(MetricsText m, String name, String... keyValues) {
    Map<Double, Double> out = new LinkedHashMap<>();
    for (Sample s : m.all(name + "_bucket", keyValues)) {
      String le = s.labels().get("le");
      if (le != null) {
        out.merge(parseValue(le), s.value(), Double::sum);
      }
    }
    return out;
  }
}
