package dev.twopc.coordinator.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Checks a {@code HOST:PORT} argument ({@code [::1]:7000} for IPv6) before any call is made; or
 * several, comma-separated (the nodes of one coordinator cluster).
 */
final class HostPort implements ITypeConverter<String> {
  @Override
  public String convert(String value) {
    String v = value == null ? "" : value.trim();
    if (v.contains(",")) {
      StringBuilder all = new StringBuilder();
      for (String one : v.split(",", -1)) {
        all.append(all.length() == 0 ? "" : ",").append(convert(one));
      }
      return all.toString();
    }
    int colon = v.lastIndexOf(':');
    if (colon <= 0 || colon == v.length() - 1) {
      throw new TypeConversionException("'" + value + "' is not HOST:PORT");
    }
    String host = v.substring(0, colon);
    if (host.contains(":") && !(host.startsWith("[") && host.endsWith("]"))) {
      throw new TypeConversionException(
          "'" + value + "' is not HOST:PORT (write IPv6 as [::1]:7000)");
    }
    int port;
    try {
      port = Integer.parseInt(v.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is not HOST:PORT: bad port");
    }
    if (port < 1 || port > 65535) {
      throw new TypeConversionException("'" + value + "': port must be 1..65535");
    }
    return v;
  }
}
