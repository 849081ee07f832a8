package dev.twopc.samples;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads a sample's read API: each line of the answer is one record of {@link Fields}. */
public final class ReadClient {
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String baseUrl;

  /** {@code baseUrl} like {@code http://localhost:8101}. */
  public ReadClient(String baseUrl) {
    this.baseUrl = baseUrl;
  }

  /** The records at {@code path} (with its query, if any). */
  public List<Map<String, String>> get(String path) {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(baseUrl + path))
            .timeout(Duration.ofSeconds(10))
            .GET()
            .build();
    HttpResponse<String> resp;
    try {
      resp = http.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException("GET " + baseUrl + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading " + baseUrl + path, e);
    }
    if (resp.statusCode() != 200) {
      throw new IllegalStateException(
          "GET " + baseUrl + path + ": " + resp.statusCode() + " " + resp.body().trim());
    }
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : resp.body().split("\n")) {
      if (!line.isBlank()) {
        rows.add(Fields.parse(line));
      }
    }
    return rows;
  }

  /** The one record at {@code path}. */
  public Map<String, String> one(String path) {
    List<Map<String, String>> rows = get(path);
    if (rows.size() != 1) {
      throw new IllegalStateException(
          "GET " + baseUrl + path + ": expected one record, got " + rows.size());
    }
    return rows.get(0);
  }
}
