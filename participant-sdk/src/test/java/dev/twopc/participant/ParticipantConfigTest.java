package dev.twopc.participant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The participant keeps its configuration as built; newBuilder() starts from it. */
class ParticipantConfigTest {
  private static Participant.Builder valid() {
    return Participant.builder("inventory")
        .coordinator("localhost:7000")
        .dataDirectory(Path.of("unused"))
        .handler(new TestHandler());
  }

  @Test
  void newBuilderStartsFromTheBuiltConfigurationAndChangingItLeavesTheParticipantAlone() {
    Participant p = valid().build();
    Participant.Builder again = p.newBuilder();
    Participant copy = again.build();
    assertNotSame(p, copy);
    assertEquals("inventory", copy.name());
    // The copy's builder validates as the original did: breaking it fails its build only.
    again.coordinator(" ");
    assertThrows(IllegalArgumentException.class, again::build);
    assertEquals("inventory", p.newBuilder().build().name());
  }

  @Test
  void theBuilderNamesTheBadField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Participant.builder("bad name")
                    .coordinator("x:1")
                    .handler(new TestHandler())
                    .build());
    assertTrue(e.getMessage().startsWith("name"), e.getMessage());
  }

  @Test
  void theEmbeddedStoreWithoutItsOptionalDriverIsRefusedNamingTheMissingDependency() {
    ClassLoader bootOnly = new ClassLoader(null) {};
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> Participant.Builder.requireEmbeddedStore(bootOnly));
    assertTrue(e.getMessage().contains("org.xerial:sqlite-jdbc"), e.getMessage());
    assertTrue(e.getMessage().contains("dataSource("), e.getMessage());
    // On this classpath both are present.
    Participant.Builder.requireEmbeddedStore(Participant.class.getClassLoader());
  }
}
