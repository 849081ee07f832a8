package dev.twopc.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may call what on one server: each guarded method names the roles that may call it, the
 * caller's roles come from its certificate's names through a {@link RoleMap}, and a call from
 * anyone else is refused before it reaches the service, PERMISSION_DENIED (or UNAUTHENTICATED for a
 * caller whose certificate names no one) with a one-line reason. Services check what depends on the
 * request (a participant registering under its own name) with {@link Caller#current()} and {@link
 * #refuse}. Every refusal is counted; the first of each kind (caller, method, status) is logged as
 * {@code event=access_refused}, and again when its count reaches 10, 100, 1000 ..., so a caller
 * retrying in a loop cannot flood the log.
 *
 * <p>Methods of services that are not guarded (health, reflection, an application's own calls) are
 * open to every authenticated caller, with the caller in context.
 */
public final class AccessControl {
  private static final Logger log = LoggerFactory.getLogger(AccessControl.class);

  private final String server;
  private final RoleMap roles;
  private final Map<String, Set<Role>> rules;
  private final Set<String> guardedServices;
  private final Map<String, AtomicLong> byKind = new ConcurrentHashMap<>();
  private final LongAdder refused = new LongAdder();

  private AccessControl(Builder b) {
    this.server = b.server;
    this.roles = b.roles;
    this.rules = Map.copyOf(b.rules);
    this.guardedServices = Set.copyOf(b.guardedServices);
  }

  /** A policy for the server named {@code server} (in messages: "coordinator", "inventory"). */
  public static Builder builder(String server, RoleMap roles) {
    return new Builder(server, roles);
  }

  /** The roles file this policy grants from. */
  public RoleMap roles() {
    return roles;
  }

  /** Refusals so far (this process, this server). */
  public long refusals() {
    return refused.sum();
  }

  /**
   * Checks the method's rule and puts the {@link Caller} in context. Install it inside {@link
   * PeerIdentity#interceptor()} (listed before it in {@code ServerInterceptors.intercept}).
   */
  public ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        PeerIdentity id =
            PeerIdentity.current()
                .orElseGet(
                    () ->
                        PeerIdentity.of(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)));
        if (id == null || ownNames(id).isEmpty()) {
          StatusRuntimeException e =
              refuse(
                  null,
                  method,
                  Status.Code.UNAUTHENTICATED,
                  id == null
                      ? "no client certificate: this server takes calls over mutual TLS only"
                      : "the client certificate ("
                          + id.subject()
                          + ") carries no DNS or URI"
                          + " subject alternative name to identify it by (localhost and loopback"
                          + " addresses identify no one)");
          call.close(e.getStatus(), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        Caller caller = callerOf(id);
        Set<Role> allowed = rules.get(method);
        if (allowed == null
            && guardedServices.contains(MethodDescriptor.extractFullServiceName(method))) {
          allowed = Set.of(); // a method added to a guarded service without a rule: nobody
        }
        if (allowed != null && caller.roles().stream().noneMatch(allowed::contains)) {
          StatusRuntimeException e =
              refuse(
                  caller,
                  method,
                  Status.Code.PERMISSION_DENIED,
                  caller.name()
                      + " may not call "
                      + shortName(method)
                      + ": "
                      + (allowed.isEmpty()
                          ? "no rule allows anyone to"
                          : "it needs the "
                              + needs(allowed)
                              + " (it has "
                              + has(caller.roles())
                              + ")"));
          call.close(e.getStatus(), new Metadata());
          return new ServerCall.Listener<>() {};
        }
        return Contexts.interceptCall(
            Context.current().withValue(Caller.KEY, caller), call, headers, next);
      }
    };
  }

  /** The certificate's names less those every local certificate carries. */
  private static Set<String> ownNames(PeerIdentity id) {
    Set<String> own = new LinkedHashSet<>();
    for (String n : id.names()) {
      if (!RoleMap.isSharedName(n)) {
        own.add(n);
      }
    }
    return own;
  }

  private Caller callerOf(PeerIdentity id) {
    Set<String> names = ownNames(id);
    String name = null;
    for (String n : names) {
      if (!roles.rolesOf(Set.of(n)).isEmpty()) {
        name = n;
        break;
      }
    }
    return new Caller(name != null ? name : names.iterator().next(), names, roles.rolesOf(names));
  }

  /**
   * Refuses the current call for a reason that depends on its request (PERMISSION_DENIED), counting
   * and logging it as the interceptor does: throw what it returns.
   */
  public StatusRuntimeException refuse(Caller caller, String method, String reason) {
    return refuse(caller, method, Status.Code.PERMISSION_DENIED, reason);
  }

  private StatusRuntimeException refuse(
      Caller caller, String method, Status.Code code, String reason) {
    refused.increment();
    String who = caller == null ? "(none)" : caller.name();
    long n =
        byKind
            .computeIfAbsent(who + ' ' + method + ' ' + code, k -> new AtomicLong())
            .incrementAndGet();
    if (isPowerOfTen(n)) {
      log.warn(
          "event=access_refused server={} caller={} method={} status={} count={}"
              + " reason=\"{}\"",
          server,
          who,
          shortName(method),
          code,
          n,
          reason);
    }
    return Status.fromCode(code).withDescription(reason).asRuntimeException();
  }

  private static boolean isPowerOfTen(long n) {
    while (n >= 10 && n % 10 == 0) {
      n /= 10;
    }
    return n == 1;
  }

  private static String shortName(String fullMethod) {
    int dot = fullMethod.lastIndexOf('.', fullMethod.indexOf('/'));
    return dot < 0 ? fullMethod : fullMethod.substring(dot + 1);
  }

  private static String needs(Set<Role> r) {
    return EnumSet.copyOf(r).stream().map(Role::toString).collect(Collectors.joining(" or "))
        + " role";
  }

  private static String has(Set<Role> r) {
    return r.isEmpty()
        ? "no role"
        : "roles: "
            + EnumSet.copyOf(r).stream().map(Role::toString).collect(Collectors.joining(", "));
  }

  /** Builds an {@link AccessControl}: one rule per guarded method. */
  public static final class Builder {
    private final String server;
    private final RoleMap roles;
    private final Map<String, Set<Role>> rules = new HashMap<>();
    private final Set<String> guardedServices = new LinkedHashSet<>();

    private Builder(String server, RoleMap roles) {
      this.server = server;
      this.roles = roles;
    }

    /**
     * {@code method} may be called by callers with any of {@code roles}. A service with one rule is
     * guarded: its methods without a rule are refused to everyone.
     */
    public Builder allow(MethodDescriptor<?, ?> method, Role... allowed) {
      rules.put(method.getFullMethodName(), Set.of(allowed));
      guardedServices.add(method.getServiceName());
      return this;
    }

    /** Every method of {@code service} may be called by callers with any of {@code roles}. */
    public Builder allowAll(ServiceDescriptor service, Role... allowed) {
      for (MethodDescriptor<?, ?> m : service.getMethods()) {
        allow(m, allowed);
      }
      return this;
    }

    /** Every method of {@code service} has a rule, or this throws (a test of the policy). */
    public Builder requireRulesFor(ServiceDescriptor service) {
      for (MethodDescriptor<?, ?> m : service.getMethods()) {
        if (!rules.containsKey(m.getFullMethodName())) {
          throw new IllegalStateException("no access rule for " + m.getFullMethodName());
        }
      }
      return this;
    }

    public AccessControl build() {
      return new AccessControl(this);
    }
  }
}
