package dev.twopc.samples.orders;

import dev.twopc.participant.ParticipantHandler;
import dev.twopc.samples.Catalog;
import dev.twopc.samples.SampleService;
import dev.twopc.samples.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

/** The orders service: the ORDERS table (PENDING, CONFIRMED or CANCELLED) and its read API. */
public final class OrdersService implements SampleService {
  @Override
  public String name() {
    return "orders";
  }

  @Override
  public int defaultPort() {
    return 7103;
  }

  @Override
  public ParticipantHandler handler() {
    return new OrderParticipant();
  }

  @Override
  public void createSchema(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS ORDERS (ID VARCHAR(128) PRIMARY KEY, "
              + "TX_ID VARCHAR(128) NOT NULL, STATUS VARCHAR(16) NOT NULL, "
              + "ACCOUNT VARCHAR(64) NOT NULL, AMOUNT BIGINT NOT NULL, ITEMS VARCHAR(4096) NOT NULL)");
      s.execute("CREATE INDEX IF NOT EXISTS ORDERS_TX ON ORDERS (TX_ID)");
    }
  }

  @Override
  public void seed(Connection c, Catalog catalog) {
    // Orders start empty.
  }

  @Override
  public List<String> readPaths() {
    return List.of("/orders[?status=S]", "/orders/{id}", "/totals");
  }

  @Override
  public List<Map<String, Object>> read(String path, Map<String, String> params, Connection c)
      throws SQLException {
    String orders =
        "SELECT ID AS \"order\", STATUS, TX_ID AS TX, ACCOUNT, AMOUNT, ITEMS " + "FROM ORDERS";
    if (path.equals("/orders")) {
      return params.containsKey("status")
          ? Sql.rows(c, orders + " WHERE STATUS = ? ORDER BY ID", params.get("status"))
          : Sql.rows(c, orders + " ORDER BY ID");
    }
    if (path.startsWith("/orders/")) {
      List<Map<String, Object>> one = Sql.rows(c, orders + " WHERE ID = ?", path.substring(8));
      return one.isEmpty() ? null : one;
    }
    if (path.equals("/totals")) {
      return Sql.rows(
          c,
          "SELECT COUNT(*) AS ORDERS, "
              + "COUNT(CASE WHEN STATUS = 'PENDING' THEN 1 END) AS PENDING, "
              + "COUNT(CASE WHEN STATUS = 'CONFIRMED' THEN 1 END) AS CONFIRMED, "
              + "COUNT(CASE WHEN STATUS = 'CANCELLED' THEN 1 END) AS CANCELLED, "
              + "COALESCE(SUM(CASE WHEN STATUS = 'CONFIRMED' THEN AMOUNT END), 0) AS CONFIRMED_AMOUNT "
              + "FROM ORDERS");
    }
    return null;
  }
}
