package dev.twopc.coordinator.internal.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * A coordinator node's id kept in {@code DIR/node-id}: made up at the first start, read at every
 * later one, so that a restarted node takes its own unfinished transactions back at once instead of
 * after its earlier lease lapsed.
 */
public final class NodeIdFile {
  static final String NAME = "node-id";

  /** What a node id may be: a name for logs, metrics and the node table. */
  public static final String PATTERN = "[A-Za-z0-9._:-]{1,64}";

  private NodeIdFile() {}

  public static String loadOrCreate(Path dir) throws IOException {
    Path file = dir.resolve(NAME);
    if (!Files.exists(file)) {
      Files.createDirectories(dir);
      // Written whole, then moved in place: a crash leaves no half-written id.
      Path tmp = Files.createTempFile(dir, NAME, ".tmp");
      Files.writeString(tmp, madeUp() + "\n", StandardCharsets.UTF_8);
      try {
        Files.move(tmp, file);
      } catch (FileAlreadyExistsException raced) {
        Files.delete(tmp); // another process made one first: use it
      }
    }
    String id = Files.readString(file, StandardCharsets.UTF_8).strip();
    if (!id.matches(PATTERN)) {
      throw new IOException(file + " does not hold a node id (it holds \"" + id + "\")");
    }
    return id;
  }

  /** A new node id. */
  public static String madeUp() {
    return "node-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
