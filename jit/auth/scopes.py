"""What each API operation needs from a token's scopes.

Every root field of Query, Mutation and Subscription must be listed here. A field that is
not listed is refused for every caller (fail closed), so a new mutation cannot ship
without someone deciding which scope it needs. A caller passes when it holds any one of
the listed scopes; its owner's own authorization is checked by the services as always.
"""

from __future__ import annotations

from enum import Enum


class Scope(str, Enum):
    READ = "read"  # queries and subscriptions
    REQUEST = "request"  # request, cancel and revoke own tickets
    DECIDE = "decide"  # approve, reject, revoke as an approver
    ADMIN = "admin"  # manage approval rules and API tokens (if the owner may)


ALL_SCOPES = frozenset(Scope)

_R, _Q, _D, _A = Scope.READ, Scope.REQUEST, Scope.DECIDE, Scope.ADMIN

OPERATION_SCOPES: dict[str, dict[str, frozenset[Scope]]] = {
    "Query": {
        name: frozenset({_R})
        for name in (
            "me", "accounts", "organizationalUnits", "permissionSets", "users", "groups", "approvalRules",
            "ticket", "tickets", "requestableTargets", "requestableAccounts", "apiTokens",
            "delegations", "permissionSetGroups", "pendingRuleChanges",
            "drift", "lastDriftScan", "revokeAlerts", "reliabilityCounters", "directorySync", "approvalPreview",
            "notificationPreferences", "notificationChannels",
            "auditEvents", "ticketSessionActivity", "ticketSessionTimeline", "auditChainStatus",
            "insights",
        )
    },
    "Mutation": {
        "requestTicket": frozenset({_Q}),
        "cancelTicket": frozenset({_Q}),
        "approveTicket": frozenset({_D}),
        "rejectTicket": frozenset({_D}),
        "revokeTicket": frozenset({_Q, _D, _A}),
        # Extending and break-glass are the requester's acts on their own ticket.
        "requestExtension": frozenset({_Q}),
        "breakGlassTicket": frozenset({_Q}),
        # Handing one's approvals to someone else is an approver's act.
        "createDelegation": frozenset({_D}),
        "revokeDelegation": frozenset({_D}),
        "approveExtension": frozenset({_D}),
        "rejectExtension": frozenset({_D}),
        "reviewBreakGlass": frozenset({_D}),
        "createPermissionSetGroup": frozenset({_A}),
        "updatePermissionSetGroup": frozenset({_A}),
        "deletePermissionSetGroup": frozenset({_A}),
        "approveRuleChange": frozenset({_A}),
        "scanDrift": frozenset({_A}),
        "removeDrift": frozenset({_A}),
        "syncDirectory": frozenset({_A}),
        "verifyAuditChain": frozenset({_A}),
        "rejectRuleChange": frozenset({_A}),
        "createApprovalRule": frozenset({_A}),
        "updateApprovalRule": frozenset({_A}),
        "deleteApprovalRule": frozenset({_A}),
        # A token may only mint tokens within its own scopes (jit.auth.service.create_token).
        "createApiToken": frozenset({_A}),
        "revokeApiToken": frozenset({_A}),
        # One's own notification channels: any token that may act, not a read-only one.
        "setNotificationPreferences": frozenset({_Q, _D, _A}),
    },
    "Subscription": {
        "ticketUpdated": frozenset({_R}),
    },
}


def required_scopes(operation_type: str, field_name: str) -> frozenset[Scope] | None:
    """The scopes that allow this root field, or None when it is not mapped (refuse it)."""
    if field_name == "__typename":
        return frozenset(ALL_SCOPES)
    if operation_type == "Query" and field_name in ("__schema", "__type"):
        return frozenset({Scope.READ})  # only reachable where introspection is enabled
    return OPERATION_SCOPES.get(operation_type, {}).get(field_name)


def parse_scopes(names: list[str] | tuple[str, ...] | set[str]) -> frozenset[Scope]:
    out = set()
    for name in names:
        try:
            out.add(Scope(name.strip().lower()))
        except ValueError:
            raise ValueError(f"unknown scope {name!r}; use {', '.join(s.value for s in Scope)}") from None
    return frozenset(out)
