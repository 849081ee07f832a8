package dev.twopc.security;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What an identity may do, granted by a {@link RoleMap}. The coordinator and the participant SDK
 * check them with {@link AccessControl}; docs/security.md has the table of which call needs which.
 */
public enum Role {
  /** Begins, runs, commits and rolls back transactions, and enlists participants in them. */
  CLIENT,
  /**
   * A participant: registers under a name its certificate carries, enlists itself, and asks the
   * outcome of its own branches.
   */
  PARTICIPANT,
  /** Lists, inspects, retries and resolves transactions; lists participants and their branches. */
  OPERATOR,
  /** The coordinator: the only caller of a participant's Prepare, Commit and Rollback. */
  COORDINATOR;

  /** The role named {@code name} in any case ({@code operator}, {@code OPERATOR}). */
  public static Role parse(String name) {
    for (Role r : values()) {
      if (r.name().equalsIgnoreCase(name.trim())) {
        return r;
      }
    }
    throw new IllegalArgumentException(
        "unknown role '"
            + name.trim()
            + "' (roles: "
            + Arrays.stream(values()).map(Role::toString).collect(Collectors.joining(", "))
            + ")");
  }

  /** Lower case, as in the roles file. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
