package dev.twopc.coordinator.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

/**
 * The {@code --json} output: the proto3 JSON mapping of the wire messages, one object per line.
 * Fields without presence are always printed (so every key is there, even when 0, false or empty);
 * unset timestamps are left out.
 */
final class Json {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace().alwaysPrintFieldsWithNoPresence();

  private Json() {}

  static String line(MessageOrBuilder message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only Any fields with unknown types fail; the twopc messages have none.
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
  }
}
