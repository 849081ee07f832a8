package dev.twopc.security;

import io.grpc.Context;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The authenticated caller of the current call and the roles a {@link RoleMap} grants it, put in
 * the call's context by {@link AccessControl#interceptor()}. A server without access control (no
 * TLS, loopback only) has no caller: {@link #current()} is empty there.
 *
 * @param name the name shown in logs and recorded as who acted: the first of the certificate's
 *     names that has a role, else its first name
 * @param names the names the certificate carries as its own: not localhost or loopback addresses,
 *     which every local certificate carries ({@link RoleMap#isSharedName})
 * @param roles the roles granted to any of them
 */
public record Caller(String name, Set<String> names, Set<Role> roles) {
  static final Context.Key<Caller> KEY = Context.key("twopc-caller");

  public Caller {
    names = Collections.unmodifiableSet(new LinkedHashSet<>(names));
    roles = Set.copyOf(roles);
  }

  /** The current call's caller; empty where access control is off or outside a call. */
  public static Optional<Caller> current() {
    return Optional.ofNullable(KEY.get());
  }

  public boolean has(Role role) {
    return roles.contains(role);
  }

  /** True when the caller's certificate carries {@code n} (one of {@link #names()}). */
  public boolean carries(String n) {
    return names.contains(n);
  }
}
