package dev.twopc.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TextTableTest {
  @Test
  void alignsColumnsAndFitsTheWidthWithEllipses() {
    TextTable t = new TextTable(new String[] {"ID", "STATE", "LAST ERROR"}, new int[] {12, 0, 0});
    t.row("short", "COMMITTED", "");
    t.row("a-very-long-transaction-id", "COMMITTING", "x".repeat(200));
    StringWriter sw = new StringWriter();
    t.print(new PrintWriter(sw), 60);
    String[] lines = sw.toString().split("\\R", -1);
    assertEquals("ID            STATE       LAST ERROR", lines[0]);
    assertEquals("short         COMMITTED", lines[1]);
    assertTrue(lines[2].startsWith("a-very-lo...  COMMITTING  xxx"), lines[2]);
    assertTrue(lines[2].endsWith("x..."), lines[2]);
    assertEquals(60, lines[2].length());
  }

  @Test
  void cellsBecomeOneLine() {
    TextTable t = new TextTable(new String[] {"A", "B"}, new int[] {0, 0});
    t.row("x", "line one\n  line two");
    StringWriter sw = new StringWriter();
    t.print(new PrintWriter(sw), 120);
    assertTrue(sw.toString().contains("x  line one line two"), sw.toString());
  }

  @Test
  void fitCutsWithAnEllipsis() {
    assertEquals("abc", TextTable.fit("abc", 3));
    assertEquals("ab...", TextTable.fit("abcdefgh", 5));
  }
}
