package dev.twopc.coordinator.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.twopc.proto.v1.ParticipantInfo;
import dev.twopc.proto.v1.PreparedBranch;
import dev.twopc.proto.v1.TransactionView;
import java.util.ArrayList;
import java.util.List;

/** Parses the CLI's JSON lines back into the wire messages, as a script would. */
final class Protos {
  private Protos() {}

  static TransactionView tx(String json) {
    TransactionView.Builder b = TransactionView.newBuilder();
    merge(json, b);
    return b.build();
  }

  static List<TransactionView> txs(Cli.Result r) {
    List<TransactionView> all = new ArrayList<>();
    for (String line : r.outLines()) {
      all.add(tx(line));
    }
    return all;
  }

  static List<ParticipantInfo> participants(Cli.Result r) {
    List<ParticipantInfo> all = new ArrayList<>();
    for (String line : r.outLines()) {
      ParticipantInfo.Builder b = ParticipantInfo.newBuilder();
      merge(line, b);
      all.add(b.build());
    }
    return all;
  }

  static List<PreparedBranch> prepared(Cli.Result r) {
    List<PreparedBranch> all = new ArrayList<>();
    for (String line : r.outLines()) {
      PreparedBranch.Builder b = PreparedBranch.newBuilder();
      merge(line, b);
      all.add(b.build());
    }
    return all;
  }

  private static void merge(String json, com.google.protobuf.Message.Builder b) {
    try {
      JsonFormat.parser().merge(json, b);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("not a JSON " + b.getDescriptorForType().getName() + ": " + json, e);
    }
  }
}
