"""Run as a subprocess by the fault suite: migrates the private database, syncs the
directory from moto, applies the demo rules and prints API tokens as JSON. A separate
process keeps the ORM of the test process (pointed at the shared test database) untouched."""

from __future__ import annotations

import asyncio
import json
import sys
from importlib import resources


async def main(database_url: str, users: list[str]) -> None:
    from jit.auth.service import create_token
    from jit.aws.clients import AwsClients
    from jit.clock import SystemClock
    from jit.config import Settings
    from jit.db import database, migrate
    from jit.directory.service import sync_directory
    from jit.rules.groups import apply_rules_file
    from jit.runtime import Runtime

    settings = Settings()
    await migrate(database_url)
    clock = SystemClock()
    async with database(database_url):
        async with AwsClients(settings) as aws:
            await sync_directory(Runtime.offline(settings, clock, aws))
        # The demo file also declares permission set groups; apply both, as `jit demo` does.
        text = resources.files("jit.demo").joinpath("rules.yaml").read_text()
        await apply_rules_file(Runtime.offline(settings, clock), text, actor_id=None, prune=True)
        tokens = {user: (await create_token(clock, user, "faults"))[0] for user in users}
    print(json.dumps(tokens))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
