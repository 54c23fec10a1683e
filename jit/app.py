"""create_app(settings): the Starlette app serving GraphQL over HTTP and websockets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from arq.connections import RedisSettings, create_pool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from jit.auth.service import authenticate, bearer
from jit.authz.service import Authorizer
from jit.aws.clients import AwsClients
from jit.clock import Clock, SystemClock
from jit.config import Settings
from jit.console import Console
from jit.db import close_db, init_db
from jit.errors import Unauthenticated
from jit.graphql.context import Context
from jit.graphql.schema import schema
from jit.runtime import Runtime


class JitGraphQL(GraphQL):
    def __init__(self, app_state: Any, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.app_state = app_state

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        ctx = Context(runtime=self.app_state.runtime, request=request, response=response)
        if isinstance(request, Request):
            # The ASGI wrapper below has already authenticated the request.
            ctx.user = request.scope.get("jit.user")
        return ctx

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization") if isinstance(params, dict) else None
        try:
            token = bearer(raw if isinstance(raw, str) else None)
            context.user = await authenticate(context.runtime.clock, token)
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message}) from None
        return None


def _unauthenticated(exc: Unauthenticated) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": exc.message, "extensions": {"code": "UNAUTHENTICATED", "field": exc.field}}]},
        status_code=401, headers={"WWW-Authenticate": 'Bearer realm="jit"'},
    )


def create_app(settings: Settings, clock: Clock | None = None) -> Starlette:
    clock = clock or SystemClock()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await init_db(settings.database_url)
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        app.state.runtime = Runtime(
            settings=settings, clock=clock, aws=AwsClients(settings), authz=Authorizer(settings), redis=redis
        )
        try:
            yield
        finally:
            await redis.aclose()
            await close_db()

    app = Starlette(lifespan=lifespan)
    ide = "graphiql" if settings.mode != "production" else None
    graphql = JitGraphQL(
        app.state, graphql_ide=ide, allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=10),
    )

    async def graphql_http(scope, receive, send) -> None:
        request = Request(scope, receive)
        if request.method == "GET":
            if ide is None:
                return await Response("GraphQL: POST application/json", status_code=405)(scope, receive, send)
            return await graphql(scope, receive, send)
        try:
            user = await authenticate(clock, bearer(request.headers.get("authorization")))
        except Unauthenticated as exc:
            return await _unauthenticated(exc)(scope, receive, send)
        scope["jit.user"] = user
        await graphql(scope, receive, send)

    async def graphql_ws(websocket: WebSocket) -> None:
        await graphql(websocket.scope, websocket.receive, websocket.send)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    class Endpoint:
        async def __call__(self, scope, receive, send) -> None:
            if scope["type"] == "websocket":
                return await graphql(scope, receive, send)
            return await graphql_http(scope, receive, send)

    app.router.routes.extend([
        Route("/graphql", Endpoint(), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_ws),
        Route("/healthz", health),
        # Last: everything else is the console, with its client-side routes.
        Route("/{path:path}", Console(settings).serve, methods=["GET", "HEAD"]),
    ])
    return app

