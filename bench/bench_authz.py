"""Authorization: one Casbin decision with ~10,000 compiled policy lines.

    .venv/bin/python bench/bench_authz.py            # 220 rules, 2,000 users: ~10,400 lines
    .venv/bin/python bench/bench_authz.py --quick    # 50 rules

Setup: a synthetic directory (2,000 users in 50 groups, 5,000 accounts under 50 OUs, 40
permission sets) and 220 approval rules (2 requester groups x 5 scopes x 4 permission sets,
1-2 approval steps, on-behalf lines, some break-glass), compiled by jit/authz/compiler.py
exactly as the Authorizer does. Requests are a mix of the questions the product asks:
request (60%), decide a step (20%), read a ticket (20%), for random users and rules.

Measured: the plain Casbin enforcer (what jit/authz/service.py used before), the
PolicyEnforcer (jit/authz/enforcer.py: lines indexed by (act, rule), decisions remembered
per policy version) on the first sight of each request ("cold") and on repeats ("warm"),
and "rules covering a target" (one decision per rule, what requestTicket asks). Every
sampled decision is compared with the plain enforcer's: "mismatches" must be 0.
"""

from __future__ import annotations

import argparse
import random
import time
from types import SimpleNamespace

from common import percentiles, print_table, rss_mb, write_result

from jit.authz.compiler import Directory, compile_policy, target_object, user_subject
from jit.authz.enforcer import PolicyEnforcer, casbin_enforcer
from jit.config import Settings

TARGET_P99_MS = 1.0


def _setup(rules: int, seed: int = 7):
    rnd = random.Random(seed)
    groups = {f"group-{g}": f"g{g}" for g in range(50)}
    users = {f"user-{u}": f"u{u}" for u in range(2000)}
    memberships = [(uid, f"g{(u * 7 + k) % 50}") for u, uid in enumerate(users.values()) for k in (0, 1)]
    ous = {f"/ou-{o}": f"ou{o}" for o in range(50)}
    accounts = {f"{a:012d}": f"{a:012d}" for a in range(5000)}
    sets = {f"Set{p}": f"arn:aws:sso:::permissionSet/ssoins-1/ps-{p}" for p in range(40)}
    directory = Directory(user_ids=users, group_ids=groups, memberships=memberships, account_ids=accounts,
                          ou_ids=ous, permission_set_arns=sets)
    rule_rows = []
    for r in range(rules):
        steps = [{"name": f"s{i}", "groups": [f"group-{rnd.randrange(50)}"], "required": 1}
                 for i in range(1 + r % 2)]
        rule_rows.append(SimpleNamespace(
            id=f"rule-{r}", name=f"rule-{r}", requester_users=[],
            requester_groups=rnd.sample(list(groups), 2),
            accounts=rnd.sample(list(accounts), 2), organizational_units=rnd.sample(list(ous), 3),
            permission_sets=rnd.sample(list(sets), 4), permission_set_groups=[], steps=steps,
            on_behalf=[{"requesters": {"groups": [f"group-{rnd.randrange(50)}"]},
                        "principals": {"groups": [f"group-{rnd.randrange(50)}"]}}],
            break_glass=r % 10 == 0,
        ))
    compiled = compile_policy(rule_rows, directory, Settings(mode="test"))
    account_ou = {acc: f"ou{rnd.randrange(50)}" for acc in accounts}

    def request() -> tuple[str, str, str, str]:
        user = user_subject(f"u{rnd.randrange(2000)}")
        rule = rule_rows[rnd.randrange(rules)]
        kind = rnd.random()
        if kind < 0.6:
            # Mostly targets inside the rule's scope, so both answers are exercised.
            acc = rnd.choice(rule.accounts) if rnd.random() < 0.5 else rnd.choice(list(accounts))
            arn = sets[rnd.choice(rule.permission_sets)] if rnd.random() < 0.7 else rnd.choice(list(sets.values()))
            return user, rule.id, target_object(f"/r-root/{account_ou[acc]}/", acc, arn), "request"
        if kind < 0.8:
            return user, rule.id, f"step:{rnd.randrange(2)}", "decide"
        return user, rule.id, "ticket", "read"

    return compiled, rule_rows, request, account_ou, sets


CPU: list[float] = []


def _time(fn, items) -> tuple[list[float], list[bool]]:
    """Wall time per call; the thread's CPU time per call goes to CPU (on a loaded machine
    the wall-clock tail is mostly time spent descheduled)."""
    samples, answers = [], []
    CPU.clear()
    for item in items:
        cpu = time.thread_time()
        started = time.perf_counter()
        answers.append(fn(*item))
        samples.append(time.perf_counter() - started)
        CPU.append(time.thread_time() - cpu)
    return samples, answers


def main(quick: bool) -> None:
    rules = 50 if quick else 220
    compiled, rule_rows, request, account_ou, sets = _setup(rules)
    started = time.perf_counter()
    plain = casbin_enforcer(compiled, indexed=False)
    plain_build = time.perf_counter() - started
    started = time.perf_counter()
    indexed = PolicyEnforcer(compiled)
    indexed_build = time.perf_counter() - started
    requests = list(dict.fromkeys(request() for _ in range(3000 if quick else 6000)))
    plain_sample = requests[: 300 if quick else 600]

    plain_times, plain_answers = _time(plain.enforce, plain_sample)
    cold_times, cold_answers = _time(indexed.enforce, requests)
    cold_cpu = list(CPU)
    warm_times, _ = _time(indexed.enforce, requests)
    mismatches = sum(a != b for a, b in zip(plain_answers, cold_answers, strict=True))

    # rules covering a target: one decision per rule, on a fresh enforcer (cold) then again (warm).
    fresh = PolicyEnforcer(compiled)
    targets = [r for r in requests if r[3] == "request"][:200]

    def covering(sub: str, _rule: str, obj: str, act: str) -> int:
        return sum(fresh.enforce(sub, row.id, obj, act) for row in rule_rows)

    cover_cold, _ = _time(covering, targets)
    cover_warm, _ = _time(covering, targets)

    stats = {
        "plain casbin (before)": percentiles(plain_times),
        "indexed, cold (after)": percentiles(cold_times),
        "indexed, cold (after), thread CPU time": percentiles(cold_cpu),
        "indexed, warm (after)": percentiles(warm_times),
        f"rules covering a target ({rules} decisions), cold": percentiles(cover_cold),
        f"rules covering a target ({rules} decisions), warm": percentiles(cover_warm),
    }
    rows = [[name, s["n"], s["p50"], s["p95"], s["p99"], s["max"],
             round(1000 / max(s["mean"], 0.001))] for name, s in stats.items()]
    table = print_table(
        f"Casbin decision, {len(compiled.policies)} policy lines, {len(compiled.groupings)} groupings "
        f"(target p99 <= {TARGET_P99_MS} ms per decision)",
        ["decision", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "per s"], rows)
    ratio = stats["plain casbin (before)"]["p99"] / max(stats["indexed, cold (after)"]["p99"], 1e-6)
    print(f"p99 plain / indexed cold: x{ratio:.1f}; mismatches against plain casbin: {mismatches}"
          f" of {len(plain_sample)}; build plain {plain_build:.2f} s, indexed {indexed_build:.2f} s")
    write_result("authz-quick" if quick else "authz", {
        "setup": {"rules": rules, "policy_lines": len(compiled.policies), "groupings": len(compiled.groupings),
                  "users": 2000, "groups": 50, "accounts": 5000, "permission_sets": 40,
                  "distinct_requests": len(requests)},
        "target": {"p99_ms": TARGET_P99_MS},
        "latency_ms": stats, "p99_speedup_plain_over_indexed_cold": round(ratio, 1),
        "mismatches": mismatches, "compared": len(plain_sample),
        "build_seconds": {"plain": round(plain_build, 3), "indexed": round(indexed_build, 3)},
        "rss_mb": {"bench process (both enforcers)": rss_mb(__import__("os").getpid(), children=False)},
        "table": table,
    })


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    main(parser.parse_args().quick)
