package dev.twopc.coordinator.testing;

/** The decision-log stores the tests run over: see {@link TestStore}. */
public enum StoreKind {
  /** RocksDB under a temporary data directory: the embedded default. */
  ROCKSDB,
  /** SQLite in a temporary file. */
  SQLITE,
  /** A fresh schema in the local PostgreSQL (127.0.0.1:5432, user postgres, database test). */
  POSTGRESQL,
  /** A fresh database in the local MariaDB (127.0.0.1:3306, root, no password). */
  MARIADB
}
