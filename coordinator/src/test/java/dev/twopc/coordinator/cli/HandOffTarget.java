package dev.twopc.coordinator.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A stand-in for the bench or samples jar in {@link HandOffTest}: writes its arguments and its
 * twopc.command.name property, one a line, to the file after {@code --out}, and exits with the code
 * after {@code --exit}.
 */
public final class HandOffTarget {
  private HandOffTarget() {}

  public static void main(String[] args) throws IOException {
    List<String> a = List.of(args);
    Files.write(
        Path.of(a.get(a.indexOf("--out") + 1)),
        List.of(String.join(" ", a), String.valueOf(System.getProperty("twopc.command.name"))));
    System.exit(Integer.parseInt(a.get(a.indexOf("--exit") + 1)));
  }
}
