"""The Slack endpoints: /slack/interactions (buttons, modals, and the request modal's
options) and /slack/commands (the /jit slash command).

Served only with JIT_SLACK_INTERACTIVE on, a signing secret and a bot token; otherwise
404, as if they did not exist. Every request's signature, age and novelty are checked on
its raw body before any of it is parsed (jit.slack.verify)."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from jit.config import Settings
from jit.slack import commands, interactions, replies
from jit.slack.verify import Refused, verify

log = logging.getLogger(__name__)
# Refusals of unsigned or forged requests are audited up to this many a minute (anyone can
# send them; past this they are logged only, so they cannot flood the audit log).
AUDITED_REFUSALS_PER_MINUTE = 30


async def _verified_form(request: Request) -> dict[str, str] | Response:
    rt = request.app.state.runtime
    body = await request.body()
    try:
        await verify(rt, request.headers, body)
    except Refused as exc:
        log.warning("refused a Slack request to %s: %s", request.url.path, exc.reason)
        minute = f"jit:slack:refusals:{int(time.time() // 60)}"
        count = await rt.redis.incr(minute)
        await rt.redis.expire(minute, 120)
        if count <= AUDITED_REFUSALS_PER_MINUTE:
            await replies.refused(rt, exc.reason, action=request.url.path)
        return Response("refused", status_code=401)
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def slack_routes(settings: Settings) -> list[Route]:
    async def interactions_endpoint(request: Request) -> Response:
        if not settings.slack_interactive_enabled:
            return Response("not found", status_code=404)
        form = await _verified_form(request)
        if isinstance(form, Response):
            return form
        try:
            payload = json.loads(form.get("payload") or "{}")
        except ValueError:
            return Response("bad payload", status_code=400)
        answer = await interactions.handle(request.app.state.runtime, payload if isinstance(payload, dict) else {})
        return JSONResponse(answer) if answer is not None else Response(status_code=200)

    async def commands_endpoint(request: Request) -> Response:
        if not settings.slack_interactive_enabled:
            return Response("not found", status_code=404)
        form = await _verified_form(request)
        if isinstance(form, Response):
            return form
        answer = await commands.command(request.app.state.runtime, form)
        return JSONResponse(answer) if answer is not None else Response(status_code=200)

    return [
        Route("/slack/interactions", interactions_endpoint, methods=["POST"]),
        Route("/slack/commands", commands_endpoint, methods=["POST"]),
    ]
