package dev.twopc.security;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** What an address to listen on exposes: the safe default is loopback only. */
public final class Addresses {
  private Addresses() {}

  /**
   * True when every address {@code host} names is loopback (127.0.0.0/8, ::1, localhost): a server
   * bound there is reachable from this machine only. A wildcard (0.0.0.0, ::) or a name that does
   * not resolve is not.
   */
  public static boolean isLoopback(String host) {
    try {
      InetAddress[] all = InetAddress.getAllByName(host);
      for (InetAddress a : all) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return all.length > 0;
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
