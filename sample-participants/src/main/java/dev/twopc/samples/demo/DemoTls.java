package dev.twopc.samples.demo;

import dev.twopc.client.TransactionClient;
import dev.twopc.security.DevIdentities;
import dev.twopc.security.Role;
import dev.twopc.security.TlsCredentials;
import io.grpc.ChannelCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The demo's mutual TLS: a development CA ({@link DevIdentities}, as {@code twopc certs} makes it)
 * in the work directory, a certificate for every process and for the demo's own client and
 * operator, and the roles file the coordinator and the services read.
 */
final class DemoTls implements AutoCloseable {
  static final String CLIENT = "client-demo";
  static final String OPERATOR = "operator-demo";

  private final DevIdentities made;
  private final TlsCredentials operator;

  private DemoTls(Path dir, List<String> services) throws IOException {
    Map<String, Set<Role>> grants = new LinkedHashMap<>();
    grants.put(Cluster.COORDINATOR, Set.of(Role.COORDINATOR));
    for (String s : services) {
      grants.put(s, Set.of(Role.PARTICIPANT));
    }
    grants.put(CLIENT, Set.of(Role.CLIENT));
    grants.put(OPERATOR, Set.of(Role.OPERATOR));
    made = DevIdentities.create(dir, grants, Duration.ofDays(1));
    operator = TlsCredentials.load(made.of(OPERATOR), Duration.ofMinutes(10));
  }

  /**
   * Certificates under {@code dir} for the coordinator, {@code services}, a client, an operator.
   */
  static DemoTls create(Path dir, List<String> services) throws IOException {
    return new DemoTls(dir, services);
  }

  /** {@code name}'s --tls-cert, --tls-key and --tls-trust. */
  List<String> flags(String name) {
    return made.flags(name);
  }

  /** A server's flags: its certificate and the roles file. */
  List<String> serverFlags(String name) {
    return made.serverFlags(name);
  }

  /** The demo client's certificate on {@code b}. */
  TransactionClient.Builder client(TransactionClient.Builder b) {
    return b.tls(made.of(CLIENT));
  }

  /** Channel credentials of the demo's operator, for the audit's operator calls. */
  ChannelCredentials operator() {
    return operator.channel();
  }

  @Override
  public void close() {
    operator.close();
  }
}
