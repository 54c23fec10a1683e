"""The insights cron (arq): `insights.roll_up`, registered in jit.jobs.worker."""

from __future__ import annotations

from typing import Any

from jit.insights.rollup import roll_up as _roll_up


async def roll_up(ctx: dict[str, Any]) -> dict[str, Any]:
    """Every few minutes: write the closed days that have no rollup or that changed
    (jit.insights.rollup). Safe to run twice or after a crash: each day is rewritten whole."""
    return await _roll_up(ctx["runtime"].clock)
