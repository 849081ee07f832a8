package dev.twopc.participant;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A tiny business service for the interactive flow: {@code Reserve(key)} stages the key as work of
 * the caller's transaction and answers "staged KEY in TX".
 */
final class BusinessService {
  static final MethodDescriptor.Marshaller<String> STRING =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
          return new ByteArrayInputStream(value.getBytes(UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
          try {
            return new String(stream.readAllBytes(), UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  static final MethodDescriptor<String, String> RESERVE =
      MethodDescriptor.<String, String>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("twopc.test.Business/Reserve")
          .setRequestMarshaller(STRING)
          .setResponseMarshaller(STRING)
          .build();

  private BusinessService() {}

  static ServerServiceDefinition definition(Supplier<Participant> participant) {
    return ServerServiceDefinition.builder("twopc.test.Business")
        .addMethod(
            RESERVE,
            ServerCalls.asyncUnaryCall(
                (key, out) -> {
                  String txId = Participant.currentTxId().orElse("none");
                  if (!txId.equals("none")) {
                    participant.get().stage(key.getBytes(UTF_8));
                  }
                  out.onNext("staged " + key + " in " + txId);
                  out.onCompleted();
                }))
        .build();
  }

  static String reserve(Channel channel, String key) {
    return ClientCalls.blockingUnaryCall(
        channel, RESERVE, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), key);
  }
}
