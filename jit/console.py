"""The built web console, served by `jit serve` at `/` so one process serves both.

Files come from frontend/dist (or JIT_CONSOLE_DIR). Any other GET path that is not a
file is a route of the single-page app and gets index.html; hashed assets are cached
for good, index.html never, so a new build is picked up on reload.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from jit.config import Settings

_SOURCE_DIST = Path(__file__).resolve().parent.parent / "frontend" / "dist"


def console_dir(settings: Settings) -> Path:
    return Path(settings.console_dir) if settings.console_dir else _SOURCE_DIST


class Console:
    def __init__(self, settings: Settings) -> None:
        self.root = console_dir(settings).resolve()
        self.graphql_url = f"{settings.base_url}/graphql"

    def _file(self, path: str) -> Path | None:
        candidate = (self.root / path.lstrip("/")).resolve()
        # resolve() folds "..": anything that lands outside the build folder is not served.
        if candidate != self.root and self.root not in candidate.parents:
            return None
        return candidate if candidate.is_file() else None

    async def serve(self, request: Request) -> Response:
        path = request.url.path
        if path.startswith(SERVER_PREFIXES):
            # Paths the server owns are never the app: a route that exists only in some modes
            # (demo sign-in) must be a plain 404 in the others, not a page that looks alive.
            return Response("not found", status_code=404)
        if request.method not in ("GET", "HEAD"):
            return Response("method not allowed", status_code=405, headers={"Allow": "GET, HEAD"})
        index = self.root / "index.html"
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT.replace("{{graphql}}", self.graphql_url), status_code=503)
        found = self._file(path) if path not in ("", "/") else None
        if found is not None:
            immutable = "/assets/" in path
            return FileResponse(found, headers={"Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache"})
        if path.startswith("/assets/") or Path(path).suffix in (".js", ".css", ".map", ".png", ".svg", ".ico", ".woff", ".woff2"):
            # A missing asset is a 404, not the app: a stale tab should fail loudly, not parse HTML as JS.
            return Response("not found", status_code=404)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})


SERVER_PREFIXES = ("/auth/", "/graphql/", "/healthz/", "/readyz", "/metrics")

_NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>JIT</title></head>
<body style="font-family: sans-serif; max-width: 48rem; margin: 3rem auto">
<h1>JIT</h1>
<p>The console is not built. Build it with <code>make frontend</code> (needs Node.js and npm),
or use the GraphQL API at <code>{{graphql}}</code> with <code>Authorization: Bearer &lt;token&gt;</code>.</p>
</body></html>
"""
