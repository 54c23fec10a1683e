"""Preferences over GraphQL: each person's own, typed errors for bad input, and the
admins' view of the configured channels (never a secret)."""

from __future__ import annotations

import httpx
import pytest

from jit.notify import delivery
from jit.notify.models import Channel, NotificationDelivery, NotificationPreference
from tests.graphql.client import Api, in_process_app

PREFS = "{ notificationPreferences { preferences { kind channels isDefault } } }"
SET = """mutation($p: [NotificationPreferenceInput!]!) { setNotificationPreferences(preferences: $p) {
  __typename ... on NotificationPreferences { preferences { kind channels isDefault } }
  ... on Error { message field } } }"""
CHANNELS = "{ notificationChannels { channel configured targets signed } }"


@pytest.fixture
async def api(world):
    app = in_process_app(world.rt)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jit.test") as client:
        yield Api(client, {})


def _by_kind(data: dict) -> dict:
    return {p["kind"]: p for p in data["preferences"]}


async def test_everyone_starts_with_every_personal_channel(world, api):
    data = await api.as_(world.rt, "bob", PREFS)
    prefs = _by_kind(data["notificationPreferences"])
    assert prefs["DECISION_NEEDED"] == {"kind": "DECISION_NEEDED", "channels": ["EMAIL", "SLACK"], "isDefault": True}
    assert len(prefs) == 17


async def test_a_person_chooses_channels_per_kind_and_delivery_follows(world, api, smtp, receiver):
    data = await api.as_(world.rt, "bob", SET, p=[{"kind": "DECISION_NEEDED", "channels": ["SLACK"]}])
    result = data["setNotificationPreferences"]
    assert result["__typename"] == "NotificationPreferences"
    assert _by_kind(result)["DECISION_NEEDED"] == {"kind": "DECISION_NEEDED", "channels": ["SLACK"], "isDefault": False}
    await world.request("alice", [("payments-dev", "PowerUserAccess")])
    await delivery.deliver_due(world.rt)
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["carol@example.com"]
    assert sorted(p["channel"] for p in receiver.slack_posts if p["channel"].startswith("U")) == ["UBOB", "UCAROL"]
    # An empty list mutes the kind; other kinds keep their choice.
    await api.as_(world.rt, "bob", SET, p=[{"kind": "DECISION_NEEDED", "channels": []}])
    prefs = _by_kind((await api.as_(world.rt, "bob", PREFS))["notificationPreferences"])
    assert prefs["DECISION_NEEDED"]["channels"] == [] and prefs["GRANTED"]["isDefault"]
    bob = await world.user("bob")
    await world.request("erin", [("payments-dev", "PowerUserAccess")])
    await delivery.deliver_due(world.rt)
    assert await NotificationDelivery.filter(target=bob.id, channel=Channel.EMAIL).count() == 0
    assert await NotificationDelivery.filter(target=bob.id, channel=Channel.SLACK).count() == 1


@pytest.mark.parametrize("bad,field", [
    ([{"kind": "NOPE", "channels": ["EMAIL"]}], "preferences[1].kind"),
    ([{"kind": "GRANTED", "channels": ["EMAIL"]}, {"kind": "GRANTED", "channels": []}], "preferences[2].kind"),
    ([{"kind": "GRANTED", "channels": ["EMAIL", "PIGEON"]}], "preferences[1].channels[1]"),
    ([{"kind": "GRANTED", "channels": ["WEBHOOK"]}], "preferences[1].channels[0]"),
])
async def test_bad_preferences_are_a_typed_error_and_change_nothing(world, api, bad, field):
    good = [{"kind": "ENDED", "channels": ["EMAIL"]}]
    data = await api.as_(world.rt, "alice", SET, p=good + bad)
    result = data["setNotificationPreferences"]
    assert result["__typename"] == "ValidationError"
    assert result["field"] == field
    assert await NotificationPreference.all().count() == 0


async def test_only_admins_see_the_channels_and_never_a_secret(world, api):
    response = await api.raw(CHANNELS, token=await api.token(world.rt, "alice"))
    body = response.json()
    assert body["data"] is None and "only admins" in body["errors"][0]["message"]
    data = await api.as_(world.rt, "admin", CHANNELS)
    channels = {c["channel"]: c for c in data["notificationChannels"]}
    assert all(c["configured"] for c in channels.values())
    assert channels["WEBHOOK"]["signed"] and channels["SLACK_AUDIT"]["targets"] == ["#jit-audit"]
    for secret in (world.rt.settings.notify_webhook_secret, world.rt.settings.slack_token, "/hook"):
        assert secret not in str(data)


CONFIGURED = "query { notificationPreferences { configuredChannels preferences { kind } } }"


async def test_configured_channels_say_what_a_choice_can_reach(make_api, demo):
    """The console offers a checkbox per kind and configured personal channel."""
    none = await make_api(smtp_host=None, slack_token=None)
    out = (await none.as_(demo.rt, "alice", CONFIGURED))["notificationPreferences"]
    assert out["configuredChannels"] == [] and out["preferences"]
    email_only = await make_api(smtp_host="127.0.0.1", slack_token=None)
    out = (await email_only.as_(demo.rt, "alice", CONFIGURED))["notificationPreferences"]
    assert out["configuredChannels"] == ["EMAIL"]
