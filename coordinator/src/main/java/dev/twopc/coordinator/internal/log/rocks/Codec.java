package dev.twopc.coordinator.internal.log.rocks;

import dev.twopc.coordinator.internal.log.LogRecord.BranchRow;
import dev.twopc.coordinator.internal.log.LogRecord.OperatorActed;
import dev.twopc.coordinator.internal.log.StoredNames;
import dev.twopc.coordinator.internal.log.StoredParticipant;
import dev.twopc.coordinator.internal.log.StoredTransaction;
import dev.twopc.coordinator.internal.model.BranchState;
import dev.twopc.coordinator.internal.model.Decision;
import dev.twopc.coordinator.internal.model.TxState;
import dev.twopc.coordinator.internal.model.Vote;
import dev.twopc.proto.internal.log.ActionValue;
import dev.twopc.proto.internal.log.BranchValue;
import dev.twopc.proto.internal.log.ParticipantValue;
import dev.twopc.proto.internal.log.TxValue;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;

/**
 * Keys and values of the RocksDB log. Keys are a one-byte kind and then big-endian fields, so
 * RocksDB's byte order is the order the log is read in:
 *
 * <ul>
 *   <li>{@code T txId} → {@link TxValue}: the transaction, its branches and actions
 *   <li>{@code C createdAt txId}: every transaction, for newest-first listing
 *   <li>{@code U createdAt txId}: the unfinished ones, recovery's and in-doubt listing's index
 *   <li>{@code F finishedAt txId}: the finished ones, for pruning oldest first
 *   <li>{@code K key} → txId: idempotency keys
 *   <li>{@code P name} → {@link ParticipantValue}: the registry
 *   <li>{@code M name}: metadata (schema version, count of finished transactions)
 * </ul>
 */
final class Codec {
  static final byte TX = 'T';
  static final byte CREATED = 'C';
  static final byte UNFINISHED = 'U';
  static final byte FINISHED = 'F';
  static final byte KEY = 'K';
  static final byte PARTICIPANT = 'P';
  static final byte META = 'M';

  private Codec() {}

  static byte[] key(byte kind, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(1 + b.length).put(kind).put(b).array();
  }

  static byte[] timeKey(byte kind, long at, String txId) {
    byte[] b = txId.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(9 + b.length).put(kind).putLong(at).put(b).array();
  }

  static long timeOf(byte[] timeKey) {
    return ByteBuffer.wrap(timeKey, 1, 8).getLong();
  }

  static String txIdOf(byte[] timeKey) {
    return new String(timeKey, 9, timeKey.length - 9, StandardCharsets.UTF_8);
  }

  static String string(byte[] value) {
    return new String(value, StandardCharsets.UTF_8);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] longValue(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static long longOf(byte[] v) {
    return ByteBuffer.wrap(v).getLong();
  }

  static StoredTransaction transaction(TxValue v) {
    List<BranchRow> branches = new ArrayList<>(v.getBranchesCount());
    for (BranchValue b : v.getBranchesList()) {
      branches.add(branch(b));
    }
    branches.sort(Comparator.comparingInt(BranchRow::index));
    List<OperatorActed> actions = new ArrayList<>(v.getActionsCount());
    for (ActionValue a : v.getActionsList()) {
      actions.add(
          new OperatorActed(
              v.getTxId(),
              a.getAt(),
              a.getAction(),
              a.getOperator(),
              a.getReason(),
              a.getAccepted(),
              a.hasRefusal() ? a.getRefusal() : null));
    }
    return new StoredTransaction(
        v.getTxId(),
        StoredNames.parse(TxState.class, v.getState()),
        v.getCreatedAt(),
        v.getDeadlineAt(),
        v.hasDecision() ? StoredNames.parse(Decision.class, v.getDecision()) : null,
        v.hasDecidedAt() ? v.getDecidedAt() : null,
        v.hasDecidedBy() ? v.getDecidedBy() : null,
        v.hasAbortReason() ? v.getAbortReason() : null,
        v.hasFinishedAt() ? v.getFinishedAt() : null,
        v.hasIdempotencyKey() ? v.getIdempotencyKey() : null,
        new TreeMap<>(v.getLabelsMap()),
        List.copyOf(branches),
        List.copyOf(actions));
  }

  static BranchRow branch(BranchValue b) {
    return new BranchRow(
        b.getParticipant(),
        b.getIndex(),
        b.hasPayloadDigest() ? b.getPayloadDigest() : null,
        b.hasVote() ? StoredNames.parse(Vote.class, b.getVote()) : null,
        b.hasVoteReason() ? b.getVoteReason() : null,
        StoredNames.parse(BranchState.class, b.getState()),
        b.getAttempts(),
        b.hasLastError() ? b.getLastError() : null,
        b.hasLastAttemptAt() ? b.getLastAttemptAt() : null,
        b.hasAckedAt() ? b.getAckedAt() : null,
        b.hasVotedAt() ? b.getVotedAt() : null);
  }

  static BranchValue branch(BranchRow r) {
    BranchValue.Builder b =
        BranchValue.newBuilder()
            .setParticipant(r.participant())
            .setIndex(r.index())
            .setState(r.state().name())
            .setAttempts(r.attempts());
    if (r.payloadDigest() != null) {
      b.setPayloadDigest(r.payloadDigest());
    }
    if (r.vote() != null) {
      b.setVote(r.vote().name());
    }
    if (r.voteReason() != null) {
      b.setVoteReason(r.voteReason());
    }
    if (r.lastError() != null) {
      b.setLastError(r.lastError());
    }
    if (r.lastAttemptAt() != null) {
      b.setLastAttemptAt(r.lastAttemptAt());
    }
    if (r.acknowledgedAt() != null) {
      b.setAckedAt(r.acknowledgedAt());
    }
    if (r.votedAt() != null) {
      b.setVotedAt(r.votedAt());
    }
    return b.build();
  }

  static StoredParticipant participant(ParticipantValue p) {
    return new StoredParticipant(
        p.getName(), p.getAddress(), p.getRegisteredAt(), p.getUpdatedAt());
  }
}
