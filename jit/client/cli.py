"""Registers the client commands on `jit`'s parser and turns failures into exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from jit.client.errors import ClientError

# The order `jit --help` lists them in.
CLIENT_COMMANDS = ("login", "request", "tickets", "show", "approve", "reject", "extend", "revoke", "cancel",
                   "watch", "delegate")


def _guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], None]:
    def run(args: argparse.Namespace) -> None:
        try:
            code = fn(args)
        except ClientError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            code = exc.code
        except KeyboardInterrupt:
            code = 130
        sys.exit(int(code))

    return run


def add_client_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from jit.client.commands import delegate, extend, login, request, tickets, watch
    from jit.client.commands.common import output_parent

    parents = [output_parent()]
    for module in (login, request, tickets, extend, watch, delegate):
        module.register(sub, parents)
    for name in CLIENT_COMMANDS:
        parser = sub.choices[name]
        parser.set_defaults(fn=_guarded(parser.get_default("fn")))
