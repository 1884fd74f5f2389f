"""Every interval vistance reports, in one place.

* :func:`bootstrap_ci`: percentile bootstrap over sentences of the classification scores (evaluation
  reports, training's test summary, the per-domain table);
* :func:`paired_bootstrap`: two models scored on the same resampled sentences (run comparisons);
* :func:`cluster_bootstrap_ci`: percentile bootstrap of an accuracy resampling whole groups (speaker
  attribution, where the claims of one article stand or fall together);
* :func:`wilson`: Wilson score interval of a proportion (stance shares in the actor report);
* :func:`net_interval`: the actor report's net stance index ``(favor - against) / n``.

Every bootstrap takes a seed, so a report is reproducible to the last digit.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence

import numpy as np

from . import encode, resampled_scores

Z95 = 1.959964
"""The standard normal quantile of a two-sided 95% interval."""


# --------------------------------------------------------------------------- bootstrap over sentences


def resample_indices(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield blocks of bootstrap index rows, a few million cells at a time to bound memory."""
    rng = np.random.default_rng(seed)
    block = max(1, min(n_resamples, 4_000_000 // max(n, 1)))
    done = 0
    while done < n_resamples:
        m = min(block, n_resamples - done)
        yield rng.integers(0, n, size=(m, n))
        done += m


def bootstrap_ci(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    labels: Sequence[str],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, dict]:
    """Percentile bootstrap interval over sentences: ``{metric: {estimate, low, high}}``.

    Sentences are resampled with replacement ``n_resamples`` times with a fixed seed, so a report
    is reproducible. With test sets of a few dozen sentences the interval is wide; that is the
    point of showing it.
    """
    t, p = encode(y_true, labels), encode(y_pred, labels)
    n = len(t)
    point = {m: float(v[0]) for m, v in resampled_scores(t, p, labels, np.arange(n)[None]).items()}
    if n == 0:
        return {m: {"estimate": v, "low": None, "high": None} for m, v in point.items()}
    chunks = [resampled_scores(t, p, labels, idx) for idx in resample_indices(n, n_resamples, seed)]
    tail = 100 * (1 - confidence) / 2
    out = {}
    for m, est in point.items():
        lo, hi = np.percentile(np.concatenate([c[m] for c in chunks]), [tail, 100 - tail])
        out[m] = {"estimate": est, "low": float(lo), "high": float(hi)}
    return out


def paired_bootstrap(
    y_true: Sequence[str],
    pred_a: Sequence[str],
    pred_b: Sequence[str],
    labels: Sequence[str],
    metric: str = "macro_f1",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict:
    """Is model A really better than model B on these sentences?

    Both prediction lists are scored on the *same* resampled sentences, so sentence difficulty
    cancels out. Returns the observed difference ``delta`` = metric(A) - metric(B), its percentile
    interval, and ``p``: the share of resamples where A is not better (difference <= 0), a
    one-sided p-value-like number (small = A's lead is unlikely to be luck).
    """
    t = encode(y_true, labels)
    a, b = encode(pred_a, labels), encode(pred_b, labels)
    if not (len(t) == len(a) == len(b)):
        raise ValueError("paired bootstrap needs gold and both predictions on the same sentences")
    n = len(t)
    whole = np.arange(n)[None]
    delta = float(resampled_scores(t, a, labels, whole)[metric][0] - resampled_scores(t, b, labels, whole)[metric][0])
    if n == 0:
        return {"metric": metric, "delta": delta, "low": None, "high": None, "p": None, "n_resamples": 0}
    diffs = np.concatenate(
        [
            resampled_scores(t, a, labels, idx)[metric] - resampled_scores(t, b, labels, idx)[metric]
            for idx in resample_indices(n, n_resamples, seed)
        ]
    )
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(diffs, [tail, 100 - tail])
    return {
        "metric": metric,
        "delta": delta,
        "low": float(lo),
        "high": float(hi),
        "p": float(np.mean(diffs <= 0)),
        "n_resamples": len(diffs),
    }


# --------------------------------------------------------------------------- bootstrap over groups


def cluster_bootstrap_ci(hits_by_group: dict[str, list[bool]], n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of an accuracy, resampling whole groups (articles) with replacement.

    Used where outcomes within a group are not independent: one missed interviewee costs every claim
    of the article, so resampling claims one by one would give an interval that is too narrow.
    """
    groups = [v for v in hits_by_group.values() if v]
    if not groups:
        return (0.0, 0.0)
    rng = random.Random(seed)
    stats = []
    for _ in range(n):
        sample = [groups[rng.randrange(len(groups))] for _ in groups]
        total = sum(len(g) for g in sample)
        stats.append(sum(sum(g) for g in sample) / total)
    stats.sort()
    return stats[int(0.025 * n)], stats[min(n - 1, int(0.975 * n))]


# --------------------------------------------------------------------------- proportions from counts


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n (0, 0 when n is 0): sensible at the 0 and n ends."""
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def net_interval(favor: int, against: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% interval of (favor - against) / n, a mean of +1/0/-1 scores.

    A Wald interval on counts with one pseudo-claim added to favor and to against (Agresti-Caffo style):
    the plain Wald interval has zero width when every claim agrees, which a handful of claims never
    warrants. Clipped to [-1, 1].
    """
    if n == 0:
        return (0.0, 0.0)
    f, a, m = favor + 1, against + 1, n + 2
    d = (f - a) / m
    var = ((f + a) / m - d * d) / m
    half = z * math.sqrt(max(var, 0.0))
    return (max(-1.0, d - half), min(1.0, d + half))
