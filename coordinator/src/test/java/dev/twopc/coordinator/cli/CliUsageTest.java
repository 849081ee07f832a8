package dev.twopc.coordinator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.coordinator.CoordinatorConfig;
import dev.twopc.coordinator.Durability;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** What needs no coordinator: help, usage errors, unreachable peers, flag-to-config mapping. */
class CliUsageTest {
  @TempDir Path tmp;

  @Test
  void coordinatorHelpShowsEveryEnvironmentTwinAndDefault() {
    Cli.Result r = Cli.run("coordinator", "--help");
    assertEquals(0, r.exitCode(), r.toString());
    String help = r.out().replaceAll("\\s+", " ");
    for (String env :
        new String[] {
          "TWOPC_PORT",
          "TWOPC_HOST",
          "TWOPC_DATA",
          "TWOPC_JDBC_URL",
          "TWOPC_JDBC_USER",
          "TWOPC_JDBC_PASSWORD",
          "TWOPC_DURABILITY",
          "TWOPC_PREPARE_TIMEOUT",
          "TWOPC_DEFAULT_TIMEOUT",
          "TWOPC_MAX_TIMEOUT",
          "TWOPC_BACKOFF_BASE",
          "TWOPC_BACKOFF_CAP",
          "TWOPC_PARK_AFTER",
          "TWOPC_RETENTION",
          "TWOPC_MAX_BRANCHES",
          "TWOPC_MAX_PAYLOAD_BYTES",
          "TWOPC_MAX_ID_LENGTH",
          "TWOPC_ADVERTISED_ADDRESS"
        }) {
      assertTrue(help.contains(env), env + " missing from\n" + r.out());
    }
    assertTrue(help.contains("default 7000"), r.out());
    assertTrue(help.contains("default fsync"), r.out());
    assertFalse(r.out().contains("crashAt"), "the crash point stays hidden");
  }

  @Test
  void clientHelpShowsTheCoordinatorTwin() {
    for (String[] cmd :
        new String[][] {
          {"tx", "list", "--help"},
          {"tx", "show", "--help"},
          {"tx", "retry", "--help"},
          {"tx", "commit", "--help"},
          {"tx", "abort", "--help"},
          {"participants", "--help"}
        }) {
      Cli.Result r = Cli.run(cmd);
      assertEquals(0, r.exitCode(), r.toString());
      String help = r.out().replaceAll("\\s+", " ");
      assertTrue(help.contains("TWOPC_COORDINATOR"), r.out());
      assertTrue(help.contains("default localhost:7000"), r.out());
      assertTrue(r.out().contains("--timeout"), r.out());
    }
  }

  @Test
  void badArgumentsExitTwo() {
    String[][] bad = {
      {"tx", "list", "--older-than", "banana"},
      {"tx", "list", "--state", "SLEEPING"},
      {"tx", "list", "--limit", "0", "--coordinator", "localhost:1"},
      {"tx", "list", "--bogus"},
      {"tx", "show"},
      {"tx", "commit", "tx-1"},
      {"tx", "abort", "tx-1", "--reason", "  ", "--coordinator", "localhost:1"},
      {"tx", "frobnicate"},
      {"tx"},
      {"participants", "--coordinator", "nonsense"},
      {"participants", "--coordinator", "localhost:99999"},
      {"participants", "--timeout", "0s"},
      {"participant", "in-doubt"},
      {"coordinator", "--durability", "maybe"},
      {"coordinator", "--retention", "forever"},
      {"coordinator", "--data", "d", "--jdbc-url", "jdbc:h2:mem:x"},
      {"coordinator", "--backoff-base", "10s", "--backoff-cap", "1s", "--data", "d"},
    };
    for (String[] args : bad) {
      Cli.Result r = Cli.run(args);
      assertEquals(2, r.exitCode(), String.join(" ", args) + "\n" + r);
      assertFalse(r.err().isBlank(), String.join(" ", args));
      assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }
  }

  @Test
  void mainPrintsUsageErrorsOnOneLine() {
    Cli.Result r = Cli.runAsMain("tx", "list", "--older-than", "banana");
    assertEquals(2, r.exitCode());
    assertEquals(1, r.err().split("\\R").length, r.err());
    assertTrue(r.err().startsWith("twopc: Invalid value for option '--older-than'"), r.err());
    assertTrue(r.err().contains("see 'twopc tx list --help'"), r.err());
  }

  @Test
  void unreachableCoordinatorNamesTheAddressAndExitsThree() throws IOException {
    int port = freePort();
    for (String[] cmd :
        new String[][] {
          {"tx", "list"},
          {"tx", "list", "--json"},
          {"tx", "show", "tx-1"},
          {"tx", "retry", "tx-1"},
          {"tx", "abort", "tx-1", "--reason", "r"},
          {"tx", "commit", "tx-1", "--reason", "r"},
          {"participants"}
        }) {
      Cli.Result r = Cli.against("localhost:" + port, cmd);
      assertEquals(3, r.exitCode(), r.toString());
      assertTrue(
          r.err().startsWith("twopc: cannot reach coordinator at localhost:" + port), r.err());
      assertEquals(1, r.err().split("\\R").length, r.err());
      assertEquals("", r.out());
    }
  }

  @Test
  void unreachableParticipantExitsThree() throws IOException {
    int port = freePort();
    Cli.Result r =
        Cli.run("participant", "in-doubt", "--address", "127.0.0.1:" + port, "--timeout", "5s");
    assertEquals(3, r.exitCode(), r.toString());
    assertTrue(r.err().startsWith("twopc: cannot reach participant at 127.0.0.1:" + port), r.err());
  }

  @Test
  void coordinatorFlagsBuildTheConfig() {
    CoordinatorConfig c =
        parseCoordinator(
                "coordinator",
                "--port",
                "7123",
                "--host",
                "127.0.0.1",
                "--data",
                tmp.toString(),
                "--durability",
                "PROCESS",
                "--prepare-timeout",
                "2s",
                "--default-timeout",
                "1m",
                "--max-timeout",
                "PT20M",
                "--backoff-base",
                "50ms",
                "--backoff-cap",
                "10s",
                "--park-after",
                "2m",
                "--retention",
                "1d",
                "--max-branches",
                "8",
                "--max-payload-bytes",
                "1024",
                "--max-id-length",
                "64",
                "--max-inbound-message-bytes",
                "8388608",
                "--liveness-check-interval",
                "3s",
                "--advertised-address",
                "coord.example:7123")
            .buildConfig();
    assertEquals(7123, c.port());
    assertEquals("127.0.0.1", c.host());
    assertEquals(tmp, c.dataDir());
    assertNull(c.jdbcUrl());
    assertEquals(Durability.PROCESS, c.durability());
    assertEquals(Duration.ofSeconds(2), c.prepareTimeout());
    assertEquals(Duration.ofMinutes(1), c.defaultTransactionTimeout());
    assertEquals(Duration.ofMinutes(20), c.maxTransactionTimeout());
    assertEquals(Duration.ofMillis(50), c.phase2BackoffBase());
    assertEquals(Duration.ofSeconds(10), c.phase2BackoffCap());
    assertEquals(Duration.ofMinutes(2), c.parkAfter());
    assertEquals(Duration.ofDays(1), c.retention());
    assertEquals(8, c.maxBranches());
    assertEquals(1024, c.maxPayloadBytes());
    assertEquals(64, c.maxIdLength());
    assertEquals(8 << 20, c.maxInboundMessageBytes());
    assertEquals(Duration.ofSeconds(3), c.livenessCheckInterval());
    assertEquals("coord.example:7123", c.advertisedAddress());
  }

  @Test
  void defaultsAreTheSafeOnes() {
    CoordinatorCommand cmd = parseCoordinator("coordinator");
    CoordinatorConfig c = cmd.buildConfig();
    assertEquals(7000, c.port());
    assertEquals("127.0.0.1", c.host()); // plaintext: loopback only
    assertNull(c.tls());
    assertEquals(Path.of("data"), c.dataDir());
    assertNull(c.jdbcUrl());
    assertEquals(Durability.FSYNC, c.durability());
    assertEquals(Duration.ofDays(7), c.retention());
    assertNull(c.advertisedAddress());
    String line = cmd.describe();
    assertTrue(
        line.contains("durability=fsync")
            && line.contains("retention=7d")
            && line.contains("backoff-base=100ms")
            && line.contains("port=7000"),
        line);
  }

  @Test
  void environmentTwinsApplyAndFlagsWin() {
    // picocli resolves ${TWOPC_X} from system properties before the environment
    System.setProperty("TWOPC_PORT", "7555");
    System.setProperty("TWOPC_JDBC_URL", "jdbc:h2:mem:twin;PASSWORD=secret");
    System.setProperty("TWOPC_DURABILITY", "process");
    try {
      CoordinatorCommand cmd = parseCoordinator("coordinator", "--durability", "fsync");
      CoordinatorConfig c = cmd.buildConfig();
      assertEquals(7555, c.port());
      assertEquals("jdbc:h2:mem:twin;PASSWORD=secret", c.jdbcUrl());
      assertEquals(Durability.FSYNC, c.durability());
      assertFalse(cmd.describe().contains("secret"), cmd.describe());
    } finally {
      System.clearProperty("TWOPC_PORT");
      System.clearProperty("TWOPC_JDBC_URL");
      System.clearProperty("TWOPC_DURABILITY");
    }
  }

  @Test
  void badCrashPointIsAUsageError() {
    System.setProperty(CoordinatorCommand.CRASH_AT_PROPERTY, "nowhere:1");
    try {
      Cli.Result r = Cli.run("coordinator", "--data", tmp.toString());
      assertEquals(2, r.exitCode(), r.toString());
      assertTrue(r.err().contains("twopc.crashAt"), r.err());
    } finally {
      System.clearProperty(CoordinatorCommand.CRASH_AT_PROPERTY);
    }
  }

  private static CoordinatorCommand parseCoordinator(String... args) {
    CommandLine cl = new CommandLine(new TwopcCommand());
    CommandLine.ParseResult pr = cl.parseArgs(args);
    return pr.subcommand().commandSpec().commandLine().getCommand();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
