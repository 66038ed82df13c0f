"""The statistics of `bench`: pure functions over samples, no guest.

A bench row compares one measurement (a time: us or ns, always "lower is
better") between two module sets. The sets are measured in *rounds*: in
round i each set does the same work once, adjacent in time, in one boot.
A row's samples are therefore a mapping round -> value per set, and the
rounds pair them.

The speedup is upstream time / our time (above 1.0: ours is faster). It
is reported as the ratio of the two sets' medians. Whether it is a win,
a loss or noise is judged on the *paired* ratios, one per round
(upstream_i / ours_i), which cancels what the two sets of a round share
(host load at that moment, the guest's state):

* the interval is the distribution-free confidence interval of the
  median paired ratio at CONFIDENCE (the sign-test interval): the k-th
  smallest and k-th largest of n ratios, k the largest such that
  P(Binomial(n, 1/2) < k) <= (1 - CONFIDENCE) / 2. It assumes only that
  the rounds are independent; at 95 % it needs n >= 6 rounds (k = 1, the
  interval is min..max: every round must agree), from n = 9 it drops the
  most extreme round at each end;
* the verdict is "faster" when the interval lies above 1.0, "slower"
  when below, else "inconclusive" (also when there are too few rounds
  for any interval at CONFIDENCE: then the interval shown is min..max).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
"""Coverage of the ratio interval (two-sided)."""

FASTER = "faster"
SLOWER = "slower"
INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Summary:
    """Samples of one set for one row: count, min, median, max (the
    samples' unit)."""

    runs: int
    min: float
    median: float
    max: float


def summarize(samples: Sequence[float]) -> Summary | None:
    """The Summary of @samples, or None when there are none."""
    if not samples:
        return None
    return Summary(len(samples), min(samples), statistics.median(samples),
                   max(samples))


def _binom_cdf_half(n: int, k: int) -> float:
    """P(Binomial(n, 1/2) <= k)."""
    return float(sum(math.comb(n, i) for i in range(k + 1))) / 2.0 ** n


def order_index(n: int, confidence: float = CONFIDENCE) -> int | None:
    """k (1-based) such that the k-th smallest and k-th largest of n
    samples bound their median with at least @confidence, k as large as
    possible; None when n samples are too few for any such interval."""
    alpha = (1.0 - confidence) / 2
    best = None
    for k in range(1, n // 2 + 1):
        if _binom_cdf_half(n, k - 1) <= alpha:
            best = k
        else:
            break
    return best


def paired_ratios(upstream: Mapping[int, float],
                  ours: Mapping[int, float]) -> list[float]:
    """upstream / ours per round present in both (round order); rounds
    with a zero or missing time on either side are left out."""
    return [upstream[r] / ours[r] for r in sorted(upstream)
            if r in ours and ours[r] > 0 and upstream[r] > 0]


@dataclass(frozen=True)
class Comparison:
    """One row: each set's Summary, the ratio of medians, the interval
    of the median paired ratio (low, high) and the verdict."""

    ours: Summary | None
    upstream: Summary | None
    ratio: float | None
    """median(upstream) / median(ours); None without both."""
    low: float | None
    high: float | None
    pairs: int
    """Rounds with a sample from both sets."""
    verdict: str
    """FASTER, SLOWER or INCONCLUSIVE (ours against upstream)."""


def compare(upstream: Mapping[int, float], ours: Mapping[int, float],
            confidence: float = CONFIDENCE) -> Comparison:
    """The Comparison of one row's samples (round -> time, any unit, the
    same for both sets)."""
    o = summarize(list(ours.values()))
    u = summarize(list(upstream.values()))
    ratio = u.median / o.median if o and u and o.median > 0 else None
    pairs = sorted(paired_ratios(upstream, ours))
    low = high = None
    verdict = INCONCLUSIVE
    if pairs:
        k = order_index(len(pairs), confidence)
        low, high = (pairs[k - 1], pairs[-k]) if k else (pairs[0],
                                                         pairs[-1])
        if k and low > 1.0:
            verdict = FASTER
        elif k and high < 1.0:
            verdict = SLOWER
    return Comparison(o, u, ratio, low, high, len(pairs), verdict)


def fmt_ratio(c: Comparison) -> str:
    """`1.23x [1.10-1.31]`, the interval of the paired ratios in
    brackets; "-" without a ratio."""
    if c.ratio is None:
        return "-"
    if c.low is None or c.high is None:
        return f"{c.ratio:.2f}x"
    return f"{c.ratio:.2f}x [{c.low:.2f}-{c.high:.2f}]"


def fmt_verdict(c: Comparison) -> str:
    """The verdict column: "faster", "slower" or "inconclusive"."""
    return "-" if c.ratio is None else c.verdict


@dataclass(frozen=True)
class Spread:
    """One row's ratio over separate invocations: min, median, max and
    (max - min) / median in percent."""

    ratios: tuple[float, ...]
    min: float
    median: float
    max: float
    percent: float


def spread(ratios: Sequence[float]) -> Spread | None:
    """The Spread of a row's ratios from separate invocations, or None
    without any."""
    if not ratios:
        return None
    med = statistics.median(ratios)
    pct = 100.0 * (max(ratios) - min(ratios)) / med if med else math.inf
    return Spread(tuple(ratios), min(ratios), med, max(ratios), pct)
