"""Seeded randomness: scalar ``random.Random`` streams named by their parts, a
vectorised polars stream for many rows, and a deterministic proportional split.

Nothing here reads the clock; the same seed gives the same district.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from itertools import accumulate

import polars as pl


def rng_for(seed: int, *parts: object) -> random.Random:
    return random.Random("|".join([str(seed), *map(str, parts)]))


def seed_of(*parts: object) -> int:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class VecRng:
    """Vectorised, seeded randomness for ``n`` rows: polars' seeded hash of the row index
    (stable within one polars version). Each ``stream`` name is an independent stream."""

    def __init__(self, n: int, *key: object) -> None:
        self.n = n
        self.key = key
        self._idx = pl.int_range(0, n, eager=True, dtype=pl.UInt64)

    def bits(self, stream: str) -> pl.Series:
        return self._idx.hash(seed_of(*self.key, stream))

    def uniform(self, stream: str) -> pl.Series:
        return (self.bits(stream) // 2048).cast(pl.Float64) / float(2**53)

    def integers(self, stream: str, low: int, high: int) -> pl.Series:
        """Uniform integers in [low, high]."""
        return (self.bits(stream) % (high - low + 1)).cast(pl.Int64) + low

    def choice(self, stream: str, values: Sequence[str], weights: Sequence[float] | None = None) -> pl.Series:
        cum = list(accumulate(weights if weights is not None else [1.0] * len(values)))
        u = self.uniform(stream) * cum[-1]
        idx = pl.Series(cum, dtype=pl.Float64).search_sorted(u, side="right").clip(0, len(values) - 1)
        return pl.Series(list(values), dtype=pl.String).gather(idx)


def quota_split(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return out
