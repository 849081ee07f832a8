package dev.twopc.participant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.twopc.testing.FakeCoordinator;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistrationTest {
  @TempDir Path dir;

  @Test
  void registrationIsRetriedUntilTheCoordinatorAnswers() throws Exception {
    try (FakeCoordinator coord = FakeCoordinator.start()) {
      coord.registrationsToRefuse.set(4);
      try (Participant p =
          Participant.builder("payments")
              .coordinator(coord.target())
              .dataDirectory(dir)
              .handler(new TestHandler())
              .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
              .build()) {
        p.start();
        await().atMost(Duration.ofSeconds(10)).until(p::isRegistered);
        assertEquals(0, coord.registrationsToRefuse.get());
        FakeCoordinator.Registration r = coord.registrations.get(0);
        assertEquals("payments", r.name());
        assertEquals("localhost:" + p.port(), r.address());
      }
    }
  }

  @Test
  void registersThroughTheNextNodeWhenTheFirstIsDown() throws Exception {
    FakeCoordinator down = FakeCoordinator.start();
    String downTarget = down.target();
    down.close(); // nothing listens there any more
    try (FakeCoordinator up = FakeCoordinator.start();
        Participant p =
            Participant.builder("ledger")
                .coordinator(downTarget + "," + up.target())
                .dataDirectory(dir)
                .handler(new TestHandler())
                .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
                .build()) {
      p.start();
      await().atMost(Duration.ofSeconds(10)).until(p::isRegistered);
      assertEquals("ledger", up.registrations.get(0).name());
    }
  }

  @Test
  void registersAgainWithACoordinatorThatRestarted() throws Exception {
    FakeCoordinator coord = FakeCoordinator.start();
    int port = coord.port();
    try (Participant p =
        Participant.builder("orders")
            .coordinator(coord.target())
            .advertisedAddress("orders.internal:7102")
            .dataDirectory(dir)
            .handler(new TestHandler())
            .reregisterInterval(Duration.ofMillis(100))
            .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
            .build()) {
      p.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> !coord.registrations.isEmpty());
      coord.close();
      try (FakeCoordinator fresh = FakeCoordinator.startOn(port)) {
        assertFalse(fresh.registrations.stream().anyMatch(r -> false));
        await().atMost(Duration.ofSeconds(10)).until(() -> !fresh.registrations.isEmpty());
        assertEquals(
            new FakeCoordinator.Registration("orders", "orders.internal:7102"),
            fresh.registrations.get(0));
      }
    }
  }

  @Test
  void awaitRegisteredWaitsForTheFirstAcceptedRegistration() throws Exception {
    try (FakeCoordinator coord = FakeCoordinator.start()) {
      coord.registrationsToRefuse.set(Integer.MAX_VALUE);
      try (Participant p =
          Participant.builder("inventory")
              .coordinator(coord.target())
              .dataDirectory(dir)
              .handler(new TestHandler())
              .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
              .build()) {
        p.start();
        assertFalse(p.awaitRegistered(Duration.ofMillis(200)), "every attempt is refused");
        assertFalse(p.isRegistered());
        coord.registrationsToRefuse.set(0);
        assertTrue(p.awaitRegistered(Duration.ofSeconds(30)));
        assertTrue(p.isRegistered());
      }
    }
  }

  @Test
  void listenHostBindsThatAddressOnlyAndIsAdvertised() throws Exception {
    try (FakeCoordinator coord = FakeCoordinator.start();
        Participant p =
            Participant.builder("payments")
                .coordinator(coord.target())
                .listenHost("127.0.0.1")
                .dataDirectory(dir)
                .handler(new TestHandler())
                .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
                .build()) {
      p.start();
      assertTrue(p.awaitRegistered(Duration.ofSeconds(30)));
      assertEquals("127.0.0.1:" + p.port(), p.advertisedAddress());
      assertEquals("127.0.0.1:" + p.port(), coord.registrations.get(0).address());
      try (Socket s = new Socket("127.0.0.1", p.port())) {
        assertTrue(s.isConnected());
      }
      // Any other address of this machine is not served.
      for (InetAddress other : otherLocalAddresses()) {
        assertThrows(
            ConnectException.class,
            () -> new Socket(other, p.port()).close(),
            "reachable on " + other);
      }
    }
  }

  private static List<InetAddress> otherLocalAddresses() throws SocketException {
    List<InetAddress> out = new ArrayList<>();
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      if (!ni.isUp() || ni.isLoopback()) {
        continue;
      }
      for (InetAddress a : Collections.list(ni.getInetAddresses())) {
        if (a instanceof Inet4Address) {
          out.add(a);
        }
      }
    }
    return out;
  }
}
