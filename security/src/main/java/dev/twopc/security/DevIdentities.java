package dev.twopc.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code twopc certs}, the demo and the bench make for a development setup: a new {@link
 * DevCertificates} authority in one directory, a certificate for each identity, and the roles file
 * ({@code roles.conf}) granting each its roles.
 *
 * @param files each identity's certificate, key and the trust bundle, in the grants' order
 * @param rolesFile the roles file, for {@code --roles}
 */
public record DevIdentities(Map<String, TlsFiles> files, Path rolesFile) {
  public DevIdentities {
    files = Collections.unmodifiableMap(new LinkedHashMap<>(files));
  }

  /**
   * Creates the authority in {@code dir} (which must not hold one), one certificate per name of
   * {@code grants} and the roles file, all valid for {@code validity}.
   *
   * @throws IllegalArgumentException for a name a certificate cannot carry
   */
  public static DevIdentities create(Path dir, Map<String, Set<Role>> grants, Duration validity)
      throws IOException {
    RoleMap roles = RoleMap.of(grants); // checks the names before anything is written
    grants.keySet().forEach(DevCertificates::checkName);
    DevCertificates ca = DevCertificates.createAuthority(dir, validity);
    Map<String, TlsFiles> files = new LinkedHashMap<>();
    for (String name : grants.keySet()) {
      files.put(name, ca.issue(name, validity));
    }
    Path rolesFile = dir.resolve("roles.conf");
    Files.writeString(
        rolesFile,
        "# identity = roles (client, participant, operator,"
            + " coordinator); for --roles\n"
            + roles.format());
    return new DevIdentities(files, rolesFile);
  }

  /** {@code name}'s TLS files. */
  public TlsFiles of(String name) {
    TlsFiles f = files.get(name);
    if (f == null) {
      throw new IllegalArgumentException("no certificate for " + name);
    }
    return f;
  }

  /** {@code name}'s {@code --tls-cert}, {@code --tls-key} and {@code --tls-trust} flags. */
  public List<String> flags(String name) {
    TlsFiles f = of(name);
    return new ArrayList<>(
        List.of(
            "--tls-cert",
            f.certificateChain().toString(),
            "--tls-key",
            f.privateKey().toString(),
            "--tls-trust",
            f.trustBundle().toString()));
  }

  /** A server's flags: {@link #flags} and {@code --roles}. */
  public List<String> serverFlags(String name) {
    List<String> flags = flags(name);
    flags.addAll(List.of("--roles", rolesFile.toString()));
    return flags;
  }
}
