"""Notification preferences (each person's own) and the configured channels (admins)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from jit.auth.scopes import Scope
from jit.config import Settings
from jit.graphql.context import Context
from jit.graphql.errors import NotAllowedError, ValidationError
from jit.graphql.resolver import OUTPUT, mutation, query
from jit.notify import delivery, preferences
from jit.notify.channels import email, slack, webhook
from jit.notify.models import PERSONAL_CHANNELS, Channel, NotificationKind

# The GraphQL enums are the domain's own classes: strawberry.enum registers the definition on
# the class it is given and returns it (as jit/graphql/tickets.py does for its enums).
strawberry.enum(NotificationKind, description="What a notification is about.")
strawberry.enum(
    Channel, name="NotificationChannel",
    description="EMAIL and SLACK reach a person as they choose; WEBHOOK and SLACK_AUDIT receive every notification.",
)
NotificationKindType = NotificationKind
ChannelType = Channel


@strawberry.type
class NotificationPreference:
    kind: NotificationKindType
    channels: list[ChannelType]
    is_default: bool = strawberry.field(description="True while the person has not chosen for this kind.")

    @classmethod
    def of(cls, row: preferences.Preference) -> NotificationPreference:
        return cls(kind=NotificationKindType(row.kind.value), channels=[ChannelType(c.value) for c in row.channels],
                   is_default=row.default)


@strawberry.type
class NotificationPreferences:
    preferences: list[NotificationPreference]

    @strawberry.field(description="The personal channels the admins configured (EMAIL, SLACK): what a choice can reach.")
    def configured_channels(self, info: Info[Context, None]) -> list[ChannelType]:
        settings = info.context.runtime.settings
        configured = {Channel.EMAIL: email.configured(settings), Channel.SLACK: slack.configured(settings)}
        return [ChannelType(c.value) for c in PERSONAL_CHANNELS if configured.get(c)]


@strawberry.input
class NotificationPreferenceInput:
    kind: str = strawberry.field(description="A NotificationKind value.")
    channels: list[str] = strawberry.field(description="EMAIL and/or SLACK; empty mutes this kind.")


@strawberry.type(description="A channel as the admins configured it. Secrets are never shown.")
class NotificationChannelStatus:
    channel: ChannelType
    configured: bool
    targets: list[str] = strawberry.field(description="Where it sends: an SMTP host, a Slack channel, webhook hosts.")
    signed: bool = strawberry.field(description="For webhooks: whether a signing secret is set.")


SetNotificationPreferencesResult = Annotated[
    NotificationPreferences | ValidationError, strawberry.union("SetNotificationPreferencesResult")
]


def _channels(settings: Settings) -> list[NotificationChannelStatus]:
    return [
        NotificationChannelStatus(channel=ChannelType.EMAIL, configured=email.configured(settings),
                                  targets=[f"{settings.smtp_host}:{settings.smtp_port}"] if settings.smtp_host else [],
                                  signed=False),
        NotificationChannelStatus(channel=ChannelType.SLACK, configured=slack.configured(settings),
                                  targets=["direct messages"] if slack.configured(settings) else [], signed=False),
        NotificationChannelStatus(channel=ChannelType.SLACK_AUDIT,
                                  configured=any(c == Channel.SLACK_AUDIT for c, _ in delivery.sinks(settings)),
                                  targets=[settings.slack_audit_channel] if settings.slack_audit_channel else [],
                                  signed=False),
        NotificationChannelStatus(channel=ChannelType.WEBHOOK, configured=webhook.configured(settings),
                                  targets=sorted(webhook.targets(settings)),
                                  signed=bool(settings.notify_webhook_secret)),
    ]


@strawberry.type
class NotifyQuery:
    @query(Scope.READ, description="The caller's notification channels for every kind of notification.")
    async def notification_preferences(self, info: Info[Context, None]) -> NotificationPreferences:
        rows = await preferences.preferences(info.context.actor.id)
        return NotificationPreferences(preferences=[NotificationPreference.of(r) for r in rows])

    @query(Scope.READ, description="Which notification channels are configured (admins).")
    async def notification_channels(self, info: Info[Context, None]) -> list[NotificationChannelStatus]:
        if not await info.context.runtime.authz.is_admin(info.context.actor.id):
            raise ValueError("only admins may see the notification channels")
        return _channels(info.context.runtime.settings)


@strawberry.type
class NotifyMutation:
    @mutation(Scope.REQUEST, Scope.DECIDE, Scope.ADMIN, errors=OUTPUT,
              description="Choose the caller's channels for the kinds given; other kinds keep theirs.")
    async def set_notification_preferences(
        self, info: Info[Context, None], preferences_: Annotated[
            list[NotificationPreferenceInput], strawberry.argument(name="preferences")]
    ) -> SetNotificationPreferencesResult:
        rt = info.context.runtime
        rows = await preferences.set_preferences(
            rt.clock, info.context.actor.id, [(p.kind, list(p.channels)) for p in preferences_])
        return NotificationPreferences(preferences=[NotificationPreference.of(r) for r in rows])


__all__ = ["NotAllowedError", "NotifyMutation", "NotifyQuery"]
