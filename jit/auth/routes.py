"""Sign-in endpoints: OIDC (/auth/login, /auth/callback), /auth/logout, /auth/session and,
in demo mode only, the demo user picker (/auth/demo)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from jit.auth import sessions
from jit.auth.oidc import OidcClient
from jit.auth.service import same_digest
from jit.config import Settings
from jit.directory.models import User
from jit.directory.queries import live
from jit.errors import DomainError, Unauthenticated

log = logging.getLogger(__name__)
STATE_COOKIE = "jit_oidc_state"
CSRF_HEADER = "x-jit-csrf"


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    if status == 401:  # one answer whatever the reason (jit.errors.Unauthenticated); the log keeps it
        log.info("refused %s: %s", code, message)
        message, field = Unauthenticated.PUBLIC_MESSAGE, None
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code, "field": field}}]},
                        status_code=status)


def same_origin(settings: Settings, request: Request) -> bool:
    """False when the browser says the request comes from another site."""
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != _origin(settings.base_url):
        return False
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csrf_ok(request: Request, csrf_hash: str | None) -> bool:
    sent = request.headers.get(CSRF_HEADER)
    return bool(sent and csrf_hash and same_digest(sent, csrf_hash))


def _set_session_cookies(settings: Settings, response: Response, new: sessions.NewSession) -> None:
    session_name, csrf_name = sessions.cookie_names(settings)
    max_age, secure = settings.session_absolute_timeout, settings.https
    response.set_cookie(session_name, new.secret, max_age=max_age, path="/", secure=secure, httponly=True,
                        samesite="lax")
    # Readable by the console's script, which echoes it in the X-JIT-CSRF header.
    response.set_cookie(csrf_name, new.csrf, max_age=max_age, path="/", secure=secure, httponly=False,
                        samesite="strict")


def _clear_session_cookies(settings: Settings, response: Response) -> None:
    for name in sessions.cookie_names(settings):
        response.delete_cookie(name, path="/", secure=settings.https)


def _safe_return_to(value: str | None) -> str:
    # Only paths on this site: never "//host" or a full URL (an open redirect).
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console"


def auth_routes(settings: Settings) -> list[Route]:
    oidc = OidcClient(settings) if settings.oidc_issuer and settings.oidc_client_id else None

    async def login(request: Request) -> Response:
        if oidc is None:
            return _error(404, "NOT_CONFIGURED", "single sign-on is not configured")
        rt = request.app.state.runtime
        url, state = await oidc.start(rt.redis, _safe_return_to(request.query_params.get("returnTo")))
        response = RedirectResponse(url, status_code=302)
        # Lax: the provider sends the browser back with a top-level GET from its own site.
        response.set_cookie(STATE_COOKIE, state, max_age=600, path="/auth/callback", httponly=True,
                            secure=settings.https, samesite="lax")
        return response

    async def callback(request: Request) -> Response:
        if oidc is None:
            return _error(404, "NOT_CONFIGURED", "single sign-on is not configured")
        rt = request.app.state.runtime
        state, code = request.query_params.get("state"), request.query_params.get("code")
        if request.query_params.get("error"):
            return _error(401, "UNAUTHENTICATED", "the identity provider did not sign you in", "error")
        if not state or not code or request.cookies.get(STATE_COOKIE) != state:
            return _error(401, "UNAUTHENTICATED", "this sign-in was not started in this browser; start again", "state")
        try:
            signed_in = await oidc.finish(rt.redis, rt.clock, state, code)
        except DomainError as exc:
            status = 403 if exc.__class__.__name__ == "NotAllowed" else 401
            return _error(status, "FORBIDDEN" if status == 403 else "UNAUTHENTICATED", exc.message, exc.field)
        new = await sessions.create_session(settings, rt.clock, signed_in.user, "oidc", signed_in.groups)
        log.info("signed in %s through OIDC (session %s)", signed_in.user.user_name, new.row.id)
        response = RedirectResponse(signed_in.return_to, status_code=303)
        response.delete_cookie(STATE_COOKIE, path="/auth/callback")
        _set_session_cookies(settings, response, new)
        return response

    async def logout(request: Request) -> Response:
        rt = request.app.state.runtime
        session_name, _ = sessions.cookie_names(settings)
        secret = request.cookies.get(session_name)
        if secret:
            try:
                identity = await sessions.identify_session(settings, rt.clock, secret)
            except DomainError:
                identity = None
            if identity is not None and not (same_origin(settings, request) and csrf_ok(request, identity.csrf_hash)):
                return _error(403, "CSRF", f"send the CSRF token in the {CSRF_HEADER} header", CSRF_HEADER)
            ended = await sessions.end_session(rt.clock, secret)
            if ended is not None:
                await rt.credentials_ended(tokens=ended.token_ids, sessions=[ended.session_id])
        response = JSONResponse({"signedOut": True})
        _clear_session_cookies(settings, response)
        return response

    async def session(request: Request) -> Response:
        rt = request.app.state.runtime
        session_name, _ = sessions.cookie_names(settings)
        try:
            identity = await sessions.identify_session(settings, rt.clock, request.cookies.get(session_name))
        except DomainError as exc:
            return _error(401, "UNAUTHENTICATED", exc.message, exc.field)
        return JSONResponse({"user": {"id": identity.user.id, "userName": identity.user.user_name,
                                      "displayName": identity.user.display_name}})

    routes = [
        Route("/auth/login", login, methods=["GET"]),
        Route("/auth/callback", callback, methods=["GET"]),
        Route("/auth/logout", logout, methods=["POST"]),
        Route("/auth/session", session, methods=["GET"]),
    ]
    if settings.mode == "demo":
        routes += demo_routes(settings)
    return routes


def demo_routes(settings: Settings) -> list[Route]:
    """Pick a demo user without a password. Only ever added when JIT runs in demo mode."""
    assert settings.mode == "demo", "demo sign-in must never be served outside demo mode"
    from jit.demo.seed import USERS

    names = [u[0] for u in USERS]

    async def demo_users(request: Request) -> Response:
        rows = await live(User).filter(user_name__in=names).order_by("user_name")
        return JSONResponse({"users": [{"userName": u.user_name, "displayName": u.display_name} for u in rows]})

    async def demo_sign_in(request: Request) -> Response:
        if not same_origin(settings, request) or request.headers.get(CSRF_HEADER) is None:
            return _error(403, "CSRF", f"send the {CSRF_HEADER} header from the console", CSRF_HEADER)
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "BAD_REQUEST", "send JSON: {\"userName\": ...}", "userName")
        name = body.get("userName") if isinstance(body, dict) else None
        if name not in names:
            return _error(404, "NOT_FOUND", "not a demo user", "userName")
        user = await live(User).get_or_none(user_name=name)
        if user is None:
            return _error(404, "NOT_FOUND", "not a demo user", "userName")
        rt = request.app.state.runtime
        new = await sessions.create_session(settings, rt.clock, user, "demo")
        response = JSONResponse({"user": {"id": user.id, "userName": user.user_name}})
        _set_session_cookies(settings, response, new)
        return response

    return [
        Route("/auth/demo", demo_users, methods=["GET"]),
        Route("/auth/demo", demo_sign_in, methods=["POST"]),
    ]
