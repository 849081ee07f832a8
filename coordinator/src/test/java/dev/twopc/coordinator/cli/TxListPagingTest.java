package dev.twopc.coordinator.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.TransactionView;
import dev.twopc.testing.FakeParticipant;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tx list} pages through a real coordinator's log: 2,200 transactions, 1,000 a page. */
class TxListPagingTest {
  private static final int COUNT = 2200;

  @TempDir Path data;

  @Test
  void listsEveryTransactionNewestFirstAcrossPages() throws Exception {
    try (TestCoordinator coordinator = TestCoordinator.start(data);
        FakeParticipant solo = coordinator.participant("solo")) {
      Set<String> created = createTransactions(coordinator, solo);

      // one-phase decisions reach the log in the background
      await()
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () ->
                  Cli.against(coordinator.target(), "tx", "list", "--limit", "5000", "--json")
                          .outLines()
                          .size()
                      == COUNT);

      Cli.Result all = Cli.against(coordinator.target(), "tx", "list", "--limit", "5000", "--json");
      assertEquals(0, all.exitCode(), all.err());
      List<TransactionView> txs = Protos.txs(all);
      Set<String> listed = new HashSet<>();
      for (int i = 0; i < txs.size(); i++) {
        listed.add(txs.get(i).getTxId());
        if (i > 0) {
          assertTrue(seconds(txs.get(i - 1)) >= seconds(txs.get(i)), "newest first at " + i);
        }
      }
      assertEquals(created, listed);

      Cli.Result some = Cli.against(coordinator.target(), "tx", "list", "--limit", "1500");
      assertEquals(0, some.exitCode(), some.err());
      assertEquals(1 + 1500 + 1, some.outLines().size());
      assertEquals(
          "(first 1500 shown; more match: raise --limit)",
          some.outLines().get(some.outLines().size() - 1));
      assertEquals(txs.get(1499).getTxId(), some.outLines().get(1500).split(" ", -1)[0]);

      Cli.Result byDefault = Cli.against(coordinator.target(), "tx", "list");
      assertEquals(1 + 100 + 1, byDefault.outLines().size());

      Cli.Result old = Cli.against(coordinator.target(), "tx", "list", "--older-than", "1h");
      assertEquals("no transactions\n", old.out());
    }
  }

  private static double seconds(TransactionView tx) {
    return tx.getCreatedAt().getSeconds() + tx.getCreatedAt().getNanos() / 1e9;
  }

  /** Single-branch Executes, 200 in flight at a time. */
  private static Set<String> createTransactions(TestCoordinator coordinator, FakeParticipant p)
      throws Exception {
    CoordinatorGrpc.CoordinatorFutureStub stub = CoordinatorGrpc.newFutureStub(coordinator.channel);
    ExecuteRequest request = TestCoordinator.executeRequest(false, p);
    Set<String> ids = new HashSet<>();
    for (int done = 0; done < COUNT; done += 200) {
      List<ListenableFuture<ExecuteResponse>> window = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        window.add(stub.withDeadlineAfter(30, TimeUnit.SECONDS).execute(request));
      }
      for (ListenableFuture<ExecuteResponse> f : window) {
        ExecuteResponse r = f.get(30, TimeUnit.SECONDS);
        assertEquals(Outcome.OUTCOME_COMMITTED, r.getOutcome(), r.getReason());
        ids.add(r.getTxId());
      }
    }
    assertEquals(COUNT, ids.size());
    return ids;
  }
}
