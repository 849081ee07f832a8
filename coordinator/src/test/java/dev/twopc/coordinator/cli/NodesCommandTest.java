package dev.twopc.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.CoordinatorServer;
import dev.twopc.coordinator.testing.InProcessCoordinator;
import dev.twopc.coordinator.testing.StoreKind;
import dev.twopc.coordinator.testing.TestStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code twopc nodes} against real coordinators: two nodes on one PostgreSQL log, and a lone one.
 */
class NodesCommandTest {
  @TempDir Path dir;

  @Test
  void listsEveryNodeOfTheSharedLogAndMarksTheOneAnswering() throws Exception {
    try (TestStore store = TestStore.create(StoreKind.POSTGRESQL)) {
      CoordinatorServer a =
          CoordinatorServer.start(
              store
                  .apply(InProcessCoordinator.defaults(Files.createTempDirectory(dir, "a"), 0))
                  .nodeId("node-a")
                  .build());
      try {
        listsBoth(store, a);
      } finally {
        a.close();
      }
    }
  }

  private void listsBoth(TestStore store, CoordinatorServer a) throws Exception {
    try (CoordinatorServer b =
        CoordinatorServer.start(
            store
                .apply(InProcessCoordinator.defaults(Files.createTempDirectory(dir, "b"), 0))
                .nodeId("node-b")
                .build())) {
      Cli.Result r = Cli.against(b.target(), "nodes");
      assertEquals(0, r.exitCode(), r.toString());
      List<String> lines = r.outLines();
      assertTrue(lines.get(0).startsWith("NODE"), r.out());
      assertTrue(lines.get(1).startsWith("node-a ") && lines.get(1).contains(" live"), r.out());
      assertTrue(lines.get(2).startsWith("node-b (answering)"), r.out());
      assertTrue(lines.get(2).contains("localhost:" + b.port()), r.out());

      a.close(); // a graceful stop ends its lease at once
      Cli.Result after = Cli.against(b.target(), "nodes", "--json");
      assertEquals(0, after.exitCode(), after.toString());
      String first = after.outLines().get(0);
      assertTrue(first.contains("\"nodeId\":\"node-a\""), after.out());
      assertTrue(first.contains("\"leaseLeft\":\"-"), "its lease ended: " + after.out());
    }
  }

  @Test
  void aCoordinatorThatIsItsLogsOnlyWriterSaysSo() throws Exception {
    try (CoordinatorServer lone =
        CoordinatorServer.start(InProcessCoordinator.defaults(dir, 0).build())) {
      Cli.Result r = Cli.against(lone.target(), "nodes");
      assertEquals(0, r.exitCode(), r.toString());
      assertEquals("one coordinator: it is its log's only writer (no shared log)\n", r.out());
    }
  }
}
