package dev.twopc.samples.inventory;

import dev.twopc.participant.ParticipantHandler;
import dev.twopc.samples.Catalog;
import dev.twopc.samples.SampleService;
import dev.twopc.samples.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

/**
 * The inventory service: the STOCK table (available, reserved and sold per SKU), the RESERVATION
 * table (what each transaction reserved and what became of it), and their read API.
 */
public final class InventoryService implements SampleService {
  @Override
  public String name() {
    return "inventory";
  }

  @Override
  public int defaultPort() {
    return 7101;
  }

  @Override
  public ParticipantHandler handler() {
    return new InventoryHandler();
  }

  @Override
  public void createSchema(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS STOCK (SKU VARCHAR(64) PRIMARY KEY, "
              + "AVAILABLE BIGINT NOT NULL, RESERVED BIGINT NOT NULL, SOLD BIGINT NOT NULL, "
              + "CHECK (AVAILABLE >= 0 AND RESERVED >= 0 AND SOLD >= 0))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS RESERVATION (TX_ID VARCHAR(128) NOT NULL, "
              + "ORDER_ID VARCHAR(128) NOT NULL, SKU VARCHAR(64) NOT NULL, QUANTITY INT NOT NULL, "
              + "STATE VARCHAR(16) NOT NULL, PRIMARY KEY (TX_ID, SKU))");
      s.execute("CREATE INDEX IF NOT EXISTS RESERVATION_ORDER ON RESERVATION (ORDER_ID)");
    }
  }

  @Override
  public void seed(Connection c, Catalog catalog) throws SQLException {
    for (Map.Entry<String, Long> e : catalog.stock().entrySet()) {
      Sql.update(
          c,
          "INSERT INTO STOCK (SKU, AVAILABLE, RESERVED, SOLD) SELECT ?, ?, 0, 0 "
              + "WHERE NOT EXISTS (SELECT 1 FROM STOCK WHERE SKU = ?)",
          e.getKey(),
          e.getValue(),
          e.getKey());
    }
  }

  @Override
  public List<String> readPaths() {
    return List.of("/stock", "/stock/{sku}", "/reservations[?order=ID]", "/totals");
  }

  @Override
  public List<Map<String, Object>> read(String path, Map<String, String> params, Connection c)
      throws SQLException {
    String stock = "SELECT SKU, AVAILABLE, RESERVED, SOLD FROM STOCK";
    if (path.equals("/stock")) {
      return Sql.rows(c, stock + " ORDER BY SKU");
    }
    if (path.startsWith("/stock/")) {
      List<Map<String, Object>> one = Sql.rows(c, stock + " WHERE SKU = ?", path.substring(7));
      return one.isEmpty() ? null : one;
    }
    if (path.equals("/reservations")) {
      String select =
          "SELECT ORDER_ID AS \"order\", TX_ID AS TX, SKU, QUANTITY, STATE " + "FROM RESERVATION";
      return params.containsKey("order")
          ? Sql.rows(c, select + " WHERE ORDER_ID = ? ORDER BY SKU", params.get("order"))
          : Sql.rows(c, select + " ORDER BY ORDER_ID, SKU");
    }
    if (path.equals("/totals")) {
      return Sql.rows(
          c,
          "SELECT COUNT(*) AS SKUS, COALESCE(SUM(AVAILABLE), 0) AS AVAILABLE, "
              + "COALESCE(SUM(RESERVED), 0) AS RESERVED, COALESCE(SUM(SOLD), 0) AS SOLD FROM STOCK");
    }
    return null;
  }
}
