"""`jit login --server URL`: check a token against the server and save both, mode 0600."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from jit.client import documents
from jit.client.config import ClientConfig, normalize_server, save_config
from jit.client.errors import ClientError, ExitCode
from jit.client.output import print_json
from jit.client.transport import GraphQLClient


def _read_token(args: argparse.Namespace) -> str:
    given: str | None = args.token
    if given and given != "-":
        return given
    if given == "-" or not sys.stdin.isatty():
        token = sys.stdin.readline()
    elif os.environ.get("JIT_TOKEN"):
        token = os.environ["JIT_TOKEN"]
    else:
        token = getpass.getpass("API token (from `jit token create USERNAME`): ")
    if not token.strip():
        raise ClientError("no token given", ExitCode.USAGE)
    return token.strip()


def run(args: argparse.Namespace) -> int:
    if not (args.server or os.environ.get("JIT_SERVER")):
        raise ClientError("--server URL is required (or set JIT_SERVER)", ExitCode.USAGE)
    server = normalize_server(args.server or os.environ["JIT_SERVER"])
    config = ClientConfig(server=server, token=_read_token(args))
    with GraphQLClient(config) as client:
        me = client.query(documents.ME)["me"]
    path = save_config(config)
    if args.output == "json":
        print_json({"server": server, "user": me["user"], "roles": me["roles"], "config": str(path)})
    else:
        print(f"logged in to {server} as {me['user']['userName']}; saved to {path}")
    return ExitCode.OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("login", parents=parents, help="check a token and save it with the server URL",
                       description="Check an API token against the server and save both in "
                                   "$JIT_CONFIG_DIR or $XDG_CONFIG_HOME/jit/config.json (mode 0600). "
                                   "JIT_SERVER and JIT_TOKEN, when set, take precedence over the saved login.")
    p.add_argument("--server", help="the JIT server, e.g. https://jit.example.com (default: $JIT_SERVER)")
    p.add_argument("--token", help="the API token; '-' reads it from stdin (default: stdin if piped, "
                                   "else $JIT_TOKEN, else a prompt)")
    p.set_defaults(fn=run)
