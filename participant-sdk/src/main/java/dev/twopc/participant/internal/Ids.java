package dev.twopc.participant.internal;

import java.util.regex.Pattern;

/** The wire's id formats. */
public final class Ids {
  private static final Pattern TX_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** A gRPC target: host:port, [v6]:port, or a scheme such as dns:///host:port. */
  private static final Pattern TARGET = Pattern.compile("[A-Za-z0-9._:/\\[\\]%-]{1,255}");

  private Ids() {}

  public static boolean isTxId(String s) {
    return s != null && TX_ID.matcher(s).matches();
  }

  public static boolean isCoordinatorTarget(String s) {
    return s != null && TARGET.matcher(s).matches();
  }

  public static boolean isParticipantName(String s) {
    return s != null && NAME.matcher(s).matches();
  }
}
