package dev.twopc.participant.internal;

import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.util.Locale;

/**
 * The differences between the databases the store runs on, in one place. Only the column types of
 * the SDK's tables differ: the statements themselves (plain INSERT, DELETE by key, SELECT with
 * {@code setMaxRows}, no upsert, no row locking) are the same everywhere.
 */
enum Dialect {
  SQLITE("BLOB", "TEXT"),
  POSTGRESQL("BYTEA", "TEXT"),
  /** MariaDB and MySQL need a length on VARBINARY and VARCHAR; the LONG types have none. */
  MARIADB("LONGBLOB", "LONGTEXT"),
  H2("VARBINARY", "VARCHAR"),
  /** Anything else: the SQL standard's types. */
  STANDARD("BLOB", "CLOB");

  final String bytes;
  final String text;

  Dialect(String bytes, String text) {
    this.bytes = bytes;
    this.text = text;
  }

  static Dialect of(DatabaseMetaData md) throws SQLException {
    String product = md.getDatabaseProductName().toLowerCase(Locale.ROOT);
    if (product.contains("sqlite")) {
      return SQLITE;
    }
    if (product.contains("postgres")) {
      return POSTGRESQL;
    }
    if (product.contains("mariadb") || product.contains("mysql")) {
      return MARIADB;
    }
    if (product.equals("h2")) {
      return H2;
    }
    return STANDARD;
  }
}
