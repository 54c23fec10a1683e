"""create_app(settings): the Starlette app serving GraphQL over HTTP and websockets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from arq.connections import RedisSettings, create_pool
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message, SubscribeMessage

from jit.audit import endpoints as audit_endpoints
from jit.auth import frames, sessions
from jit.auth.live import OpenSocket, TooManyConnections
from jit.auth.middleware import BodyLimit, SecurityHeaders
from jit.auth.redact import install_log_redaction
from jit.auth.routes import CSRF_HEADER, auth_routes, csrf_ok, same_origin
from jit.auth.service import Identity, bearer, identify_token, same_digest
from jit.authz.service import Authorizer
from jit.aws.clients import AwsClients
from jit.clock import Clock, SystemClock
from jit.config import Settings
from jit.console import Console
from jit.db import close_db, init_db
from jit.errors import Unauthenticated
from jit.graphql.context import Context
from jit.graphql.schema import build_schema
from jit.graphql.sharing import encode_message
from jit.input_guard import InputGuard
from jit.ops import deployment, metrics
from jit.ops.collectors import COLLECTORS, collect
from jit.ops.health import probes
from jit.ops.logs import RequestIdMiddleware
from jit.runtime import Runtime
from jit.slack.routes import slack_routes

log = logging.getLogger(__name__)


class GuardedTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws that closes the socket once its token or session is no longer
    valid: checked on every operation the client sends (cached, jit.auth.live), before
    every event it delivers, every JIT_WS_RECHECK_INTERVAL, and at once when a revocation,
    logout or offboarding is announced on any replica. Signed-in sockets count against
    their user's cap (JIT_WS_MAX_CONNECTIONS_PER_USER)."""

    _open: OpenSocket | None = None
    _refused = False

    async def handle(self) -> None:
        watcher = asyncio.create_task(self._watch())
        try:
            await super().handle()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
            if self._open is not None:
                self.context.runtime.open_credentials().close(self._open)

    async def _valid(self) -> bool:
        identity = self.context.identity
        if identity is None:
            return True  # not yet initialised; the init timeout covers it
        rt = self.context.runtime
        return await rt.credential_checks().still_valid(identity)

    async def _close_revoked(self) -> None:
        with contextlib.suppress(Exception):
            await self.websocket.close(code=4403, reason="Forbidden: the token was revoked or the session ended")

    async def _watch(self) -> None:
        interval = self.context.runtime.settings.ws_recheck_interval
        while True:
            await asyncio.sleep(interval)
            if not await self._valid():
                await self._close_revoked()
                return

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self._refused:
            return
        identity = self.context.identity
        if (self.connection_acknowledged and identity is not None
                and not await self.context.runtime.open_credentials().allowed(identity)):
            self._refused = True
            await self._close_revoked()
            return
        await super().handle_subscribe(message)

    async def send_message(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "connection_ack":
            rt, identity = self.context.runtime, self.context.identity
            assert identity is not None, "on_ws_connect signs the socket in before the ack"
            try:
                self._open = await rt.open_credentials().open(identity, self._close_revoked)
            except TooManyConnections as exc:
                self._refused = True
                with contextlib.suppress(Exception):
                    await self.websocket.close(code=4429, reason=f"Too many connections: {exc}")
                return
            frames.signed_in(self.context.request.scope, rt.settings)
        elif kind == "next" and not await self._valid():
            await self._close_revoked()
            return
        await super().send_message(message)


def _runtime(state: State) -> Runtime:
    """The app's Runtime, which the lifespan keeps on app.state (Starlette types its
    attributes as Any)."""
    runtime: Runtime = state.runtime
    return runtime


class JitGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = GuardedTransportWSHandler

    def __init__(self, app_state: State, schema: BaseSchema, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.app_state = app_state

    def encode_json(self, data: object) -> str:
        # A result shared by many sockets is encoded once (jit/graphql/sharing.py).
        return encode_message(data)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        ctx = Context(runtime=_runtime(self.app_state), request=request, response=response)
        if isinstance(request, Request):
            # The ASGI wrapper below has already authenticated the request.
            ctx.identity = request.scope.get("jit.identity")
            ctx.user = ctx.identity.user if ctx.identity else None
        return ctx

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        rt = context.runtime
        raw = params.get("Authorization") or params.get("authorization")
        try:
            if raw:
                identity = await identify_token(rt.clock, bearer(raw if isinstance(raw, str) else None))
            else:
                identity = await _ws_session(rt.settings, rt.clock, context.request, params)
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message, "field": exc.field}) from None
        context.identity, context.user = identity, identity.user
        return None


async def _ws_session(settings: Settings, clock: Clock, websocket: WebSocket, params: dict[str, Any]) -> Identity:
    """A browser's session cookie, accepted only with the CSRF token in the init payload
    (a page on another site can make the browser send the cookie, but cannot read it)."""
    session_name, _ = sessions.cookie_names(settings)
    secret = websocket.cookies.get(session_name)
    if not secret:
        raise Unauthenticated("authentication required: send {\"Authorization\": \"Bearer <token>\"}",
                              field="Authorization")
    identity = await sessions.identify_session(settings, clock, secret)
    sent = params.get("csrfToken")
    if not isinstance(sent, str) or not same_digest(sent, identity.csrf_hash or ""):
        raise Unauthenticated("send the session's CSRF token as csrfToken in connection_init", field="csrfToken")
    return identity


def _refuse(status: int, code: str, message: str, field: str | None) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="jit"'} if status == 401 else None
    if status == 401:
        # One answer whatever the reason: which one (unknown, revoked, expired) would tell
        # whoever holds a leaked token whether it was ever good. The log keeps it.
        log.info("refused a GraphQL request: %s", message)
        message, field = Unauthenticated.PUBLIC_MESSAGE, None
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code, "field": field}}]},
                        status_code=status, headers=headers)


async def _http_identity(settings: Settings, clock: Clock, request: Request) -> Identity:
    header = request.headers.get("authorization")
    if header:
        return await identify_token(clock, bearer(header))
    session_name, _ = sessions.cookie_names(settings)
    if request.cookies.get(session_name):
        identity = await sessions.identify_session(settings, clock, request.cookies[session_name])
        # Browsers attach cookies to cross-site requests; a custom header they will not.
        if not (same_origin(settings, request) and csrf_ok(request, identity.csrf_hash)):
            raise _CsrfRefused
        return identity
    return await identify_token(clock, None)


class _CsrfRefused(Exception):
    pass


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    clock = clock or SystemClock()
    install_log_redaction()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await init_db(settings.database_url)
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        try:
            await deployment.claim_at_start(redis, settings.redis_url)
        except BaseException as exc:
            if isinstance(exc, deployment.SharedRedisDatabase):
                log.error("jit serve: %s", exc)
            await redis.aclose()
            await close_db()
            raise
        app.state.runtime = Runtime(
            settings=settings, clock=clock, aws=AwsClients(settings), authz=Authorizer(settings), redis=redis
        )
        try:
            yield
        finally:
            await _runtime(app.state).aws.close()
            await redis.aclose()
            await close_db()

    app = Starlette(lifespan=lifespan)
    ide = "graphiql" if settings.mode != "production" else None
    graphql = JitGraphQL(
        app.state, build_schema(settings), graphql_ide=ide, allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout),
        max_subscriptions_per_connection=settings.ws_max_subscriptions,
        allowed_origins=(settings.base_url,),
    )

    async def graphql_http(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method == "GET":
            if ide is None:
                return await Response("GraphQL: POST application/json", status_code=405)(scope, receive, send)
            return await graphql(scope, receive, send)
        try:
            identity = await _http_identity(settings, clock, request)
        except Unauthenticated as exc:
            return await _refuse(401, "UNAUTHENTICATED", exc.message, exc.field)(scope, receive, send)
        except _CsrfRefused:
            return await _refuse(403, "CSRF", f"cookie-authenticated requests need the {CSRF_HEADER} header from "
                                 "this site", CSRF_HEADER)(scope, receive, send)
        scope["jit.identity"] = identity
        await graphql(scope, receive, send)

    async def graphql_ws(websocket: WebSocket) -> None:
        receive = frames.limit_frames(websocket.scope, websocket.receive, websocket.send, settings)
        await graphql(websocket.scope, receive, websocket.send)

    healthz, readyz = probes(lambda: _runtime(app.state), settings.readyz_aws_cache_seconds)

    async def metrics_endpoint(request: Request) -> Response:
        if not settings.metrics_open:
            # Production without JIT_METRICS_TOKEN: as if there were no such route.
            return Response("not found", status_code=404)
        if not metrics.authorized(settings.metrics_token, request.headers.get("authorization")):
            return Response("metrics need the bearer token in JIT_METRICS_TOKEN\n", status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="jit-metrics"'})
        body = metrics.exposition(await collect(_runtime(app.state), COLLECTORS))
        return Response(body, media_type=metrics.CONTENT_TYPE_LATEST)

    async def audit_export(request: Request) -> Response:
        try:
            identity = await _http_identity(settings, clock, request)
        except Unauthenticated as exc:
            return _refuse(401, "UNAUTHENTICATED", exc.message, exc.field)
        except _CsrfRefused:
            return _refuse(403, "CSRF", f"cookie-authenticated requests need the {CSRF_HEADER} header from this site",
                           CSRF_HEADER)
        return await audit_endpoints.export(_runtime(app.state), identity, request)

    class Endpoint:
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "websocket":
                return await graphql(scope, receive, send)
            return await graphql_http(scope, receive, send)

    app.router.routes.extend([
        Route("/graphql", Endpoint(), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_ws),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        Route("/audit/export", audit_export),
        *auth_routes(settings),
        *slack_routes(settings),
        # Last: everything else is the console, with its client-side routes.
        Route("/{path:path}", Console(settings).serve, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    ])
    # Each added middleware wraps the ones before it: the request id is outermost, then the
    # security headers (so every response gets them, even a 413 or a 400), the body limit,
    # and the malformed-input guard, which reads bodies the limit has already capped.
    app.add_middleware(InputGuard, max_json_depth=settings.max_json_depth)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, settings=settings)
    app.add_middleware(RequestIdMiddleware)
    return app

