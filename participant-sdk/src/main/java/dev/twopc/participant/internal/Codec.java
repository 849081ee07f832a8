package dev.twopc.participant.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Encodes a branch's work and lock set into single columns (one row per branch, one insert). */
final class Codec {
  private static final int VERSION = 1;

  private Codec() {}

  static byte[] encodeWork(byte[] payload, List<byte[]> staged) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(payload.length + 16);
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeByte(VERSION);
      out.writeInt(payload.length);
      out.write(payload);
      out.writeInt(staged.size());
      for (byte[] item : staged) {
        out.writeInt(item.length);
        out.write(item);
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns the payload followed by the staged items. */
  static List<byte[]> decodeWork(byte[] work) {
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(work));
      int version = in.readByte();
      if (version != VERSION) {
        throw new IllegalStateException("unknown work encoding version " + version);
      }
      List<byte[]> out = new ArrayList<>();
      out.add(in.readNBytes(in.readInt()));
      int n = in.readInt();
      for (int i = 0; i < n; i++) {
        out.add(in.readNBytes(in.readInt()));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** "X5:stock" per key: mode, key length, colon, key. Keys may contain any character. */
  static String encodeLocks(Map<String, LockManager.Mode> locks) {
    StringBuilder sb = new StringBuilder();
    locks.forEach((key, mode) -> sb.append(mode.code).append(key.length()).append(':').append(key));
    return sb.toString();
  }

  static Map<String, LockManager.Mode> decodeLocks(String s) {
    Map<String, LockManager.Mode> out = new LinkedHashMap<>();
    int i = 0;
    while (i < s.length()) {
      LockManager.Mode mode = LockManager.Mode.of(s.charAt(i));
      int colon = s.indexOf(':', i + 1);
      int len = Integer.parseInt(s.substring(i + 1, colon));
      out.put(s.substring(colon + 1, colon + 1 + len), mode);
      i = colon + 1 + len;
    }
    return out;
  }
}
