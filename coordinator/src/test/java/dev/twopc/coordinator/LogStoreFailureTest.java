package dev.twopc.coordinator;

import static dev.twopc.coordinator.testing.Clients.execute;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.proto.v1.BeginRequest;
import dev.twopc.proto.v1.ExecuteResponse;
import dev.twopc.proto.v1.GetTransactionRequest;
import dev.twopc.proto.v1.Outcome;
import dev.twopc.proto.v1.TransactionState;
import dev.twopc.testing.FakeParticipant;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decision log lives in an H2 server that goes away mid-transaction: the decision write fails,
 * which must never turn into a COMMIT. The client hears UNKNOWN, health turns NOT_SERVING, new
 * transactions are refused with UNAVAILABLE; when the store is back, the coordinator serves again
 * and the stranded transaction is aborted at every branch.
 */
class LogStoreFailureTest {
  @TempDir Path dir;

  @Test
  void aFailingLogWriteNeverBecomesACommit() throws Exception {
    Server db =
        Server.createTcpServer("-tcpPort", "0", "-baseDir", dir.toString(), "-ifNotExists").start();
    int dbPort = db.getPort();
    String url = "jdbc:h2:tcp://127.0.0.1:" + dbPort + "/log;WRITE_DELAY=0";
    try (CoordinatorHarness h =
        new CoordinatorHarness(
            dir.resolve("unused"), c -> c.jdbcUrl(url).shutdownGrace(Duration.ofSeconds(1)))) {
      FakeParticipant a = h.participant("a");
      FakeParticipant b = h.participant("b");
      String first =
          h.coordinator()
              .execute(execute(a, b).toBuilder().setWaitForCompletion(true).build())
              .getTxId();
      // its end is in the log (a finished tx is read from there): nothing is left to write
      await()
          .until(
              () ->
                  h.coordinator()
                          .getTransaction(GetTransactionRequest.newBuilder().setTxId(first).build())
                          .getState()
                      == TransactionState.TRANSACTION_STATE_COMMITTED);

      db.stop();
      ExecuteResponse r = h.coordinator().execute(execute(a, b));
      assertEquals(Outcome.OUTCOME_UNKNOWN, r.getOutcome(), r.getReason());
      var health = HealthGrpc.newBlockingStub(h.channel());
      assertEquals(
          ServingStatus.NOT_SERVING,
          health
              .check(HealthCheckRequest.newBuilder().setService("twopc.v1.Coordinator").build())
              .getStatus());
      StatusRuntimeException refused =
          org.junit.jupiter.api.Assertions.assertThrows(
              StatusRuntimeException.class,
              () -> h.coordinator().begin(BeginRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
      assertTrue(!a.committed().contains(r.getTxId()) && !b.committed().contains(r.getTxId()));

      db =
          Server.createTcpServer(
                  "-tcpPort", String.valueOf(dbPort), "-baseDir", dir.toString(), "-ifNotExists")
              .start();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  health
                          .check(
                              HealthCheckRequest.newBuilder()
                                  .setService("twopc.v1.Coordinator")
                                  .build())
                          .getStatus()
                      == ServingStatus.SERVING);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> a.rolledBack().contains(r.getTxId()) && b.rolledBack().contains(r.getTxId()));
      assertTrue(!a.committed().contains(r.getTxId()) && !b.committed().contains(r.getTxId()));
      assertEquals(Outcome.OUTCOME_COMMITTED, h.coordinator().execute(execute(a, b)).getOutcome());
    } finally {
      db.stop();
    }
  }
}
