"""Client failures and the exit codes they map to; `jit --help` prints EXIT_CODES_HELP."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # an unexpected error, on the server (masked) or in the client
    USAGE = 2  # bad arguments: argparse's own code, and arguments the client cannot use
    NOT_LOGGED_IN = 3  # no server or token configured, or the token was refused (HTTP 401)
    UNREACHABLE = 4  # the server could not be reached (after retries, where retrying is safe)
    INVALID = 5  # ValidationError: the API rejected an input, or a name matched nothing / several things
    NOT_ALLOWED = 6  # NotAllowedError
    NOT_FOUND = 7  # NotFoundError, or an unknown ticket
    WRONG_STATE = 8  # WrongStateError
    UNSUPPORTED = 9  # the server's API has no such operation (an older server)
    REJECTED = 10  # --wait: the ticket was rejected
    FAILED = 11  # --wait: granting failed
    EXPIRED = 12  # --wait: nobody decided before the approval window passed
    ENDED = 13  # --wait: cancelled, revoked or ended before it became active
    TIMEOUT = 14  # --wait / watch: --timeout passed first


EXIT_CODES_HELP = """exit codes:
   0  success (with --wait: the ticket is ACTIVE)
   1  unexpected error
   2  usage: bad arguments, or a file named on the command line that cannot be read
   3  not logged in, or the token was refused
   4  server unreachable (queries are retried first; mutations only if never sent)
   5  invalid input: ValidationError, an invalid rules file, unknown or ambiguous name
   6  not allowed: NotAllowedError
   7  not found: NotFoundError or unknown ticket
   8  wrong state: WrongStateError (e.g. deciding a ticket that is no longer pending)
   9  the server does not support this operation
  10  --wait: ticket REJECTED
  11  --wait: ticket FAILED
  12  --wait: ticket EXPIRED before a decision
  13  --wait: ticket CANCELLED or ENDED before it became active
  14  --wait/watch: --timeout reached
  with --exec CMD, jit exits with CMD's exit code once the ticket is ACTIVE"""

# The `__typename`s of the API's error union members.
ERROR_TYPES = {
    "ValidationError": ExitCode.INVALID,
    "NotAllowedError": ExitCode.NOT_ALLOWED,
    "NotFoundError": ExitCode.NOT_FOUND,
    "WrongStateError": ExitCode.WRONG_STATE,
}


class ClientError(Exception):
    """A failure to report on one line, with the exit code that names its kind."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def from_union(result: dict[str, Any]) -> ClientError:
    """One of the API's typed errors (`... on Error { message field }`) as a ClientError."""
    kind = result.get("__typename", "Error")
    field = result.get("field")
    message = result.get("message") or kind
    text = f"{kind}: {field}: {message}" if field else f"{kind}: {message}"
    if result.get("currentStatus"):
        text += f" (status {result['currentStatus']})"
    return ClientError(text, ERROR_TYPES.get(kind, ExitCode.ERROR))
