package dev.twopc.coordinator.internal.log.jdbc;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/** Transaction labels as one column: URL-encoded {@code k=v&k=v}, keys sorted. */
final class Labels {
  private Labels() {}

  static String encode(Map<String, String> labels) {
    if (labels == null || labels.isEmpty()) {
      return null;
    }
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : new TreeMap<>(labels).entrySet()) {
      if (sb.length() > 0) {
        sb.append('&');
      }
      sb.append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
    }
    return sb.toString();
  }

  static Map<String, String> decode(String column) {
    Map<String, String> labels = new TreeMap<>();
    if (column == null || column.isEmpty()) {
      return labels;
    }
    for (String pair : column.split("&", -1)) {
      int eq = pair.indexOf('=');
      labels.put(
          URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return labels;
  }
}
