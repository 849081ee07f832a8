package dev.twopc.coordinator.internal.log.rocks;

import static dev.twopc.coordinator.internal.log.rocks.Codec.CREATED;
import static dev.twopc.coordinator.internal.log.rocks.Codec.PARTICIPANT;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.twopc.proto.internal.log.ParticipantValue;
import dev.twopc.proto.internal.log.TxValue;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/**
 * Prints the embedded log's records as JSON lines, newest transaction first, opening it read-only
 * (so it works beside a running coordinator, and never changes the log).
 */
public final class LogDump {
  private static final JsonFormat.Printer JSON =
      JsonFormat.printer().omittingInsignificantWhitespace();

  static {
    RocksDB.loadLibrary();
  }

  private LogDump() {}

  /**
   * Prints the log's transactions.
   *
   * @param txId only this transaction, or null for all
   * @param limit most transactions printed
   * @return how many transactions were printed
   */
  public static int dump(
      Path dataDir, String txId, int limit, boolean participants, PrintWriter out)
      throws IOException {
    Path path = dataDir.toAbsolutePath().resolve("log");
    if (!Files.isDirectory(path)) {
      throw new IOException("no embedded decision log at " + path);
    }
    try (Options options = new Options();
        RocksDB db = RocksDB.openReadOnly(options, path.toString())) {
      int n = 0;
      if (txId != null) {
        byte[] v = db.get(Codec.key(Codec.TX, txId));
        if (v != null) {
          out.println(json(TxValue.parseFrom(v)));
          n++;
        }
      } else {
        try (RocksIterator it = db.newIterator()) {
          for (it.seekForPrev(new byte[] {CREATED + 1});
              it.isValid() && it.key()[0] == CREATED && n < limit;
              it.prev()) {
            byte[] v = db.get(Codec.key(Codec.TX, Codec.txIdOf(it.key())));
            if (v != null) {
              out.println(json(TxValue.parseFrom(v)));
              n++;
            }
          }
        }
      }
      if (participants) {
        try (RocksIterator it = db.newIterator()) {
          for (it.seek(new byte[] {PARTICIPANT});
              it.isValid() && it.key()[0] == PARTICIPANT;
              it.next()) {
            out.println("{\"participant\":" + json(ParticipantValue.parseFrom(it.value())) + "}");
          }
        }
      }
      out.flush();
      return n;
    } catch (RocksDBException | InvalidProtocolBufferException e) {
      throw new IOException("cannot read the decision log at " + path + ": " + e.getMessage(), e);
    }
  }

  private static String json(MessageOrBuilder m) throws InvalidProtocolBufferException {
    return JSON.print(m);
  }
}
