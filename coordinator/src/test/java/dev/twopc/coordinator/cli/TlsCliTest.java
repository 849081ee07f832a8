package dev.twopc.coordinator.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * TLS and the safe defaults from the command line: {@code twopc certs}; a coordinator started with
 * {@code --tls-*} serves mutual TLS and the CLI reaches it with its own certificate (and not
 * without); without TLS it binds loopback only, and any other address needs {@code
 * --insecure-listen}, which warns.
 */
class TlsCliTest {
  private static final Pattern PORT = Pattern.compile("listening on [^ ]+:(\\d+) ");

  @TempDir Path dir;

  @Test
  void certsWritesACaAndACertificatePerNameAndRefusesToOverwriteIt() throws Exception {
    Path certs = dir.resolve("certs");
    Cli.Result r =
        Cli.run(
            "certs",
            "--out",
            certs.toString(),
            "--name",
            "inventory",
            "--name",
            "operator-alice",
            "--name",
            "orders=participant,client",
            "--validity",
            "2d");
    assertEquals(0, r.exitCode(), r.toString());
    for (String f :
        List.of(
            "ca.pem",
            "ca-key.pem",
            "coordinator.pem",
            "coordinator-key.pem",
            "inventory.pem",
            "inventory-key.pem",
            "operator-alice.pem",
            "operator-alice-key.pem",
            "orders.pem",
            "orders-key.pem")) {
      assertTrue(Files.isReadable(certs.resolve(f)), f + "\n" + r);
    }
    assertTrue(r.out().contains("valid for 2d;"), r.out());
    // the roles file for --roles: each name's roles, implied from the name or given
    assertEquals(
        List.of(
            "coordinator = coordinator",
            "inventory = participant",
            "operator-alice = operator",
            "orders = client, participant"),
        Files.readAllLines(certs.resolve("roles.conf")).stream()
            .filter(l -> !l.startsWith("#"))
            .toList());
    assertTrue(r.out().contains("--roles " + certs.resolve("roles.conf")), r.out());
    Cli.Result badRole =
        Cli.runAsMain("certs", "--out", dir.resolve("other").toString(), "--name", "orders=admin");
    assertEquals(2, badRole.exitCode(), badRole.toString());
    assertTrue(badRole.err().contains("--name orders=admin: "), badRole.err());
    Cli.Result again2 =
        Cli.runAsMain(
            "certs", "--out", dir.resolve("other").toString(), "--name", "coordinator=participant");
    assertEquals(2, again2.exitCode(), again2.toString());
    assertTrue(again2.err().contains("coordinator's certificate is always made"), again2.err());
    Cli.Result twice =
        Cli.runAsMain(
            "certs",
            "--out",
            dir.resolve("other").toString(),
            "--name",
            "inventory",
            "--name",
            "inventory=client");
    assertEquals(2, twice.exitCode(), twice.toString());
    assertTrue(twice.err().contains("given twice"), twice.err());
    Cli.Result again = Cli.runAsMain("certs", "--out", certs.toString());
    assertEquals(2, again.exitCode(), again.toString());
    assertTrue(again.err().contains("ca.pem exists"), again.err());
    Cli.Result bad =
        Cli.runAsMain("certs", "--out", dir.resolve("other").toString(), "--name", "Not Valid");
    assertEquals(2, bad.exitCode(), bad.toString());
  }

  @Test
  void aCoordinatorWithTlsIsReachedWithACertificateAndNotWithout() throws Exception {
    Path certs = dir.resolve("certs");
    assertEquals(
        0,
        Cli.run(
                "certs",
                "--out",
                certs.toString(),
                "--name",
                "operator-alice",
                "--name",
                "client-shop")
            .exitCode());
    Running c =
        start(
            "coordinator",
            "--port",
            "0",
            "--data",
            dir.resolve("data").toString(),
            "--durability",
            "process",
            "--tls-cert",
            certs.resolve("coordinator.pem").toString(),
            "--tls-key",
            certs.resolve("coordinator-key.pem").toString(),
            "--tls-trust",
            certs.resolve("ca.pem").toString(),
            "--roles",
            certs.resolve("roles.conf").toString(),
            "--role",
            "operator-bob=operator");
    try {
      assertTrue(c.out().contains("tls-cert=" + certs.resolve("coordinator.pem")), c.out());
      assertTrue(c.out().contains(", mutual TLS, roles for 4 identities)"), c.out());
      String target = "localhost:" + c.port();
      Cli.Result withCert =
          Cli.run(
              "participants",
              "--coordinator",
              target,
              "--timeout",
              "10s",
              "--tls-cert",
              certs.resolve("operator-alice.pem").toString(),
              "--tls-key",
              certs.resolve("operator-alice-key.pem").toString(),
              "--tls-trust",
              certs.resolve("ca.pem").toString());
      assertEquals(0, withCert.exitCode(), withCert.toString());
      // a client's certificate is not an operator's: exit 6 and the reason
      Cli.Result client =
          Cli.run(
              "tx",
              "list",
              "--coordinator",
              target,
              "--timeout",
              "10s",
              "--tls-cert",
              certs.resolve("client-shop.pem").toString(),
              "--tls-key",
              certs.resolve("client-shop-key.pem").toString(),
              "--tls-trust",
              certs.resolve("ca.pem").toString());
      assertEquals(6, client.exitCode(), client.toString());
      assertEquals(
          "twopc: not allowed by coordinator at "
              + target
              + ": client-shop may not"
              + " call Admin/ListTransactions: it needs the operator role (it has roles: client)",
          client.err().strip());
      Cli.Result plaintext = Cli.run("participants", "--coordinator", target, "--timeout", "5s");
      assertEquals(3, plaintext.exitCode(), plaintext.toString());
      assertEquals(1, plaintext.err().split("\\R").length, plaintext.err());
      Cli.Result noCert =
          Cli.run(
              "participants",
              "--coordinator",
              target,
              "--timeout",
              "5s",
              "--tls-trust",
              certs.resolve("ca.pem").toString());
      assertEquals(3, noCert.exitCode(), noCert.toString());
      assertEquals(1, noCert.err().split("\\R").length, noCert.err());
    } finally {
      c.stop();
    }
  }

  @Test
  void partialTlsFlagsAreUsageErrors() throws Exception {
    Cli.Result noTrust =
        Cli.runAsMain(
            "coordinator", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--data", dir.toString());
    assertEquals(2, noTrust.exitCode(), noTrust.toString());
    assertTrue(noTrust.err().contains("--tls-trust is required"), noTrust.err());
    Path certs = dir.resolve("certs");
    assertEquals(0, Cli.run("certs", "--out", certs.toString()).exitCode());
    Cli.Result noRoles =
        Cli.runAsMain(
            "coordinator",
            "--port",
            "0",
            "--tls-cert",
            certs.resolve("coordinator.pem").toString(),
            "--tls-key",
            certs.resolve("coordinator-key.pem").toString(),
            "--tls-trust",
            certs.resolve("ca.pem").toString(),
            "--data",
            dir.toString());
    assertEquals(2, noRoles.exitCode(), noRoles.toString());
    assertTrue(
        noRoles.err().contains("TLS needs --roles FILE (or --role NAME=ROLES)"), noRoles.err());
    Cli.Result rolesNoTls =
        Cli.runAsMain("coordinator", "--role", "operator-alice=operator", "--data", dir.toString());
    assertEquals(2, rolesNoTls.exitCode(), rolesNoTls.toString());
    assertTrue(rolesNoTls.err().contains("--roles and --role need TLS"), rolesNoTls.err());
    Cli.Result noKey = Cli.runAsMain("tx", "list", "--tls-cert", "c.pem", "--tls-trust", "t.pem");
    assertEquals(2, noKey.exitCode(), noKey.toString());
    assertTrue(noKey.err().contains("--tls-cert and --tls-key go together"), noKey.err());
    Cli.Result missing =
        Cli.runAsMain("tx", "list", "--tls-trust", dir.resolve("nope.pem").toString());
    assertEquals(2, missing.exitCode(), missing.toString());
    assertTrue(missing.err().contains("cannot read TLS file"), missing.err());
  }

  @Test
  void withoutTlsAnAddressBeyondLoopbackNeedsInsecureListenWhichWarns() throws Exception {
    Cli.Result refused =
        Cli.runAsMain(
            "coordinator",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--data",
            dir.resolve("data").toString());
    assertEquals(2, refused.exitCode(), refused.toString());
    assertTrue(
        refused
                .err()
                .contains(
                    "--host 0.0.0.0 without TLS would serve plaintext beyond" + " this machine")
            && refused.err().contains("--insecure-listen"),
        refused.err());

    Running c =
        start(
            "coordinator",
            "--host",
            "0.0.0.0",
            "--insecure-listen",
            "--port",
            "0",
            "--data",
            dir.resolve("data").toString(),
            "--durability",
            "process");
    try {
      assertTrue(c.out().contains(", PLAINTEXT)"), c.out());
      await().atMost(Duration.ofSeconds(10)).until(() -> c.err().contains("WARNING"));
      assertTrue(
          c.err()
              .contains(
                  "twopc: WARNING: --insecure-listen: serving plaintext on"
                      + " 0.0.0.0:"
                      + c.port()),
          c.err());
    } finally {
      c.stop();
    }
  }

  /** A coordinator running in this JVM; {@link #stop} is its SIGTERM. */
  private record Running(
      CoordinatorCommandTest.RecordingHooks hooks,
      StringWriter outBuf,
      StringWriter errBuf,
      CompletableFuture<Integer> exit,
      int port) {
    String out() {
      return outBuf.toString();
    }

    String err() {
      return errBuf.toString();
    }

    void stop() throws Exception {
      hooks.hooks.forEach(CoordinatorCommandTest::runHook);
      assertEquals(0, exit.get(20, TimeUnit.SECONDS));
    }
  }

  private static Running start(String... args) {
    CoordinatorCommandTest.RecordingHooks hooks = new CoordinatorCommandTest.RecordingHooks();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl =
        new CommandLine(new TwopcCommand(hooks))
            .setOut(new PrintWriter(out, true))
            .setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(Arrays.asList(args));
    CompletableFuture<Integer> exit =
        CompletableFuture.supplyAsync(() -> cl.execute(all.toArray(new String[0])));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> PORT.matcher(out.toString()).find() || exit.isDone());
    Matcher m = PORT.matcher(out.toString());
    assertTrue(m.find(), out + "\n" + err);
    return new Running(hooks, out, err, exit, Integer.parseInt(m.group(1)));
  }
}
