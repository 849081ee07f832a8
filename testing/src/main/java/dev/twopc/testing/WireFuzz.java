package dev.twopc.testing;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pieces of a wire-level input fuzzer: odd strings, raw request bytes that are not valid protobuf
 * (or hold invalid UTF-8 in a string field), a raw unary call with a byte-array marshaller under a
 * method's real name, and the checks every error status must pass.
 */
public final class WireFuzz {
  private final Random r;

  /** Inputs sent that match {@link #ECHOABLE}: a description quoting them back is not a leak. */
  private final Set<String> hostileSent = ConcurrentHashMap.newKeySet();

  public WireFuzz(Random r) {
    this.r = r;
  }

  public Random random() {
    return r;
  }

  // ------------------------------------------------------------------------------ strings

  /** Awkward but printable fragments; none names a Java class (see {@link #LEAKS}). */
  private static final String[] FRAGMENTS = {
    "",
    " ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    "line one\nline two",
    "\u0000",
    "a\u0000b",
    "\u001b[31m",
    "\u0085",
    "\u2028",
    "\u2029",
    "\u007f",
    "é",
    "e\u0301",
    "事务",
    "Ω≈ç√",
    "😀",
    "\ud83d\ude00x",
    "\ud800",
    "x\udc00",
    "\u202eevil",
    "\ufeff",
    "\ufffd",
    "\uffff",
    "ß",
    "İ",
    "ﬀ",
    "'; DROP TABLE twopc_tx; --",
    "\" OR 1=1 --",
    "SELECT * FROM twopc_tx WHERE 1=1",
    "%s%n%x",
    "{}",
    "{0}",
    "${jndi:ldap://x/a}",
    "../../etc/passwd",
    "<script>",
    "\\",
    "%00",
    "a b",
    "bad id!",
    "a/b",
    "a:b",
    "a.b",
    "-",
    ".",
    ":",
    "_",
    "0",
    "-1",
    "NaN",
    "null",
  };

  /** Letters, digits and the id punctuation: what tx ids and names are made of. */
  private static final String ID_CHARS =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";

  public String idChars(int n) {
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(ID_CHARS.charAt(r.nextInt(ID_CHARS.length())));
    }
    return clean(sb.toString());
  }

  public String alnum(int n) {
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(ID_CHARS.charAt(r.nextInt(62)));
    }
    return sb.toString();
  }

  /** Any string, usually awkward: empty, huge, control characters, non-ASCII, at a limit. */
  public String odd(int... limits) {
    String s =
        switch (r.nextInt(10)) {
          case 0 -> FRAGMENTS[r.nextInt(FRAGMENTS.length)];
          case 1, 2 -> {
            StringBuilder sb = new StringBuilder();
            for (int i = 1 + r.nextInt(4); i > 0; i--) {
              sb.append(
                  r.nextBoolean()
                      ? FRAGMENTS[r.nextInt(FRAGMENTS.length)]
                      : idChars(1 + r.nextInt(12)));
            }
            yield sb.toString();
          }
          case 3 -> {
            int limit = limits.length == 0 ? 64 : limits[r.nextInt(limits.length)];
            int n = Math.max(0, limit + r.nextInt(3) - 1); // limit-1, limit, limit+1
            yield r.nextBoolean() ? alnum(n) : "é".repeat(n);
          }
          case 4 -> alnum(2_000 + r.nextInt(30_000)); // huge
          case 5 -> randomCodePoints(1 + r.nextInt(40));
          case 6 -> idChars(1 + r.nextInt(200));
          default -> alnum(1 + r.nextInt(20));
        };
    noteSent(s);
    return s;
  }

  /** Random code points from every plane, including controls and lone surrogates. */
  public String randomCodePoints(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int cp =
          switch (r.nextInt(5)) {
            case 0 -> r.nextInt(0x20);
            case 1 -> 0x20 + r.nextInt(0x60);
            case 2 -> 0x80 + r.nextInt(0x780);
            case 3 -> r.nextInt(0x10000);
            default -> 0x10000 + r.nextInt(0x100000);
          };
      sb.appendCodePoint(cp);
    }
    return clean(sb.toString());
  }

  /** Never a string that could read as a class name in a description. */
  private String clean(String s) {
    return LEAKS.matcher(s).find() ? alnum(s.length()) : s;
  }

  public void noteSent(String s) {
    if (s.length() >= 3 && ECHOABLE.matcher(s).find()) {
      hostileSent.add(s);
    }
  }

  /** Notes every string field of {@code m}, nested messages included. */
  public void noteSent(Message m) {
    for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
      List<?> values = e.getKey().isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
      for (Object v : values) {
        if (v instanceof String s) {
          noteSent(s);
        } else if (v instanceof Message sub) {
          noteSent(sub);
        }
      }
    }
  }

  public boolean chance(double p) {
    return r.nextDouble() < p;
  }

  public <T> T pick(List<T> xs) {
    return xs.get(r.nextInt(xs.size()));
  }

  // ------------------------------------------------------------------------------ raw bytes

  private static final byte[][] BAD_UTF8 = {
    {(byte) 0xFF},
    {(byte) 0xC0, (byte) 0x80},
    {(byte) 0xC3},
    {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
    {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
    {(byte) 0x80},
    {(byte) 0xE2, (byte) 0x82},
    {'o', 'k', (byte) 0xFE, 'x'},
    {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
  };

  /**
   * {@code valid} (the bytes of a valid message of type {@code type}) broken in one of several
   * ways; the result may still happen to parse, so callers decide by parsing it.
   */
  public byte[] mutate(byte[] valid, Descriptor type) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int field = 1 + r.nextInt(20);
    switch (r.nextInt(12)) {
      case 0 -> {
        byte[] b = new byte[1 + r.nextInt(64)];
        r.nextBytes(b);
        return b;
      }
      case 1 -> {
        return valid.length == 0
            ? new byte[] {(byte) 0x0A}
            : Arrays.copyOf(valid, r.nextInt(valid.length));
      }
      case 2 -> {
        byte[] b = valid.length == 0 ? new byte[] {0x08, 0x01} : valid.clone();
        for (int i = 1 + r.nextInt(4); i > 0; i--) {
          b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
        }
        return b;
      }
      case 3 -> { // wire types 6 and 7 do not exist
        out.writeBytes(valid);
        varint(out, (field << 3) | (6 + r.nextInt(2)));
        out.write(0);
      }
      case 4 -> { // a length past the end
        out.writeBytes(valid);
        varint(out, (field << 3) | 2);
        varint(out, 1000 + r.nextInt(1_000_000));
        out.writeBytes(new byte[] {1, 2, 3});
      }
      case 5 -> { // an 11-byte varint
        out.writeBytes(valid);
        varint(out, field << 3);
        for (int i = 0; i < 10; i++) {
          out.write(0xFF);
        }
        out.write(0x01);
      }
      case 6, 7, 8 -> {
        return withBadUtf8(valid, type);
      }
      case 9 -> { // tag 0, or an end-group nobody started
        out.writeBytes(valid);
        if (r.nextBoolean()) {
          out.write(0);
        } else {
          varint(out, (field << 3) | 4);
        }
      }
      case 10 -> { // nested groups past the recursion limit, or a negative length
        out.writeBytes(valid);
        if (r.nextBoolean()) {
          for (int i = 0; i < 150; i++) {
            varint(out, (15 << 3) | 3);
          }
        } else {
          varint(out, (field << 3) | 2);
          for (int i = 0; i < 9; i++) {
            out.write(0xFF);
          }
          out.write(0x01);
        }
      }
      default -> { // random bytes spliced in
        int at = valid.length == 0 ? 0 : r.nextInt(valid.length + 1);
        byte[] junk = new byte[1 + r.nextInt(8)];
        r.nextBytes(junk);
        out.write(valid, 0, at);
        out.writeBytes(junk);
        out.write(valid, at, valid.length - at);
      }
    }
    return out.toByteArray();
  }

  /** Appends an occurrence of a string field (top level or one message down) with bad UTF-8. */
  public byte[] withBadUtf8(byte[] valid, Descriptor type) {
    List<int[]> paths = new ArrayList<>();
    for (FieldDescriptor f : type.getFields()) {
      if (f.getType() == FieldDescriptor.Type.STRING) {
        paths.add(new int[] {f.getNumber()});
      } else if (f.getType() == FieldDescriptor.Type.MESSAGE) {
        for (FieldDescriptor g : f.getMessageType().getFields()) {
          if (g.getType() == FieldDescriptor.Type.STRING) {
            paths.add(new int[] {f.getNumber(), g.getNumber()});
          }
        }
      }
    }
    byte[] bad = BAD_UTF8[r.nextInt(BAD_UTF8.length)];
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(valid);
    if (paths.isEmpty()) { // no string field: an unknown one is not checked, so break a tag
      varint(out, (1 << 3) | 2);
      varint(out, 5);
      return out.toByteArray();
    }
    int[] path = pick(paths);
    ByteArrayOutputStream inner = new ByteArrayOutputStream();
    varint(inner, (path[path.length - 1] << 3) | 2);
    varint(inner, bad.length);
    inner.writeBytes(bad);
    if (path.length == 2) {
      byte[] leaf = inner.toByteArray();
      inner = new ByteArrayOutputStream();
      varint(inner, (path[0] << 3) | 2);
      varint(inner, leaf.length);
      inner.writeBytes(leaf);
    }
    out.writeBytes(inner.toByteArray());
    return out.toByteArray();
  }

  private static void varint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  /** The message as the server would parse it, or null if it is not a valid one. */
  public static Message parse(Message prototype, byte[] bytes) {
    try {
      return prototype.getParserForType().parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  // ------------------------------------------------------------------------------ calls

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private static final Map<String, MethodDescriptor<byte[], byte[]>> RAW =
      new ConcurrentHashMap<>();
  private static final Map<String, MethodDescriptor<byte[], byte[]>> RAW_STREAMS =
      new ConcurrentHashMap<>();

  /** A unary call of {@code fullMethodName} with {@code request} as the message bytes. */
  public static Reply call(
      Channel channel, String fullMethodName, byte[] request, long timeoutMillis) {
    MethodDescriptor<byte[], byte[]> md =
        RAW.computeIfAbsent(
            fullMethodName,
            n ->
                MethodDescriptor.<byte[], byte[]>newBuilder()
                    .setType(MethodDescriptor.MethodType.UNARY)
                    .setFullMethodName(n)
                    .setRequestMarshaller(BYTES)
                    .setResponseMarshaller(BYTES)
                    .build());
    try {
      byte[] response =
          ClientCalls.blockingUnaryCall(
              channel,
              md,
              CallOptions.DEFAULT.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS),
              request);
      return new Reply(Status.OK, response);
    } catch (StatusRuntimeException e) {
      return new Reply(e.getStatus(), null);
    }
  }

  /**
   * Opens the bidirectional stream {@code fullMethodName}, sends {@code request} as its one message
   * (raw bytes, as they are), half-closes it, and returns how it ended with every message the
   * server sent on it; a stream still open after {@code timeoutMillis} is cancelled and ends
   * DEADLINE_EXCEEDED.
   */
  public static StreamReply exchange(
      Channel channel, String fullMethodName, byte[] request, long timeoutMillis) {
    MethodDescriptor<byte[], byte[]> md =
        RAW_STREAMS.computeIfAbsent(
            fullMethodName,
            n ->
                MethodDescriptor.<byte[], byte[]>newBuilder()
                    .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                    .setFullMethodName(n)
                    .setRequestMarshaller(BYTES)
                    .setResponseMarshaller(BYTES)
                    .build());
    List<byte[]> responses = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.CompletableFuture<Status> end =
        new java.util.concurrent.CompletableFuture<>();
    io.grpc.stub.StreamObserver<byte[]> out =
        ClientCalls.asyncBidiStreamingCall(
            channel.newCall(
                md, CallOptions.DEFAULT.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS)),
            new io.grpc.stub.StreamObserver<byte[]>() {
              @Override
              public void onNext(byte[] r) {
                responses.add(r);
              }

              @Override
              public void onError(Throwable t) {
                end.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                end.complete(Status.OK);
              }
            });
    out.onNext(request);
    out.onCompleted();
    try {
      return new StreamReply(end.get(timeoutMillis + 5_000, TimeUnit.MILLISECONDS), responses);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for " + fullMethodName, e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(fullMethodName + " did not end", e);
    }
  }

  /** How a stream ended, and what the server sent on it. */
  public record StreamReply(Status status, List<byte[]> responses) {}

  // Replies are read, never compared or hashed, so array identity in equals does not matter.
  @SuppressWarnings("ArrayRecordComponent")
  public record Reply(Status status, byte[] response) {
    public Status.Code code() {
      return status.getCode();
    }
  }

  // ------------------------------------------------------------------------------ checks

  /** What a description must never hold: class and package names, stack frames. */
  public static final Pattern LEAKS =
      Pattern.compile(
          "Exception|Throwable|\\b(dev\\.twopc|java|javax|jdk|sun|io\\.grpc|com\\.google|io\\.netty"
              + "|org\\.rocksdb|org\\.sqlite|org\\.postgresql|org\\.mariadb|org\\.h2)\\.|\\.java:\\d"
              + "|\\bat [\\w$]+(\\.[\\w$]+)+\\(|Caused by|CodedInputStream|RocksDB");

  /** SQL, which a description may hold only as an echo of the caller's own input. */
  public static final Pattern ECHOABLE =
      Pattern.compile(
          "(?i)\\b(select\\b.*\\bfrom|insert\\s+into|update\\s+\\w+\\s+set|delete\\s+from"
              + "|drop\\s+table|sqlstate|syntax error)\\b|\\bSQL\\b");

  private static final Pattern LINE_BREAKS_AND_CONTROLS =
      Pattern.compile("[\\p{Cntrl}\\u2028\\u2029]");

  /** Null if {@code s} is a fine description of a non-OK status, else what is wrong with it. */
  public String descriptionProblem(Status s) {
    String d = s.getDescription();
    if (d == null || d.isBlank()) {
      return "no description";
    }
    if (LINE_BREAKS_AND_CONTROLS.matcher(d).find()) {
      return "not one line (line break or control character)";
    }
    Matcher leak = LEAKS.matcher(d);
    if (leak.find()) {
      return "names a class or holds a trace: '" + leak.group() + "'";
    }
    Matcher sql = ECHOABLE.matcher(d);
    while (sql.find()) {
      String m = sql.group();
      if (hostileSent.stream().noneMatch(h -> h.contains(m))) {
        return "holds SQL that is not the caller's input: '" + m + "'";
      }
    }
    if (s.getCause() != null) {
      return "carries a cause";
    }
    return null;
  }

  /** For failure messages: short, one line. */
  public static String show(String s) {
    StringBuilder sb = new StringBuilder();
    s.codePoints()
        .limit(400)
        .forEach(
            cp -> {
              if (cp < 0x20
                  || cp == 0x7f
                  || (cp >= 0x80 && cp < 0xa0)
                  || cp == 0x2028
                  || cp == 0x2029
                  || (Character.isSurrogate((char) cp) && cp < 0x10000)) {
                sb.append(String.format("\\u%04x", cp));
              } else {
                sb.appendCodePoint(cp);
              }
            });
    return s.length() > 400 ? sb + "...(" + s.length() + " chars)" : sb.toString();
  }

  public static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(b.length, 48); i++) {
      sb.append(String.format("%02x", b[i] & 0xff));
    }
    return b.length > 48 ? sb + "...(" + b.length + " bytes)" : sb.toString();
  }
}
