"""The one exponential backoff: base, doubled per attempt after the first, capped."""

from __future__ import annotations


def exponential(base: float, attempts: int, cap: float) -> float:
    """Seconds to wait after `attempts` tries: base * 2 ** (attempts - 1), at most cap
    (attempts below 1 count as 1)."""
    return float(min(base * 2 ** max(attempts - 1, 0), cap))
