package dev.twopc.participant.internal;

import static dev.twopc.security.Role.CLIENT;
import static dev.twopc.security.Role.COORDINATOR;
import static dev.twopc.security.Role.OPERATOR;

import dev.twopc.proto.v1.ParticipantGrpc;
import dev.twopc.security.AccessControl;
import dev.twopc.security.RoleMap;
import io.grpc.ServerServiceDefinition;
import java.util.List;

/**
 * Who may drive this participant's branches (docs/security.md has the same table): Prepare, Commit,
 * Rollback and their Exchange stream only the coordinator's identity, ListPrepared also an
 * operator. The application's own services (whose calls can stage work in a transaction) need the
 * client role.
 */
public final class ParticipantAccess {
  private ParticipantAccess() {}

  public static AccessControl rules(
      String participant, RoleMap roles, List<ServerServiceDefinition> business) {
    AccessControl.Builder b = AccessControl.builder(participant, roles);
    for (ServerServiceDefinition svc : business) {
      b.allowAll(svc.getServiceDescriptor(), CLIENT);
    }
    return b.allow(ParticipantGrpc.getPrepareMethod(), COORDINATOR)
        .allow(ParticipantGrpc.getCommitMethod(), COORDINATOR)
        .allow(ParticipantGrpc.getRollbackMethod(), COORDINATOR)
        .allow(ParticipantGrpc.getExchangeMethod(), COORDINATOR)
        .allow(ParticipantGrpc.getListPreparedMethod(), COORDINATOR, OPERATOR)
        .requireRulesFor(ParticipantGrpc.getServiceDescriptor())
        .build();
  }
}
