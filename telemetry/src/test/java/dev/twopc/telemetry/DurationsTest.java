package dev.twopc.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

/** The one duration syntax of every twopc flag. */
class DurationsTest {
  @Test
  void parsesTheShortFormsAndIso() {
    assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
    assertEquals(Duration.ofSeconds(5), Durations.parse("5s"));
    assertEquals(Duration.ofMinutes(3), Durations.parse("3m"));
    assertEquals(Duration.ofHours(2), Durations.parse("2h"));
    assertEquals(Duration.ofDays(7), Durations.parse("7d"));
    assertEquals(Duration.ofSeconds(5), Durations.parse("PT5S"));
    assertEquals(Duration.ofMinutes(90), Durations.parse("pt1h30m"));
  }

  @Test
  void rejectsAnythingElseWithAMessageShowingTheForms() {
    for (String bad : new String[] {"", "5", "5 s", "-5s", "5sec", "1.5s", "PT-5S", "banana"}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
      assertTrue(e.getMessage().contains("500ms, 5s"), e.getMessage());
    }
    assertEquals(
        "bad duration '1.5s': use e.g. 500ms, 5s, 3m, 2h, 7d or PT5S",
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("1.5s")).getMessage());
  }

  @Test
  void theFlagConverterAcceptsTheSameFormsAndGivesTheSameOneLineMessage() {
    Durations.Converter converter = new Durations.Converter();
    for (String good : new String[] {"500ms", "5s", "3m", "2h", "7d", "PT5S", " 10S "}) {
      assertEquals(Durations.parse(good), converter.convert(good), good);
    }
    for (String bad : new String[] {"", "5", "1.5s", "-5s", "PT-5S", "banana"}) {
      IllegalArgumentException parse =
          assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
      TypeConversionException flag =
          assertThrows(TypeConversionException.class, () -> converter.convert(bad), bad);
      assertEquals(parse.getMessage(), flag.getMessage());
      assertFalse(flag.getMessage().contains("\n"), flag.getMessage());
    }
  }

  @Test
  void formatIsTheInverseOfParse() {
    for (String text : new String[] {"0s", "250ms", "1500ms", "5s", "90s", "3m", "2h", "7d"}) {
      assertEquals(text, Durations.format(Durations.parse(text)));
    }
  }

  @Test
  void formatsRoundValuesBackToTheShortForm() {
    assertEquals("100ms", Durations.format(Duration.ofMillis(100)));
    assertEquals("30s", Durations.format(Duration.ofSeconds(30)));
    assertEquals("10m", Durations.format(Duration.ofMinutes(10)));
    assertEquals("7d", Durations.format(Duration.ofDays(7)));
    assertEquals("1500ms", Durations.format(Duration.ofMillis(1500)));
  }

  @Test
  void agesAreAtMostTwoUnits() {
    assertEquals("850ms", Durations.age(Duration.ofMillis(850)));
    assertEquals("42s", Durations.age(Duration.ofSeconds(42)));
    assertEquals("3m12s", Durations.age(Duration.ofSeconds(192)));
    assertEquals("2h05m", Durations.age(Duration.ofMinutes(125).plusSeconds(59)));
    assertEquals("3d04h", Durations.age(Duration.ofDays(3).plusHours(4).plusMinutes(59)));
    assertEquals("0s", Durations.age(Duration.ofSeconds(-3)));
  }
}
