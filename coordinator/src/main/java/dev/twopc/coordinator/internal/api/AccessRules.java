package dev.twopc.coordinator.internal.api;

import static dev.twopc.security.Role.CLIENT;
import static dev.twopc.security.Role.OPERATOR;
import static dev.twopc.security.Role.PARTICIPANT;

import dev.twopc.proto.v1.AdminGrpc;
import dev.twopc.proto.v1.CoordinatorGrpc;
import dev.twopc.security.AccessControl;
import dev.twopc.security.RoleMap;

/**
 * Which role may call each of the coordinator's methods (docs/security.md has the same table). What
 * depends on the request is checked by the services: a participant registers, enlists and asks
 * outcomes only under a name its certificate carries, and only about its own branches.
 */
public final class AccessRules {
  private AccessRules() {}

  public static AccessControl coordinator(RoleMap roles) {
    return AccessControl.builder("coordinator", roles)
        .allow(CoordinatorGrpc.getBeginMethod(), CLIENT)
        .allow(CoordinatorGrpc.getEnlistMethod(), CLIENT, PARTICIPANT)
        .allow(CoordinatorGrpc.getCommitMethod(), CLIENT)
        .allow(CoordinatorGrpc.getRollbackMethod(), CLIENT)
        .allow(CoordinatorGrpc.getExecuteMethod(), CLIENT)
        .allow(CoordinatorGrpc.getGetTransactionMethod(), CLIENT, OPERATOR)
        .allow(CoordinatorGrpc.getGetOutcomeMethod(), PARTICIPANT, OPERATOR)
        .allow(CoordinatorGrpc.getRegisterParticipantMethod(), PARTICIPANT)
        .allow(CoordinatorGrpc.getListParticipantsMethod(), OPERATOR)
        .allow(AdminGrpc.getListTransactionsMethod(), OPERATOR)
        .allow(AdminGrpc.getGetTransactionMethod(), OPERATOR)
        .allow(AdminGrpc.getRetryTransactionMethod(), OPERATOR)
        .allow(AdminGrpc.getResolveTransactionMethod(), OPERATOR)
        .allow(AdminGrpc.getListNodesMethod(), OPERATOR)
        .requireRulesFor(CoordinatorGrpc.getServiceDescriptor())
        .requireRulesFor(AdminGrpc.getServiceDescriptor())
        .build();
  }
}
