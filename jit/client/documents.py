"""Every GraphQL document the CLI sends, in one place (the public schema, nothing else)."""

ERROR_FIELDS = "... on Error { __typename message field } ... on WrongStateError { currentStatus }"

TICKET_SUMMARY = """
fragment TicketSummary on Ticket {
  id status endReason failureReason startAt endAt durationSeconds justification externalRef createdAt version
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

# Issue 3's approval engine (extension and delegation); older servers lack them, which the
# commands check for first.
EXTEND_FIELD = "requestExtension"
EXTEND = f"""
mutation Extend($input: RequestExtensionInput!) {{
  requestExtension(input: $input) {{
    __typename
    ... on Extension {{ id status additionalSeconds reason newEndAt }}
    {ERROR_FIELDS}
  }}
}}
"""

DELEGATE_FIELD = "createDelegation"
DELEGATE = f"""
mutation Delegate($input: CreateDelegationInput!) {{
  createDelegation(input: $input) {{
    __typename
    ... on Delegation {{ id startsAt endsAt reason delegate {{ userName }} }}
    {ERROR_FIELDS}
  }}
}}
"""
