"""The probe documents of issue 16: how long the server spends refusing each, with today's
one-pass limits (jit/graphql/limits.py) and with the Strawberry limiters they replaced
(QueryDepthLimiter + MaxAliasesLimiter), measured in the same run.

Two figures per document, both server time in this process:
- `validate`: the limits alone (old: the two limiters as graphql-core runs them; new: the
  one-pass check, as DocumentGuard runs it);
- `refusal`: the whole answer through the served schema (parse, limits, error), as
  `jit serve` does it for HTTP and websockets, minus the network and the log line
  Strawberry writes for each refused operation (silenced here).
The old limiters are run only up to `--old-max-levels` of fan-out (their time doubles per
level: 21 levels took 6.4 s, 29 would take minutes); above it the table says "skipped".

    python bench/bench_probes.py [--quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from typing import Any

from common import percentiles, print_table, write_result
from graphql import parse, validate
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

from jit.config import Settings
from jit.graphql.limits import Limits, check
from jit.graphql.schema import build_schema
from tests.security.test_probes import ALIASED_PAGES, fan_out  # the probe documents the tests send

# Any field names: the depth limit refuses before the standard rules would look them up.
DEEP = "{ " + "me { " * 25 + "id" + " }" * 25 + " }"
ALIASES = "{ " + " ".join(f"a{i}: me {{ roles }}" for i in range(100)) + " }"


class _Ctx:
    """No identity: every probe is refused before a resolver (or the scope guard) runs."""

    identity = None
    runtime = None


def _time(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


async def _time_async(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats, old limiters to 16 levels")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--old-max-levels", type=int, default=None)
    args = parser.parse_args()
    repeat = args.repeat or (5 if args.quick else 20)
    old_max = args.old_max_levels or (16 if args.quick else 21)

    logging.getLogger("strawberry.execution").disabled = True
    settings = Settings(mode="production")
    served = build_schema(settings)
    schema = served._schema
    limits = Limits(max_depth=settings.graphql_max_depth, max_aliases=settings.graphql_max_aliases,
                    max_cost=settings.graphql_max_cost, list_size=settings.graphql_cost_list_size)
    old_rules = [QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules[0],
                 MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules[0]]

    probes: list[tuple[str, str, int]] = [(f"fragment fan-out, {n} levels", fan_out(n), n) for n in (16, 21, 29)]
    probes += [("30 aliases x tickets(first:100) + history", ALIASED_PAGES, 0),
               ("depth 25", DEEP, 0), ("100 aliases", ALIASES, 0)]

    rows: list[list[Any]] = []
    results: list[dict[str, Any]] = []
    for name, text, levels in probes:
        document = parse(text)
        new = _time(lambda document=document: check(schema, document, {}, limits), repeat)
        new_errors = check(schema, document, {}, limits)
        refusal = asyncio.run(_time_async(lambda text=text: served.execute(text, context_value=_Ctx()), repeat))
        answer = asyncio.run(served.execute(text, context_value=_Ctx()))
        code = answer.errors[0].extensions.get("code") if answer.errors else None
        old: list[float] | None = None
        old_refused: bool | None = None
        if levels <= old_max:
            old_repeat = max(1, repeat if levels < 18 else 1)
            old = _time(lambda document=document: validate(schema, document, old_rules), old_repeat)
            old_refused = bool(validate(schema, document, old_rules))
        new_p = percentiles(new)
        refusal_p = percentiles(refusal)
        old_p = percentiles(old) if old else None
        ratio = round(old_p["p50"] / new_p["p50"], 1) if old_p else None
        rows.append([name, len(text), code or "answered", refusal_p["p50"], refusal_p["max"], new_p["p50"],
                     old_p["p50"] if old_p else "skipped", ("refused" if old_refused else "let through")
                     if old_refused is not None else "-", f"{ratio}x" if ratio else "-"])
        results.append({"probe": name, "bytes": len(text), "answer": code, "refusal_ms": refusal_p,
                        "validate_new_ms": new_p, "validate_old_ms": old_p, "old_refused": old_refused,
                        "old_over_new_p50": ratio, "new_errors": [e.message for e in new_errors]})

    table = print_table(
        f"Probe refusals, server time in ms ({repeat} runs each; target < 10 ms)",
        ["probe", "bytes", "answer", "refusal p50", "refusal max", "validate p50 (new)", "validate p50 (old)",
         "old limiters", "old/new"], rows)
    write_result("probes", {"repeat": repeat, "old_max_levels": old_max, "settings": {
        "graphql_max_depth": settings.graphql_max_depth, "graphql_max_aliases": settings.graphql_max_aliases,
        "graphql_max_cost": settings.graphql_max_cost, "graphql_cost_list_size": settings.graphql_cost_list_size},
        "results": results, "table": table})


if __name__ == "__main__":
    main()
