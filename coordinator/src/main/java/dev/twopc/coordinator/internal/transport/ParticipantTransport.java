package dev.twopc.coordinator.internal.transport;

import java.util.concurrent.CompletableFuture;

/**
 * How the protocol talks to participants: one method per message, each answering a future of a
 * typed reply. A future that fails, fails with {@link CallFailed}, which says whether anything was
 * sent. Implementations never block the caller and complete the futures on their own threads; the
 * gRPC one is {@code transport.grpc.GrpcParticipantTransport}, and the engine's unit tests script
 * one.
 */
public interface ParticipantTransport {

  /** Whether {@code participant} is known (registered), so calls to it can be sent. */
  boolean knows(String participant);

  /** Phase 1: asks the branch to prepare. */
  CompletableFuture<VoteReply> prepare(PrepareCall call);

  /** A one-phase commit: the participant prepares and commits in one step, and decides. */
  CompletableFuture<OnePhaseReply> commitOnePhase(OnePhaseCall call);

  /**
   * Asks for the outcome of a one-phase commit that may have been sent before a restart: a
   * participant that committed it answers committed, otherwise it rolls back (or remembers the id
   * so that a late one-phase call is refused) and answers aborted.
   */
  CompletableFuture<OnePhaseReply> askOnePhase(BranchCall call);

  /** Phase 2: the decision COMMIT. Completes when the participant acknowledged it. */
  CompletableFuture<Void> commit(BranchCall call);

  /** Phase 2: the decision ABORT. Completes when the participant acknowledged it. */
  CompletableFuture<Void> rollback(BranchCall call);
}
