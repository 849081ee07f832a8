package dev.twopc.samples.demo;

import dev.twopc.participant.TransactionClient;
import dev.twopc.security.DevCertificates;
import dev.twopc.security.Role;
import dev.twopc.security.RoleMap;
import dev.twopc.security.TlsCredentials;
import dev.twopc.security.TlsFiles;
import io.grpc.ChannelCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The demo's mutual TLS: a development CA ({@link DevCertificates}, as {@code twopc certs}
 * makes it) in the work directory, a certificate for every process and for the demo's own client
 * and operator, and the roles file the coordinator and the services read.
 */
final class DemoTls implements AutoCloseable {
  static final String CLIENT = "client-demo";
  static final String OPERATOR = "operator-demo";

  private final Path roles;
  private final Map<String, TlsFiles> files = new LinkedHashMap<>();
  private final TlsCredentials operator;

  private DemoTls(Path dir, List<String> services) throws IOException {
    DevCertificates ca = DevCertificates.createAuthority(dir, Duration.ofDays(1));
    Map<String, Set<Role>> grants = new LinkedHashMap<>();
    grants.put(Cluster.COORDINATOR, Set.of(Role.COORDINATOR));
    for (String s : services) {
      grants.put(s, Set.of(Role.PARTICIPANT));
    }
    grants.put(CLIENT, Set.of(Role.CLIENT));
    grants.put(OPERATOR, Set.of(Role.OPERATOR));
    for (String name : grants.keySet()) {
      files.put(name, ca.issue(name, Duration.ofDays(1)));
    }
    roles = dir.resolve("roles.conf");
    Files.writeString(roles, RoleMap.of(grants).format());
    operator = TlsCredentials.load(files.get(OPERATOR), Duration.ofMinutes(10));
  }

  /** Certificates under {@code dir} for the coordinator, {@code services}, a client, an operator. */
  static DemoTls create(Path dir, List<String> services) throws IOException {
    return new DemoTls(Files.createDirectories(dir), services);
  }

  /** {@code name}'s --tls-cert, --tls-key and --tls-trust. */
  List<String> flags(String name) {
    TlsFiles f = files.get(name);
    return new ArrayList<>(List.of("--tls-cert", f.certificateChain().toString(),
        "--tls-key", f.privateKey().toString(), "--tls-trust", f.trustBundle().toString()));
  }

  /** A server's flags: its certificate and the roles file. */
  List<String> serverFlags(String name) {
    List<String> flags = flags(name);
    flags.addAll(List.of("--roles", roles.toString()));
    return flags;
  }

  /** The demo client's certificate on {@code b}. */
  TransactionClient.Builder client(TransactionClient.Builder b) {
    return b.tls(files.get(CLIENT));
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
