"""Each person chooses their channels per kind of notification: the only code that writes
notification_preference. Without a choice, a person gets every kind on every personal
channel the admins configured."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from jit.clock import Clock
from jit.errors import ValidationFailed
from jit.notify.models import PERSONAL_CHANNELS, Channel, NotificationKind, NotificationPreference

DEFAULT = list(PERSONAL_CHANNELS)


@dataclass(frozen=True)
class Preference:
    kind: NotificationKind
    channels: list[Channel]
    default: bool


async def channels_for(user_ids: list[str], kind: NotificationKind) -> dict[str, list[Channel]]:
    rows = await NotificationPreference.filter(user_id__in=user_ids, kind=kind)
    chosen = {row.user_id: [Channel(c) for c in row.channels] for row in rows}
    return {user_id: chosen.get(user_id, DEFAULT) for user_id in user_ids}


async def preferences(user_id: str) -> list[Preference]:
    rows = {NotificationKind(r.kind): r for r in await NotificationPreference.filter(user_id=user_id)}
    return [
        Preference(kind, [Channel(c) for c in rows[kind].channels], False) if kind in rows
        else Preference(kind, DEFAULT, True)
        for kind in NotificationKind
    ]


def parse(items: list[tuple[str, list[str]]]) -> dict[NotificationKind, list[Channel]]:
    """Validates the whole input before anything is written."""
    parsed: dict[NotificationKind, list[Channel]] = {}
    for i, (kind, channels) in enumerate(items):
        try:
            key = NotificationKind(kind)
        except ValueError:
            raise ValidationFailed(f"{kind!r} is not a kind of notification", field=f"preferences[{i}].kind") from None
        if key in parsed:
            raise ValidationFailed(f"{kind} is given twice", field=f"preferences[{i}].kind")
        chosen: list[Channel] = []
        for j, name in enumerate(channels):
            try:
                channel = Channel(name)
            except ValueError:
                channel = None
            if channel not in PERSONAL_CHANNELS:
                raise ValidationFailed(
                    f"{name!r} is not a channel a person chooses (use {', '.join(c.value for c in PERSONAL_CHANNELS)})",
                    field=f"preferences[{i}].channels[{j}]",
                )
            if channel not in chosen:
                chosen.append(channel)
        parsed[key] = chosen
    return parsed


async def set_preferences(clock: Clock, user_id: str, items: list[tuple[str, list[str]]]) -> list[Preference]:
    """Replaces the caller's choice for each kind given; an empty list of channels mutes it."""
    parsed = parse(items)
    now = clock.now()
    async with in_transaction():
        for kind, channels in parsed.items():
            updated = await NotificationPreference.filter(user_id=user_id, kind=kind).update(
                channels=[c.value for c in channels], updated_at=now)
            if not updated:
                await NotificationPreference.create(user_id=user_id, kind=kind,
                                                    channels=[c.value for c in channels], updated_at=now)
    return await preferences(user_id)
