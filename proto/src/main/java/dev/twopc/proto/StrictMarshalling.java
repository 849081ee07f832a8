package dev.twopc.proto;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A request that is not a valid protobuf message (or holds invalid UTF-8 in a string field) is
 * answered INVALID_ARGUMENT "request is not a valid twopc.v1.X: why". Left to grpc-java (1.85) it
 * is UNKNOWN "Application error processing RPC" and a SEVERE log with a trace: the server parses
 * the request outside the application's listener, and closes the call with UNKNOWN whatever the
 * marshaller throws. So here the marshaller never throws: a failure to parse is handed on as a
 * value, and the listener closes the call with it. Descriptors keep their schema, so reflection is
 * unchanged; only the method descriptor instances differ from the generated ones (compare by name).
 *
 * <p>Here, beside the generated code, because every server of the protocol uses it: the
 * coordinator's services and the SDK's Participant service.
 */
public final class StrictMarshalling {
  private StrictMarshalling() {}

  public static ServerServiceDefinition wrap(ServerServiceDefinition service) {
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    service.getMethods().forEach(m -> methods.add(strict(m)));
    ServiceDescriptor.Builder sd =
        ServiceDescriptor.newBuilder(service.getServiceDescriptor().getName())
            .setSchemaDescriptor(service.getServiceDescriptor().getSchemaDescriptor());
    methods.forEach(m -> sd.addMethod(m.getMethodDescriptor()));
    ServerServiceDefinition.Builder out = ServerServiceDefinition.builder(sd.build());
    methods.forEach(out::addMethod);
    return out.build();
  }

  private record Malformed(Status status) {}

  @SuppressWarnings("unchecked")
  private static <Q, R> ServerMethodDefinition<Object, R> strict(ServerMethodDefinition<Q, R> d) {
    MethodDescriptor<Q, R> md = d.getMethodDescriptor();
    MethodDescriptor.Marshaller<Q> inner = md.getRequestMarshaller();
    String type =
        inner instanceof MethodDescriptor.PrototypeMarshaller<?> p
                && p.getMessagePrototype() instanceof Message m
            ? m.getDescriptorForType().getFullName()
            : "request of " + md.getFullMethodName();
    MethodDescriptor.Marshaller<Object> lenient =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(Object value) {
            return inner.stream((Q) value);
          }

          @Override
          public Object parse(InputStream stream) {
            try {
              return inner.parse(stream);
            } catch (RuntimeException e) {
              return new Malformed(
                  Status.INVALID_ARGUMENT.withDescription(
                      "request is not a valid " + type + ": " + why(e)));
            }
          }
        };
    ServerCallHandler<Q, R> handler = d.getServerCallHandler();
    ServerCallHandler<Object, R> strict =
        (call, headers) ->
            refusing(call, handler.startCall((ServerCall<Q, R>) (ServerCall<?, R>) call, headers));
    return ServerMethodDefinition.create(
        md.toBuilder(lenient, md.getResponseMarshaller()).build(), strict);
  }

  /** Passes everything on to {@code next}, unless the request did not parse. */
  @SuppressWarnings("unchecked")
  private static <Q> ServerCall.Listener<Object> refusing(
      ServerCall<Object, ?> call, ServerCall.Listener<Q> next) {
    return new ServerCall.Listener<Object>() {
      private boolean refused;

      @Override
      public void onMessage(Object message) {
        if (refused) {
          return;
        }
        if (message instanceof Malformed bad) {
          refused = true;
          call.close(bad.status(), new Metadata());
          return;
        }
        next.onMessage((Q) message);
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          next.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        next.onCancel();
      }

      @Override
      public void onComplete() {
        next.onComplete();
      }

      @Override
      public void onReady() {
        if (!refused) {
          next.onReady();
        }
      }
    };
  }

  /** One line in our words: protobuf's own messages name its classes. */
  private static String why(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof InvalidProtocolBufferException ipbe) {
        String m = String.valueOf(ipbe.getMessage());
        if (m.contains("UTF-8")) {
          return "a string field is not valid UTF-8";
        }
        if (m.contains("ended unexpectedly") || m.contains("truncated")) {
          return "it ends in the middle of a field";
        }
        if (m.contains("nesting") || m.contains("recursion")) {
          return "it is nested too deeply";
        }
        return "malformed protobuf";
      }
    }
    return "it could not be read";
  }
}
