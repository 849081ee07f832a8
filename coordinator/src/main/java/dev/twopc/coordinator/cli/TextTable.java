package dev.twopc.coordinator.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * Left-aligned columns separated by two spaces, fitted to a total width: the last column takes what
 * is left, and cells longer than their column end with "...".
 */
final class TextTable {
  static final int DEFAULT_WIDTH = 120;
  private static final String GAP = "  ";
  private static final String ELLIPSIS = "...";

  private final String[] headers;
  private final int[] maxWidths;
  private final List<String[]> rows = new ArrayList<>();

  /**
   * @param maxWidths the widest each column may be (0 = as wide as its content); the last column is
   *     also bounded by the total width
   */
  TextTable(String[] headers, int[] maxWidths) {
    if (headers.length != maxWidths.length) {
      throw new IllegalArgumentException("one max width per header");
    }
    this.headers = headers.clone();
    this.maxWidths = maxWidths.clone();
  }

  TextTable row(String... cells) {
    if (cells.length != headers.length) {
      throw new IllegalArgumentException(
          "expected " + headers.length + " cells, got " + cells.length);
    }
    String[] clean = new String[cells.length];
    for (int i = 0; i < cells.length; i++) {
      clean[i] = oneLine(cells[i]);
    }
    rows.add(clean);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  void print(PrintWriter out, int totalWidth) {
    print(out, totalWidth, "");
  }

  /** Prints every line after {@code indent}, which counts against the total width. */
  void print(PrintWriter out, int totalWidth, String indent) {
    int n = headers.length;
    int[] widths = new int[n];
    for (int i = 0; i < n; i++) {
      int w = headers[i].length();
      for (String[] r : rows) {
        w = Math.max(w, r[i].length());
      }
      widths[i] = maxWidths[i] > 0 ? Math.min(w, Math.max(maxWidths[i], headers[i].length())) : w;
    }
    int used = indent.length() + GAP.length() * (n - 1);
    for (int i = 0; i < n - 1; i++) {
      used += widths[i];
    }
    widths[n - 1] = Math.max(headers[n - 1].length(), Math.min(widths[n - 1], totalWidth - used));
    printRow(out, indent, headers, widths);
    for (String[] r : rows) {
      printRow(out, indent, r, widths);
    }
  }

  private static void printRow(PrintWriter out, String indent, String[] cells, int[] widths) {
    StringBuilder line = new StringBuilder(indent);
    for (int i = 0; i < cells.length; i++) {
      String cell = fit(cells[i], widths[i]);
      line.append(cell);
      if (i < cells.length - 1) {
        line.append(" ".repeat(widths[i] - cell.length())).append(GAP);
      }
    }
    out.println(stripTrailing(line));
  }

  /** {@code text} cut to {@code width} characters, ending with "..." when cut. */
  static String fit(String text, int width) {
    if (text.length() <= width) {
      return text;
    }
    if (width <= ELLIPSIS.length()) {
      return text.substring(0, width);
    }
    return text.substring(0, width - ELLIPSIS.length()) + ELLIPSIS;
  }

  private static String oneLine(String s) {
    if (s == null) {
      return "";
    }
    return s.replaceAll("\\s+", " ").trim();
  }

  private static String stripTrailing(StringBuilder sb) {
    int end = sb.length();
    while (end > 0 && sb.charAt(end - 1) == ' ') {
      end--;
    }
    return sb.substring(0, end);
  }
}
