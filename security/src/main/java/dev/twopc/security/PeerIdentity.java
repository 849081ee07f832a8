package dev.twopc.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who is calling, as its verified TLS certificate says: the DNS and URI subject alternative names
 * of the peer's certificate (for twopc's own certificates, its name such as {@code inventory},
 * {@code coordinator} or {@code operator-alice}). Put in the call's context by {@link
 * #interceptor()}; read with {@link #current()}.
 *
 * @param names the certificate's DNS and URI subject alternative names
 * @param subject the certificate's subject, for messages
 */
public record PeerIdentity(Set<String> names, String subject) {
  private static final Context.Key<PeerIdentity> KEY = Context.key("twopc-peer-identity");
  private static final int SAN_DNS = 2;
  private static final int SAN_URI = 6;

  public PeerIdentity {
    names = java.util.Collections.unmodifiableSet(new LinkedHashSet<>(names));
  }

  /** True when the certificate carries {@code name}. */
  public boolean is(String name) {
    return names.contains(name);
  }

  /** The identity of the current call's peer; empty on a plaintext call or outside a call. */
  public static Optional<PeerIdentity> current() {
    return Optional.ofNullable(KEY.get());
  }

  /** Puts the peer's identity (if the call came over TLS with a client certificate) in context. */
  public static ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        PeerIdentity id = of(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        return id == null
            ? next.startCall(call, headers)
            : Contexts.interceptCall(Context.current().withValue(KEY, id), call, headers, next);
      }
    };
  }

  /** The identity in {@code session}'s peer certificate; null without one. */
  static PeerIdentity of(SSLSession session) {
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? of(x) : null;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  /** The identity {@code cert} carries. */
  public static PeerIdentity of(X509Certificate cert) {
    Set<String> names = new LinkedHashSet<>();
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          int type = (Integer) san.get(0);
          if ((type == SAN_DNS || type == SAN_URI) && san.get(1) instanceof String s) {
            names.add(s);
          }
        }
      }
    } catch (CertificateParsingException e) {
      // no usable names: the identity is empty and every role check refuses it
    }
    return new PeerIdentity(names, cert.getSubjectX500Principal().getName());
  }
}
