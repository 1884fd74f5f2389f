"""Choose what to label next: the pool sentences the model is least sure of, plus a random share.

Uncertainty sampling alone drifts: it keeps asking about the same kind of borderline sentence and
the labelled set stops looking like the news it will be used on. So a share of each batch
(``random_share``) is drawn uniformly from the rest of the pool, and every row says why it was
chosen. Before anything is scored, the pool loses what is already labelled (same id, or the same
text after normalisation) and what is a near-copy of a labelled sentence; near-copies inside the
pool are labelled once (the most uncertain one is kept).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ..data import expand_files, near_duplicate_groups, read_jsonl
from ..errors import InputError
from ..text import normalize

STRATEGIES = ("entropy", "margin")


class ProbaModel(Protocol):
    """A :class:`vistance.inference.StanceClassifier` (joint, claim-only or cascade) or any object like it."""

    labels: list[str]

    def predict_proba(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray: ...


@dataclass
class RankConfig:
    k: int
    """How many sentences to pick."""
    strategy: str = "entropy"
    """entropy: normalised entropy of the probabilities; margin: 1 - (top1 - top2)."""
    random_share: float = 0.2
    """Fraction of the k picks drawn uniformly at random (after the uncertain ones) to keep the set representative."""
    seed: int = 42
    """Seeds the random picks; the same pool, model and seed give the same batch."""
    near_duplicate_threshold: float = 0.8
    """Char n-gram TF-IDF cosine at or above which two sentences count as near-copies (vistance.data)."""

    def __post_init__(self) -> None:
        if self.k < 1:
            raise InputError(f"k must be at least 1, not {self.k}")
        if self.strategy not in STRATEGIES:
            raise InputError(f"strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}")
        if not 0.0 <= self.random_share <= 1.0:
            raise InputError(f"random_share must be between 0 and 1, not {self.random_share}")


@dataclass
class RankResult:
    rows: list[dict]
    counts: dict = field(default_factory=dict)
    """How the pool shrank: pool, labelled_id, labelled_text, near_labelled, near_pool, candidates, picked."""


def uncertainty(probs: np.ndarray, strategy: str = "entropy") -> np.ndarray:
    """Per-row uncertainty in [0, 1]; higher = less sure."""
    probs = np.asarray(probs, dtype=np.float64)
    n_labels = probs.shape[1] if probs.ndim == 2 else 0
    if len(probs) == 0 or n_labels < 2:
        return np.zeros(len(probs))
    if strategy == "entropy":
        p = np.clip(probs, 1e-12, 1.0)
        # Divided by log(L) so a 2-label and a 4-label model score on the same scale.
        return -(p * np.log(p)).sum(axis=1) / math.log(n_labels)
    if strategy == "margin":
        top = np.sort(probs, axis=1)[:, ::-1]
        return 1.0 - (top[:, 0] - top[:, 1])
    raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")


def text_key(text: str) -> str:
    """Identity of a sentence's text for exclusion: NFC, white space collapsed, case-folded."""
    return normalize(text).casefold()


def read_labelled(paths: Sequence[str | Path]) -> list[dict]:
    """``id`` and ``text`` of already-labelled rows (files or globs of any JSONL with those keys; not validated)."""
    out = []
    for p in expand_files(list(paths)) if paths else []:
        out.extend({"id": str(r.get("id")), "text": str(r.get("text") or "")} for r in read_jsonl(p))
    return out


def rank(
    pool: Sequence[dict], model: ProbaModel, config: RankConfig, labelled: Sequence[dict] = (), progress: bool = False
) -> RankResult:
    """Pick ``config.k`` rows of ``pool`` (dicts with ``id``, ``text``) to label next.

    Output rows are the pool rows plus ``why`` (uncertainty / random), ``score`` (the uncertainty,
    also for random picks), ``pred`` (the model's top label) and ``probs``. Uncertain picks come
    first, most uncertain first; the random ones follow in draw order.
    """
    counts = {"pool": len(pool)}
    ids = {str(r["id"]) for r in labelled}
    keys = {text_key(r["text"]) for r in labelled if r.get("text")}
    by_id = [r for r in pool if str(r["id"]) not in ids]
    counts["labelled_id"] = len(pool) - len(by_id)
    rest = [r for r in by_id if text_key(r["text"]) not in keys]
    counts["labelled_text"] = len(by_id) - len(rest)

    # One grouping over labelled + pool, so a pool sentence joined to a labelled one by a chain of
    # near-copies is also dropped (the same rule that keeps near-copies out of different splits).
    lab_texts = [r["text"] for r in labelled if r.get("text")]
    groups = near_duplicate_groups(lab_texts + [r["text"] for r in rest], config.near_duplicate_threshold)
    labelled_groups = set(groups[: len(lab_texts)].tolist())
    pool_groups = groups[len(lab_texts) :]
    keep = [i for i, g in enumerate(pool_groups) if g not in labelled_groups]
    counts["near_labelled"] = len(rest) - len(keep)
    rest, pool_groups = [rest[i] for i in keep], pool_groups[keep]

    probs = model.predict_proba([r["text"] for r in rest], progress=progress) if rest else np.zeros((0, 2))
    scores = uncertainty(probs, config.strategy)

    best: dict[int, int] = {}  # group -> index of its most uncertain member (first on ties)
    for i, g in enumerate(pool_groups.tolist()):
        if g not in best or scores[i] > scores[best[g]]:
            best[g] = i
    cand = sorted(best.values())
    counts["near_pool"] = len(rest) - len(cand)
    counts["candidates"] = len(cand)

    k = min(config.k, len(cand))
    n_random = round(k * config.random_share)
    n_uncertain = k - n_random
    # Stable sort on -score: equal scores keep pool order, so the result does not depend on numpy's sort.
    by_score = sorted(cand, key=lambda i: -scores[i])
    uncertain = by_score[:n_uncertain]
    chosen = set(uncertain)
    remaining = [i for i in cand if i not in chosen]
    rng = np.random.default_rng(config.seed)
    random_picks = [remaining[j] for j in rng.choice(len(remaining), size=n_random, replace=False)] if n_random else []

    labels = list(model.labels)
    rows = []
    for why, idx in (("uncertainty", uncertain), ("random", random_picks)):
        for i in idx:
            rows.append(
                {
                    **rest[i],
                    "why": why,
                    "score": round(float(scores[i]), 6),
                    "pred": labels[np.argmax(probs[i])],
                    "probs": {lab: round(float(p), 4) for lab, p in zip(labels, probs[i])},
                }
            )
    counts["picked"] = len(rows)
    return RankResult(rows=rows, counts=counts)
