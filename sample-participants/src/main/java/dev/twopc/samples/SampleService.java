package dev.twopc.samples;

import dev.twopc.participant.ParticipantHandler;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * One of the sample services: its participant handler, its tables and its read API. {@link
 * SampleServer} runs it: one DataSource for the business tables and the SDK's pending map, the
 * Participant service, and the read API over HTTP.
 */
public interface SampleService {
  /** The participant name, also the database file's name: inventory, payments or orders. */
  String name();

  /** The default port of the Participant service; the read API defaults to this plus 1000. */
  int defaultPort();

  ParticipantHandler handler();

  /** Creates the business tables if absent. */
  void createSchema(Connection c) throws SQLException;

  /** Puts the catalog's rows in, leaving rows that already exist alone (restarts keep data). */
  void seed(Connection c, Catalog catalog) throws SQLException;

  /**
   * Answers {@code GET path?params} of the read API: the records (each shown as one {@link Fields}
   * line), or null if there is no such resource (404).
   */
  List<Map<String, Object>> read(String path, Map<String, String> params, Connection c)
      throws SQLException;

  /** The paths of the read API, for the index page and {@code --help}. */
  List<String> readPaths();
}
