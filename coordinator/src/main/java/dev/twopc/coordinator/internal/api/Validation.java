package dev.twopc.coordinator.internal.api;

import static dev.twopc.coordinator.internal.CoordinatorException.invalid;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.internal.Limits;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks request fields against the configured limits ({@link Limits} for what reaches the log);
 * each error names the field. Identifiers are refused when too long, free text is bounded.
 */
final class Validation {
  private static final Pattern TX_ID = Pattern.compile("[A-Za-z0-9._:-]+");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern ADDRESS =
      Pattern.compile(
          "(inprocess:[A-Za-z0-9._-]+)|([A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}");

  private final CoordinatorConfig config;

  Validation(CoordinatorConfig config) {
    this.config = config;
  }

  String txId(String id) {
    if (id.isEmpty()) {
      throw invalid("tx_id is required");
    }
    if (id.length() > config.maxIdLength()) {
      throw invalid("tx_id is longer than " + config.maxIdLength() + " characters");
    }
    if (!TX_ID.matcher(id).matches()) {
      throw invalid("tx_id may only hold letters, digits and . _ : -");
    }
    return id;
  }

  String participant(String field, String name) {
    if (name.isEmpty()) {
      throw invalid(field + " is required");
    }
    if (!NAME.matcher(name).matches()) {
      throw invalid(field + " must be 1-64 characters of letters, digits and . _ -");
    }
    return name;
  }

  String address(String address) {
    if (address.isEmpty()) {
      throw invalid("address is required");
    }
    if (address.length() > Limits.ADDRESS) {
      throw invalid("address is longer than " + Limits.ADDRESS + " characters");
    }
    if (!ADDRESS.matcher(address).matches()) {
      throw invalid("address must be host:port, was '" + clip(address) + "'");
    }
    if (!address.startsWith("inprocess:")) {
      int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
      if (port < 1 || port > 65535) {
        throw invalid("address port must be 1-65535, was " + port);
      }
    }
    return address;
  }

  byte[] payload(String field, com.google.protobuf.ByteString payload) {
    if (payload.size() > config.maxPayloadBytes()) {
      throw invalid(
          field
              + " is "
              + payload.size()
              + " bytes, over the limit of "
              + config.maxPayloadBytes());
    }
    return payload.toByteArray();
  }

  /** Null if not given (the default applies). */
  @SuppressWarnings("ProtoDurationGetSecondsGetNano") // it checks the nanos field on its own
  Duration timeout(boolean present, com.google.protobuf.Duration d) {
    if (!present) {
      return null;
    }
    if (d.getNanos() < 0 || d.getNanos() > 999_999_999) {
      throw invalid("timeout.nanos must be 0..999999999, was " + d.getNanos());
    }
    if (d.getSeconds() < 0 || (d.getSeconds() == 0 && d.getNanos() == 0)) {
      throw invalid("timeout must be positive");
    }
    Duration t = Duration.ofSeconds(d.getSeconds(), d.getNanos());
    if (t.compareTo(config.maxTransactionTimeout()) > 0) {
      throw invalid("timeout " + t + " is over the maximum of " + config.maxTransactionTimeout());
    }
    return t;
  }

  /** Null if empty. */
  String idempotencyKey(String key) {
    if (key.isEmpty()) {
      return null;
    }
    if (key.length() > Limits.IDEMPOTENCY_KEY) {
      throw invalid("idempotency_key is longer than " + Limits.IDEMPOTENCY_KEY + " characters");
    }
    if (!Limits.text(key, Limits.IDEMPOTENCY_KEY).equals(key)
        || key.chars().anyMatch(Character::isISOControl)) {
      throw invalid("idempotency_key must not hold control characters or unpaired surrogates");
    }
    return key;
  }

  Map<String, String> labels(Map<String, String> labels) {
    if (labels.isEmpty()) {
      return labels;
    }
    if (labels.size() > Limits.LABELS) {
      throw invalid("at most " + Limits.LABELS + " labels");
    }
    int encoded = labels.size() - 1; // the '&'s
    for (Map.Entry<String, String> e : labels.entrySet()) {
      if (e.getKey().isEmpty()
          || e.getKey().length() > Limits.LABEL_KEY
          || e.getValue().length() > Limits.LABEL_VALUE) {
        throw invalid(
            "label keys must be 1-"
                + Limits.LABEL_KEY
                + " characters and values at most "
                + Limits.LABEL_VALUE);
      }
      encoded +=
          URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8).length()
              + 1
              + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8).length();
    }
    if (encoded > Limits.LABELS_ENCODED) {
      throw invalid(
          "labels are "
              + encoded
              + " characters URL-encoded, over the limit of "
              + Limits.LABELS_ENCODED);
    }
    return labels;
  }

  /** Free text: never refused for its length or characters, bounded to {@code max}. */
  String text(String field, String value, boolean required, int max) {
    if (required && value.isBlank()) {
      throw invalid(field + " is required");
    }
    return Limits.text(value, max);
  }

  /** For quoting a bad value back: short, one line. */
  private static String clip(String s) {
    return Limits.text(s, 80).replaceAll("\\p{Cntrl}", "?");
  }
}
