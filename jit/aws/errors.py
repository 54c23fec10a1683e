"""Turns AWS error responses into reasons a person can act on."""

from __future__ import annotations

from botocore.exceptions import ClientError

# Retried with jittered backoff on top of botocore's own retries (which do not cover
# ConflictException: IAM Identity Center answers it while another change to the same
# permission set is in flight).
RETRYABLE = frozenset({
    "ConflictException", "ThrottlingException", "TooManyRequestsException", "InternalServerException",
    "ServiceUnavailableException", "ServiceUnavailable", "InternalFailure", "RequestTimeoutException",
})

_EXPLANATIONS = {
    "AccessDeniedException": (
        "JIT's AWS role may not manage assignments here. A delegated administrator of IAM "
        "Identity Center cannot assign permission sets in the management account, nor use "
        "permission sets provisioned to it; request that target from the management account "
        "or remove it from the approval rules."
    ),
    "ResourceNotFoundException": (
        "The account or permission set no longer exists in AWS (deleted after the ticket was "
        "approved); run a directory sync."
    ),
}


def code_of(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "") or "Error"


def explain(exc: ClientError) -> str:
    """`Code: message`, followed by what it means for JIT where that is not obvious."""
    err = exc.response.get("Error", {})
    code = code_of(exc)
    text = f"{code}: {err.get('Message', '')}".strip()
    hint = _EXPLANATIONS.get(code)
    return f"{text} ({hint})" if hint else text
