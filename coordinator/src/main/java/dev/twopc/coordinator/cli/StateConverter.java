package dev.twopc.coordinator.cli;

import dev.twopc.proto.v1.TransactionState;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code committing}, {@code COMMITTING} or {@code TRANSACTION_STATE_COMMITTING}. */
final class StateConverter implements ITypeConverter<TransactionState> {
  private static final String PREFIX = "TRANSACTION_STATE_";

  @Override
  public TransactionState convert(String value) {
    String v = value.trim().toUpperCase(Locale.ROOT);
    if (v.startsWith(PREFIX)) {
      v = v.substring(PREFIX.length());
    }
    for (TransactionState s : TransactionState.values()) {
      if (s != TransactionState.UNRECOGNIZED
          && s != TransactionState.TRANSACTION_STATE_UNSPECIFIED
          && s.name().equals(PREFIX + v)) {
        return s;
      }
    }
    throw new TypeConversionException("unknown state '" + value + "', expected one of " + names());
  }

  static List<String> names() {
    List<String> names = new ArrayList<>();
    for (TransactionState s : TransactionState.values()) {
      if (s != TransactionState.UNRECOGNIZED
          && s != TransactionState.TRANSACTION_STATE_UNSPECIFIED) {
        names.add(s.name().substring(PREFIX.length()));
      }
    }
    return names;
  }
}
