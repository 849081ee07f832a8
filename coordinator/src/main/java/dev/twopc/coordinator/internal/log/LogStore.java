package dev.twopc.coordinator.internal.log;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import dev.twopc.coordinator.internal.log.jdbc.JdbcLogStore;
import dev.twopc.coordinator.internal.log.rocks.RocksLogStore;
import java.io.IOException;
import java.util.List;

/**
 * Where the decision log keeps its records: RocksDB under a data directory (the embedded default),
 * or a JDBC database. {@link DecisionLog} is its only writer; anyone may read.
 */
public interface LogStore extends LogReader, AutoCloseable {

  /**
   * Applies a batch in order, atomically: after a normal return every record of it survives what
   * {@code durability} promises, after a {@link LogStoreException} none of it is written (unless
   * the store committed before failing: a failed write is "maybe written").
   *
   * @return one result per record: a {@link DecisionLog.DecisionResult} for a {@link
   *     LogRecord.Decided}, a {@code Boolean} (updated) for a {@link LogRecord.Registered}, an
   *     {@code Integer} (deleted) for a {@link LogRecord.Prune}, null otherwise
   */
  List<Object> write(List<LogRecord> batch, Durability durability);

  /**
   * Ownership for several coordinator nodes on this one log, where the store supports it
   * (PostgreSQL); empty where one coordinator is the log's only writer.
   */
  default java.util.Optional<NodeLeases> leases() {
    return java.util.Optional.empty();
  }

  /** What and where the store is, without credentials, for logs. */
  String description();

  @Override
  void close();

  /** Opens (creating if needed) the store the config points at. */
  static LogStore open(CoordinatorConfig config) throws IOException {
    if (config.jdbcUrl() != null) {
      return JdbcLogStore.open(
          config.jdbcUrl(), config.jdbcUser(), config.jdbcPassword(), config.durability());
    }
    return RocksLogStore.open(config.dataDir(), config.durability());
  }
}
