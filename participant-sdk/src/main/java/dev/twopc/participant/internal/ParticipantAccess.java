package dev.twopc.participant.internal;

import static dev.twopc.security.Role.COORDINATOR;
import static dev.twopc.security.Role.OPERATOR;

import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.security.AccessControl;
import dev.twopc.security.RoleMap;

/**
 * Who may drive this participant's branches (docs/security.md has the same table): Prepare,
 * Commit and Rollback only the coordinator's identity, ListPrepared also an operator. The
 * application's own services are open to every caller whose certificate the trust bundle
 * verifies.
 */
public final class ParticipantAccess {
  private ParticipantAccess() {}

  public static AccessControl rules(String participant, RoleMap roles) {
    return AccessControl.builder(participant, roles)
        .allow(ParticipantGrpc.getPrepareMethod(), COORDINATOR)
        .allow(ParticipantGrpc.getCommitMethod(), COORDINATOR)
        .allow(ParticipantGrpc.getRollbackMethod(), COORDINATOR)
        .allow(ParticipantGrpc.getListPreparedMethod(), COORDINATOR, OPERATOR)
        .requireRulesFor(ParticipantGrpc.getServiceDescriptor())
        .build();
  }
}
