package dev.twopc.samples.payments;

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
 * The payments service: the ACCOUNT table (balance, held and charged, in cents), the HOLD table
 * (what each transaction held and what became of it), and their read API.
 */
public final class PaymentsService implements SampleService {
  @Override
  public String name() {
    return "payments";
  }

  @Override
  public int defaultPort() {
    return 7102;
  }

  @Override
  public ParticipantHandler handler() {
    return new PaymentsHandler();
  }

  @Override
  public void createSchema(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS ACCOUNT (ID VARCHAR(64) PRIMARY KEY, "
              + "BALANCE BIGINT NOT NULL, HELD BIGINT NOT NULL, CHARGED BIGINT NOT NULL, "
              + "CHECK (BALANCE >= 0 AND HELD >= 0 AND CHARGED >= 0))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS HOLD (TX_ID VARCHAR(128) PRIMARY KEY, "
              + "ORDER_ID VARCHAR(128) NOT NULL, ACCOUNT VARCHAR(64) NOT NULL, "
              + "AMOUNT BIGINT NOT NULL, STATE VARCHAR(16) NOT NULL)");
      s.execute("CREATE INDEX IF NOT EXISTS HOLD_ORDER ON HOLD (ORDER_ID)");
    }
  }

  @Override
  public void seed(Connection c, Catalog catalog) throws SQLException {
    for (Map.Entry<String, Long> e : catalog.balances().entrySet()) {
      Sql.update(
          c,
          "INSERT INTO ACCOUNT (ID, BALANCE, HELD, CHARGED) SELECT ?, ?, 0, 0 "
              + "WHERE NOT EXISTS (SELECT 1 FROM ACCOUNT WHERE ID = ?)",
          e.getKey(),
          e.getValue(),
          e.getKey());
    }
  }

  @Override
  public List<String> readPaths() {
    return List.of("/accounts", "/accounts/{id}", "/holds[?order=ID]", "/totals");
  }

  @Override
  public List<Map<String, Object>> read(String path, Map<String, String> params, Connection c)
      throws SQLException {
    String accounts = "SELECT ID AS ACCOUNT, BALANCE, HELD, CHARGED FROM ACCOUNT";
    if (path.equals("/accounts")) {
      return Sql.rows(c, accounts + " ORDER BY ID");
    }
    if (path.startsWith("/accounts/")) {
      List<Map<String, Object>> one = Sql.rows(c, accounts + " WHERE ID = ?", path.substring(10));
      return one.isEmpty() ? null : one;
    }
    if (path.equals("/holds")) {
      String select = "SELECT ORDER_ID AS \"order\", TX_ID AS TX, ACCOUNT, AMOUNT, STATE FROM HOLD";
      return params.containsKey("order")
          ? Sql.rows(c, select + " WHERE ORDER_ID = ?", params.get("order"))
          : Sql.rows(c, select + " ORDER BY ORDER_ID");
    }
    if (path.equals("/totals")) {
      return Sql.rows(
          c,
          "SELECT COUNT(*) AS ACCOUNTS, COALESCE(SUM(BALANCE), 0) AS BALANCE, "
              + "COALESCE(SUM(HELD), 0) AS HELD, COALESCE(SUM(CHARGED), 0) AS CHARGED FROM ACCOUNT");
    }
    return null;
  }
}
