package dev.twopc.coordinator.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node id is made up once, kept in DIR/node-id, and read back at every later start. */
class NodeIdFileTest {
  @TempDir Path dir;

  @Test
  void theIdMadeUpAtTheFirstStartIsTheOneReadAtTheNext() throws IOException {
    Path data = dir.resolve("data");
    String first = NodeIdFile.loadOrCreate(data);
    assertTrue(first.matches(NodeIdFile.PATTERN), first);
    assertEquals(first, NodeIdFile.loadOrCreate(data));
    assertEquals(first + "\n", Files.readString(data.resolve("node-id")));
    try (var files = Files.list(data)) {
      assertEquals(1, files.count(), "no temporary file left behind");
    }
  }

  @Test
  void aFileThatHoldsNoNodeIdIsRefusedNamingIt() throws IOException {
    Files.writeString(dir.resolve("node-id"), "not an id!\n");
    IOException e = assertThrows(IOException.class, () -> NodeIdFile.loadOrCreate(dir));
    assertTrue(
        e.getMessage().contains("node-id") && e.getMessage().contains("not an id!"),
        e.getMessage());
  }
}
