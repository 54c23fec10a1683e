"""Where the client finds its server and token: JIT_SERVER / JIT_TOKEN, else the saved login."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from jit.client.errors import ClientError, ExitCode

CONFIG_FILE = "config.json"


def config_dir() -> Path:
    """JIT_CONFIG_DIR (tests, several identities), else $XDG_CONFIG_HOME/jit, else ~/.config/jit."""
    explicit = os.environ.get("JIT_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "jit"


@dataclass(frozen=True)
class ClientConfig:
    server: str
    token: str

    @property
    def graphql_url(self) -> str:
        return self.server.rstrip("/") + "/graphql"

    @property
    def websocket_url(self) -> str:
        url = self.graphql_url
        return "wss://" + url[len("https://"):] if url.startswith("https://") else "ws://" + url[len("http://"):]


def normalize_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith("/graphql"):
        url = url[: -len("/graphql")]
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"--server must start with http:// or https://, got {url!r}", ExitCode.USAGE)
    return url


def _read_file() -> dict[str, str]:
    path = config_dir() / CONFIG_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot read {path}: {exc}", ExitCode.NOT_LOGGED_IN) from None
    return data if isinstance(data, dict) else {}


def load_config() -> ClientConfig:
    saved = _read_file()
    server = os.environ.get("JIT_SERVER") or saved.get("server")
    token = os.environ.get("JIT_TOKEN") or saved.get("token")
    if not server or not token:
        raise ClientError("not logged in: run `jit login --server URL`, or set JIT_SERVER and JIT_TOKEN",
                          ExitCode.NOT_LOGGED_IN)
    return ClientConfig(server=normalize_server(server), token=token)


def save_config(config: ClientConfig) -> Path:
    """Writes the login readable by its owner only: the token is as good as a password."""
    directory = config_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / CONFIG_FILE
    tmp = directory / f".{CONFIG_FILE}.{os.getpid()}"
    # Created 0600 from the start, then renamed over the old file, so the token is never
    # readable by others, not even for a moment, and a crash leaves the old login intact.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump({"server": config.server, "token": config.token}, handle, indent=2)
            handle.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
