"""Who a Slack user is in JIT: their email from users.info, cached in Redis, matched to a
directory user who has not been removed. No match, no identity: nothing is decided."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from jit.directory.models import User
from jit.directory.queries import live
from jit.notify.channels import slack as slack_channel
from jit.runtime import Runtime

CACHE = "jit:slack:email:"


async def email_of(rt: Runtime, slack_user_id: str) -> str:
    key = CACHE + slack_user_id
    cached = await rt.redis.get(key)
    if cached is not None:
        return cached.decode() if isinstance(cached, bytes) else str(cached)
    try:
        answer = await slack_channel.client(rt.settings).users_info(user=slack_user_id)
        person = answer["user"]
        # A deactivated account, a bot or a guest without an email maps to nobody.
        email = "" if person.get("deleted") or person.get("is_bot") else (person.get("profile") or {}).get("email") or ""
    except SlackApiError as exc:
        if (exc.response.get("error") if exc.response is not None else None) != "user_not_found":
            raise
        email = ""
    await rt.redis.set(key, email, ex=max(rt.settings.slack_user_cache_seconds, 1))
    return email


async def jit_user(rt: Runtime, slack_user_id: str) -> tuple[User | None, str]:
    """The directory user behind a Slack user, and the email Slack gave (for the explanation)."""
    email = (await email_of(rt, slack_user_id)).strip()
    if not email:
        return None, ""
    return await live(User).filter(email__iexact=email).first(), email
