package dev.twopc.coordinator.internal.api;

import static dev.twopc.coordinator.internal.CoordinatorException.invalid;

import dev.twopc.coordinator.CoordinatorConfig;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/** Checks request fields against the configured limits; each error names the field. */
final class Validation {
  private static final Pattern TX_ID = Pattern.compile("[A-Za-z0-9._:-]+");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern ADDRESS = Pattern.compile(
      "(inprocess:[A-Za-z0-9._-]+)|([A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}");
  private static final int MAX_KEY = 256;
  private static final int MAX_LABELS = 32;
  private static final int MAX_TEXT = 1024;

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
      throw invalid(field + " is " + payload.size() + " bytes, over the limit of "
          + config.maxPayloadBytes());
    }
    return payload.toByteArray();
  }

  /** Null if not given (the default applies). */
  Duration timeout(boolean present, com.google.protobuf.Duration d) {
    if (!present) {
      return null;
    }
    if (d.getSeconds() < 0 || d.getNanos() < 0 || (d.getSeconds() == 0 && d.getNanos() == 0)) {
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
    if (key.length() > MAX_KEY) {
      throw invalid("idempotency_key is longer than " + MAX_KEY + " characters");
    }
    return key;
  }

  Map<String, String> labels(Map<String, String> labels) {
    if (labels.size() > MAX_LABELS) {
      throw invalid("at most " + MAX_LABELS + " labels");
    }
    for (Map.Entry<String, String> e : labels.entrySet()) {
      if (e.getKey().isEmpty() || e.getKey().length() > 64 || e.getValue().length() > 256) {
        throw invalid("label keys must be 1-64 characters and values at most 256");
      }
    }
    return labels;
  }

  String text(String field, String value, boolean required) {
    if (required && value.isBlank()) {
      throw invalid(field + " is required");
    }
    if (value.length() > MAX_TEXT) {
      throw invalid(field + " is longer than " + MAX_TEXT + " characters");
    }
    return value;
  }

  private static String clip(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
