package dev.twopc.participant;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistrationTest {
  @TempDir Path dir;

  @Test
  void registrationIsRetriedUntilTheCoordinatorAnswers() throws Exception {
    try (FakeCoordinator coord = FakeCoordinator.start()) {
      coord.registrationsToRefuse.set(4);
      try (Participant p = Participant.builder("payments").coordinator(coord.target())
          .dataDirectory(dir).handler(new TestHandler())
          .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50)).build()) {
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
  void registersAgainWithACoordinatorThatRestarted() throws Exception {
    FakeCoordinator coord = FakeCoordinator.start();
    int port = coord.port();
    try (Participant p = Participant.builder("orders").coordinator(coord.target())
        .advertisedAddress("orders.internal:7102")
        .dataDirectory(dir).handler(new TestHandler())
        .reregisterInterval(Duration.ofMillis(100))
        .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(50)).build()) {
      p.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> !coord.registrations.isEmpty());
      coord.close();
      try (FakeCoordinator fresh = FakeCoordinator.startOn(port)) {
        assertFalse(fresh.registrations.stream().anyMatch(r -> false));
        await().atMost(Duration.ofSeconds(10)).until(() -> !fresh.registrations.isEmpty());
        assertEquals(new FakeCoordinator.Registration("orders", "orders.internal:7102"),
            fresh.registrations.get(0));
      }
    }
  }
}
