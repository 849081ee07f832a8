package dev.twopc.coordinator.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class LimitsTest {
  @Test
  void shortCleanTextIsUntouched() {
    String s = "漢字 😀 ok";
    assertSame(s, Limits.text(s, 100));
    assertNull(Limits.text(null, 10));
  }

  @Test
  void cutsAtACodePointAndMarksTheCut() {
    assertEquals("abcd…", Limits.text("abcdefgh", 5));
    // the pair would straddle the cut: it is dropped whole
    assertEquals("abc…", Limits.text("abc😀defg", 5));
    assertEquals("ab😀…", Limits.text("ab😀defg", 5));
    assertEquals("a\uFFFDb", Limits.text("a\u0000b", 5));
    assertEquals("a\uFFFDb\uFFFD", Limits.text("a\uD800b\uDC00", 5));
    assertEquals("😀", Limits.text("😀", 2));
    assertEquals("…", Limits.text("😀x", 2));
  }
}
