package dev.twopc.coordinator.testing;

import com.google.protobuf.ByteString;
import dev.twopc.proto.v1.BranchRequest;
import dev.twopc.proto.v1.ExecuteRequest;
import dev.twopc.testing.FakeParticipant;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

/** Small helpers for building client requests in tests. */
public final class Clients {
  private Clients() {}

  public static ManagedChannel channel(String target) {
    return ManagedChannelBuilder.forTarget(target).usePlaintext().build();
  }

  public static ExecuteRequest execute(FakeParticipant... participants) {
    ExecuteRequest.Builder r = ExecuteRequest.newBuilder();
    for (FakeParticipant p : participants) {
      r.addBranches(
          BranchRequest.newBuilder()
              .setParticipant(p.name())
              .setPayload(ByteString.copyFromUtf8("work for " + p.name())));
    }
    return r.build();
  }
}
