package dev.twopc.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Which roles each identity has: identity names (a certificate's subject alternative names, see
 * {@link PeerIdentity}) to {@link Role}s. Immutable. Read from a small file, one identity a line:
 *
 * <pre>
 * # identity = roles
 * coordinator    = coordinator
 * operator-alice = operator
 * client-shop    = client
 * orders         = participant, client
 * </pre>
 *
 * An identity's roles are those of every name its certificate carries; a name not in the map has
 * none. {@code localhost} and addresses are refused as identities: every certificate issued for
 * local development carries them.
 */
public final class RoleMap {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:/@-]{1,255}");
  private static final Set<String> SHARED_NAMES = Set.of("localhost", "127.0.0.1", "::1");

  private final Map<String, Set<Role>> roles;

  private RoleMap(Map<String, Set<Role>> roles) {
    Map<String, Set<Role>> copy = new LinkedHashMap<>();
    roles.forEach((name, r) -> copy.put(checkName(name), Set.copyOf(r)));
    this.roles = java.util.Collections.unmodifiableMap(copy);
  }

  /** No identity has any role. */
  public static RoleMap empty() {
    return new RoleMap(Map.of());
  }

  /** The given mapping. */
  public static RoleMap of(Map<String, Set<Role>> roles) {
    return new RoleMap(roles);
  }

  /**
   * Reads a roles file. A line that does not parse is an {@link IllegalArgumentException} naming
   * the file and the line.
   */
  public static RoleMap load(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    Map<String, Set<Role>> roles = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        Map.Entry<String, Set<Role>> e = parseEntry(line);
        if (roles.put(e.getKey(), e.getValue()) != null) {
          throw new IllegalArgumentException(e.getKey() + " is given twice");
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + e.getMessage());
      }
    }
    return new RoleMap(roles);
  }

  /** One {@code name = role[, role]} entry, as in the file or a command-line flag. */
  public static Map.Entry<String, Set<Role>> parseEntry(String entry) {
    int eq = entry.indexOf('=');
    if (eq < 0) {
      throw new IllegalArgumentException("'" + entry + "' is not NAME = ROLE[, ROLE]");
    }
    String name = checkName(entry.substring(0, eq).strip());
    Set<Role> r = EnumSet.noneOf(Role.class);
    for (String role : entry.substring(eq + 1).split(",", -1)) {
      if (!role.isBlank()) {
        r.add(Role.parse(role));
      }
    }
    if (r.isEmpty()) {
      throw new IllegalArgumentException(name + " has no role");
    }
    return Map.entry(name, Set.copyOf(r));
  }

  private static String checkName(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' is not an identity name (a DNS or URI"
              + " subject alternative name: letters, digits and ._:/@-)");
    }
    if (isSharedName(name)) {
      throw new IllegalArgumentException(
          name + " cannot be an identity: every local" + " certificate carries it");
    }
    return name;
  }

  /**
   * True for names every local certificate carries, or could: localhost in its spellings ({@code
   * localhost.}, {@code localhost.localdomain}, {@code *.localhost}) and loopback addresses.
   */
  public static boolean isSharedName(String name) {
    String n = name.toLowerCase(java.util.Locale.ROOT);
    return SHARED_NAMES.contains(n)
        || n.startsWith("localhost.")
        || n.endsWith(".localhost")
        || n.endsWith(".localhost.")
        || n.startsWith("127.")
        || n.equals("[::1]");
  }

  /** This map with {@code name}'s roles set to {@code r} (a command-line flag over the file). */
  public RoleMap with(String name, Set<Role> r) {
    Map<String, Set<Role>> m = new LinkedHashMap<>(roles);
    m.put(name, r);
    return new RoleMap(m);
  }

  /** The roles of an identity: those of every name it carries. */
  public Set<Role> rolesOf(Set<String> names) {
    Set<Role> r = EnumSet.noneOf(Role.class);
    for (String n : names) {
      r.addAll(roles.getOrDefault(n, Set.of()));
    }
    return Set.copyOf(r);
  }

  /** The first of {@code names} this map grants {@code role} to, or null. */
  public String nameWith(Set<String> names, Role role) {
    for (String n : names) {
      if (roles.getOrDefault(n, Set.of()).contains(role)) {
        return n;
      }
    }
    return null;
  }

  /** The identities and their roles, in the file's order. */
  public Map<String, Set<Role>> entries() {
    return roles;
  }

  /** The file's text for this map. */
  public String format() {
    return roles.entrySet().stream()
        .map(
            e ->
                e.getKey()
                    + " = "
                    + e.getValue().stream()
                        .sorted()
                        .map(Role::toString)
                        .collect(Collectors.joining(", ")))
        .collect(Collectors.joining("\n", "", "\n"));
  }

  @Override
  public String toString() {
    return roles.size() + " identities";
  }
}
