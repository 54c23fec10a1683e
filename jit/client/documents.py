"""Every GraphQL document the CLI sends, in one place (the public schema, nothing else)."""

ERROR_FIELDS = "... on Error { __typename message field } ... on WrongStateError { currentStatus }"

TICKET_SUMMARY = """
fragment TicketSummary on Ticket {
  id status endReason failureReason startAt endAt durationSeconds justification externalRef createdAt version
  breakGlass
  requester { id userName } principal { id userName }
  targets { accountId permissionSetArn ruleName account { name } permissionSet { name } }
}
"""

TICKET_DETAIL = TICKET_SUMMARY + """
fragment TicketDetail on Ticket {
  ...TicketSummary
  steps { position name ruleName required approvals status approverUsers approverGroups }
  decisions { outcome comment createdAt stepPosition decider { userName } }
  resourceStack { position accountId permissionSetArn status unwindStatus failureReason }
  history { at action fromStatus toStatus actor { userName } }
}
"""

ME = "query Me { me { user { id userName displayName } roles } }"

ACCOUNTS = "query Accounts { accounts { id name status } }"

USERS = "query Users { users { id userName displayName } }"

TICKET = TICKET_DETAIL + "query Ticket($id: ID!) { ticket(id: $id) { ...TicketDetail } }"

TICKETS = TICKET_SUMMARY + """
query Tickets($filter: TicketFilter, $first: Int!, $after: String) {
  tickets(filter: $filter, first: $first, after: $after) {
    edges { cursor node { ...TicketSummary } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

REQUEST = TICKET_SUMMARY + f"""
mutation Request($input: RequestTicketInput!) {{
  requestTicket(input: $input) {{ __typename ...TicketSummary {ERROR_FIELDS} }}
}}
"""

_DECIDE = """
mutation {name}($id: ID!, $comment: String!) {{
  {field}(ticketId: $id, comment: $comment) {{ __typename ...TicketSummary {errors} }}
}}
"""
APPROVE = TICKET_SUMMARY + _DECIDE.format(name="Approve", field="approveTicket", errors=ERROR_FIELDS)
REJECT = TICKET_SUMMARY + _DECIDE.format(name="Reject", field="rejectTicket", errors=ERROR_FIELDS)

_END = """
mutation {name}($id: ID!, $reason: String!) {{
  {field}(ticketId: $id, reason: $reason) {{ __typename ...TicketSummary {errors} }}
}}
"""
CANCEL = TICKET_SUMMARY + _END.format(name="Cancel", field="cancelTicket", errors=ERROR_FIELDS)
REVOKE = TICKET_SUMMARY + _END.format(name="Revoke", field="revokeTicket", errors=ERROR_FIELDS)

WATCH = """
subscription Watch($id: ID!) {
  ticketUpdated(id: $id) {
    ticketId previousStatus status version at reason
    ticket { status endReason failureReason startAt endAt }
  }
}
"""

# The approval engine's extensions and delegations. Servers from before it lack them; the
# commands check for the operation first (exit 9) rather than send a document it rejects.
EXTENSION_FIELDS = """
fragment ExtensionFields on Extension {
  id ticketId additionalDurationSeconds reason status stepsRequired expiresAt previousEndAt newEndAt
}
"""

EXTEND_FIELD = "requestExtension"
EXTEND = EXTENSION_FIELDS + f"""
mutation Extend($ticketId: ID!, $seconds: Int!, $reason: String!) {{
  requestExtension(ticketId: $ticketId, additionalDurationSeconds: $seconds, reason: $reason) {{
    __typename ...ExtensionFields {ERROR_FIELDS}
  }}
}}
"""

_DECIDE_EXTENSION = """
mutation {name}($id: ID!, $comment: String!) {{
  {field}(extensionId: $id, comment: $comment) {{ __typename ...ExtensionFields {errors} }}
}}
"""
APPROVE_EXTENSION = EXTENSION_FIELDS + _DECIDE_EXTENSION.format(
    name="ApproveExtension", field="approveExtension", errors=ERROR_FIELDS)
REJECT_EXTENSION = EXTENSION_FIELDS + _DECIDE_EXTENSION.format(
    name="RejectExtension", field="rejectExtension", errors=ERROR_FIELDS)

DELEGATION_FIELDS = """
fragment DelegationFields on Delegation {
  id startsAt endsAt reason state ruleNames delegator { id userName } delegate { id userName }
}
"""

APPROVAL_RULES = "query Rules { approvalRules { id name } }"

DELEGATE_FIELD = "createDelegation"
DELEGATE = DELEGATION_FIELDS + f"""
mutation Delegate($input: CreateDelegationInput!) {{
  createDelegation(input: $input) {{ __typename ...DelegationFields {ERROR_FIELDS} }}
}}
"""

REVOKE_DELEGATION_FIELD = "revokeDelegation"
REVOKE_DELEGATION = DELEGATION_FIELDS + f"""
mutation RevokeDelegation($id: ID!) {{
  revokeDelegation(id: $id) {{ __typename ...DelegationFields {ERROR_FIELDS} }}
}}
"""

DELEGATIONS_FIELD = "delegations"
DELEGATIONS = DELEGATION_FIELDS + """
query Delegations($all: Boolean!) { delegations(includeInactive: $all) { ...DelegationFields } }
"""
