"""The learned attribution step: a logistic regression that picks each sentence's speaker among the rules' candidates.

The rules read the article (:mod:`vistance.speakers.attributor`) and propose candidates with features
(:mod:`vistance.speakers.candidates`); the ranker scores each candidate as the probability that it is the
labelled speaker and takes the best, or abstains when the best scores under a threshold.

Training (:func:`train_ranker`) needs the labelled claims read in their articles. Candidates for training are
made out of fold: each fold's articles are read by an attributor whose alias table was fitted on the other
folds, as the attributor at prediction time has never seen the sentence it reads. The regularisation and the
threshold are then chosen by grouped cross-validation over those candidates, on the training data alone:

* ``C`` maximises the out-of-fold accuracy;
* the threshold maximises correct minus ``wrong_cost`` x wrong attributions out of fold (a claim given to the
  wrong actor misleads the actor report as much as a right one informs it; an unattributed claim does neither).
  Every labelled claim has a speaker, so abstaining can only lower accuracy: with ``wrong_cost`` 0 it never
  abstains.

The model is a JSON file of feature names, weights, bias and threshold (:meth:`SpeakerRanker.save`); the one
shipped in the package (``resources/speakers/ranker.json``) is trained by ``python -m vistance.speakers
train-ranker`` (see docs/speakers.md).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CheckpointError
from .candidates import Candidate, feature_names

RANKER_FORMAT = 1
DEFAULT_RANKER = Path(__file__).resolve().parents[1] / "resources" / "speakers" / "ranker.json"
RETRAIN = "python -m vistance.speakers train-ranker data/annotated/*.jsonl"
# Inverse regularisation strengths tried; the features are indicators and closeness values in [0, 1].
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)
# Feature sets tried: the rules' evidence alone (how each candidate was found and where it stands), or that plus
# the rules' final answer (``rule``, ``rule:<how>``). On the older labelled data the answer mostly teaches the
# ranker to copy the rules, which were written on that same data.
FEATURE_SETS = {
    "evidence": lambda name: not name.startswith("rule") and name != "carry_run",
    "evidence+answer": lambda name: True,
}
FOLDS = 5
WRONG_COST = 1.0


@dataclass
class Example:
    """One labelled claim as the ranker sees it: the candidates of its sentence and the labelled speaker."""

    candidates: list[Candidate]
    gold: str
    article: str
    rule: dict = field(default_factory=dict)
    """The rules' result for the sentence (speaker, speaker_rule, ...)."""


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _same(a: str | None, b: str | None) -> bool:
    from .attributor import normalize_speaker

    return bool(a) and normalize_speaker(a) == normalize_speaker(b)


@dataclass
class SpeakerRanker:
    """Logistic regression over candidate features; see the module docstring."""

    features: list[str]
    weights: list[float]
    bias: float
    threshold: float = 0.0
    """Abstain when the best candidate's probability is below this (chosen on training folds)."""
    info: dict = field(default_factory=dict)
    """How it was trained: data, C, out-of-fold figures. Informational."""

    def __post_init__(self):
        if len(self.features) != len(self.weights):
            raise CheckpointError(f"{len(self.features)} features but {len(self.weights)} weights")
        unknown = sorted(set(self.features) - set(feature_names()))
        if unknown:
            raise CheckpointError(f"features unknown to this version: {', '.join(unknown[:5])}")
        if not 0.0 <= self.threshold <= 1.0:
            raise CheckpointError(f"threshold {self.threshold} is not a probability")

    # ------------------------------------------------------------------ scoring
    def score(self, candidate: Candidate) -> float:
        """Probability that ``candidate`` is the sentence's speaker."""
        f = candidate.features
        return _sigmoid(self.bias + sum(w * f.get(name, 0.0) for name, w in zip(self.features, self.weights)))

    def choose(self, rule: dict, candidates: Sequence[Candidate], *, threshold: float | None = None) -> dict:
        """The attribution for one sentence: the best candidate, or no speaker when it scores under the threshold
        (``threshold``, default the ranker's own).

        ``speaker_confidence`` is the candidate's probability; ``speaker_rule`` is the rules' own when the ranker
        agrees with them, else ``ranked``.
        """
        threshold = self.threshold if threshold is None else threshold
        scored = [(self.score(c), c.features.get("rule", 0.0), -i, c) for i, c in enumerate(candidates)]
        if not scored:
            return {"speaker": None, "speaker_span": None, "speaker_confidence": None, "speaker_rule": None}
        p, _, _, best = max(scored, key=lambda t: t[:3])
        if p < threshold:
            return {"speaker": None, "speaker_span": None, "speaker_confidence": None, "speaker_rule": None}
        agrees = _same(best.speaker, rule.get("speaker"))
        return {
            "speaker": best.speaker,
            "speaker_span": rule.get("speaker_span") if agrees else best.span,
            "speaker_confidence": round(p, 3),
            "speaker_rule": rule.get("speaker_rule") if agrees else "ranked",
        }

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        return {
            "format": RANKER_FORMAT,
            "model": "logistic",
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": dict(zip(self.features, self.weights)),
            "info": self.info,
        }

    @classmethod
    def from_dict(cls, d: dict) -> SpeakerRanker:
        if not isinstance(d, dict) or d.get("format") != RANKER_FORMAT or d.get("model") != "logistic":
            raise CheckpointError(f"not a speaker ranker of format {RANKER_FORMAT}")
        weights = d.get("weights")
        if not isinstance(weights, dict) or not all(isinstance(v, int | float) for v in weights.values()):
            raise CheckpointError("'weights' must map feature names to numbers")
        if not isinstance(d.get("bias"), int | float) or not isinstance(d.get("threshold"), int | float):
            raise CheckpointError("'bias' and 'threshold' must be numbers")
        info = d.get("info")
        return cls(
            list(weights),
            [float(v) for v in weights.values()],
            float(d["bias"]),
            float(d["threshold"]),
            info if isinstance(info, dict) else {},
        )

    def save(self, path: str | os.PathLike) -> Path:
        from ..data.tables import atomic_write_text

        return atomic_write_text(Path(path), json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> SpeakerRanker:
        """Read a saved ranker; any problem is one :class:`CheckpointError` line naming the file."""
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise CheckpointError(f"{path}: no speaker ranker (train one: {RETRAIN} --out {path})") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path}: not a JSON speaker ranker ({e}); retrain it: {RETRAIN}") from None
        except CheckpointError as e:
            raise CheckpointError(f"{path}: {e}; retrain it: {RETRAIN}") from None

    @classmethod
    def load_default(cls) -> SpeakerRanker:
        """The ranker shipped in the package."""
        return cls.load(DEFAULT_RANKER)


# --------------------------------------------------------------------------- training


def candidate_examples(
    records: Sequence[dict], articles: dict[str, list[dict]], *, folds: int = FOLDS, seed: int = 0, **options
) -> list[Example]:
    """The labelled claims of ``records`` with their candidates, made out of fold (see the module docstring).

    ``articles``: article -> its sentences in order (:func:`vistance.speakers.evaluation.build_articles`);
    ``options`` go to :meth:`SpeakerAttributor.fit` (generic, ner).
    """
    from .attributor import SpeakerAttributor
    from .evaluation import grouped_folds, labelled_ids

    claims = {r["id"]: r for r in records if r.get("claim") == "claim" and r.get("speaker")}
    parts = grouped_folds(records, folds, seed) if folds > 1 else [{r["article"] for r in records}]
    out = []
    for test in parts:
        train = [r for r in records if r["article"] not in test] if folds > 1 else list(records)
        attributor = SpeakerAttributor.fit(train, **options)
        sents = [s for art in sorted(test) for s in articles.get(art, [])]
        for s, (rule, cands) in zip(sents, attributor.readings(sents)):
            for sid in labelled_ids(s):
                if sid in claims and claims[sid]["article"] in test:
                    out.append(Example(cands, claims[sid]["speaker"], s["article"], rule))
    return out


def _matrix(examples: Sequence[Example], names: list[str]):
    import numpy as np

    rows, labels, owner = [], [], []
    for n, ex in enumerate(examples):
        for c in ex.candidates:
            rows.append([c.features.get(k, 0.0) for k in names])
            labels.append(_same(c.speaker, ex.gold))
            owner.append(n)
    return np.array(rows, dtype=float).reshape(-1, len(names)), np.array(labels, dtype=int), np.array(owner)


def _fit_lr(x, y, c: float) -> tuple[list[float], float]:
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:  # nothing to learn from: every candidate right, or every one wrong
        return [0.0] * x.shape[1], (4.0 if y.size and y[0] else -4.0)
    lr = LogisticRegression(C=c, max_iter=5000)
    lr.fit(x, y)
    return [float(w) for w in lr.coef_[0]], float(lr.intercept_[0])


def _best(examples: Sequence[Example], probs, owner) -> list[tuple[float, bool]]:
    """(probability, right) of the top candidate of each example; (0, False) for an example without any."""
    top: dict[int, tuple[float, float, int]] = {}
    index = 0
    for n, ex in enumerate(examples):
        for j, c in enumerate(ex.candidates):
            key = (float(probs[index]), c.features.get("rule", 0.0), -j)
            if n not in top or key > top[n]:
                top[n] = key
            index += 1
    out = []
    for n, ex in enumerate(examples):
        if n not in top:
            out.append((0.0, False))
        else:
            out.append((top[n][0], _same(ex.candidates[-top[n][2]].speaker, ex.gold)))
    return out


def _threshold(best: Sequence[tuple[float, bool]], wrong_cost: float) -> float:
    """The threshold maximising correct - wrong_cost x wrong among the attributed (ties: the lowest)."""
    if wrong_cost <= 0:
        return 0.0
    ranked = sorted(best, key=lambda t: -t[0])
    gain, best_gain, cut = 0.0, 0.0, 1.0
    for i, (p, right) in enumerate(ranked):
        gain += 1.0 if right else -wrong_cost
        if i + 1 < len(ranked) and ranked[i + 1][0] == p:
            continue
        if gain > best_gain:
            best_gain, cut = gain, p
    return 0.0 if cut <= min((p for p, _ in best), default=0.0) else cut


def fit_ranker(
    examples: Sequence[Example],
    *,
    c_grid: Sequence[float] = C_GRID,
    folds: int = FOLDS,
    seed: int = 0,
    wrong_cost: float = WRONG_COST,
    info: dict | None = None,
) -> SpeakerRanker:
    """Choose C and the threshold by grouped CV over ``examples`` (by article), then fit on all of them."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread: these are a few thousand rows of 48 columns, where threads only wait for each other
    # (0.25 s a fit with the default threads on a busy 2-core machine, 0.02 s with one).
    with threadpool_limits(limits=1):
        return _fit_ranker(examples, c_grid, folds, seed, wrong_cost, info)


def _fit_ranker(
    examples: Sequence[Example], c_grid: Sequence[float], folds: int, seed: int, wrong_cost: float, info: dict | None
) -> SpeakerRanker:
    import random

    import numpy as np

    every = feature_names()
    arts = sorted({ex.article for ex in examples})
    random.Random(seed).shuffle(arts)
    k = folds if len(arts) >= folds else 1
    fold_of = {a: i % k for i, a in enumerate(arts)}
    x_all, y, owner = _matrix(examples, every)
    ex_fold = np.array([fold_of[ex.article] for ex in examples], dtype=int)
    row_fold = ex_fold[owner] if owner.size else np.array([], dtype=int)
    results = {}
    for set_name, wanted in FEATURE_SETS.items():
        cols = [i for i, name in enumerate(every) if wanted(name)]
        x = x_all[:, cols]
        for c in c_grid:
            probs = np.zeros(len(y))
            for f in range(k):
                test = row_fold == f if k > 1 else np.zeros(len(y), dtype=bool)
                if not test.any():
                    continue
                w, b = _fit_lr(x[~test], y[~test], c)
                probs[test] = 1.0 / (1.0 + np.exp(-(x[test] @ np.array(w) + b)))
            best = _best(examples, probs, owner)
            results[set_name, c] = (sum(r for _, r in best) / max(1, len(best)), best, cols)
    # The best out-of-fold accuracy; on a tie the first feature set and the strongest regularisation.
    order = list(results)
    set_name, c = max(order, key=lambda key: (round(results[key][0], 6), -order.index(key)))
    oof_accuracy, best, cols = results[set_name, c]
    threshold = _threshold(best, wrong_cost)
    kept = [r for p, r in best if p >= threshold]
    w, b = _fit_lr(x_all[:, cols], y, c)
    n = max(1, len(best))
    summary = {
        "features": set_name,
        "C": c,
        "wrong_cost": wrong_cost,
        "claims": len(examples),
        "articles": len(arts),
        "candidates_per_claim": round(len(y) / n, 2),
        "oracle": round(sum(any(_same(cd.speaker, ex.gold) for cd in ex.candidates) for ex in examples) / n, 4),
        "rules_oof_accuracy": round(sum(_same(ex.rule.get("speaker"), ex.gold) for ex in examples) / n, 4),
        "oof_accuracy_by_setting": {f"{s} C={ci}": round(v[0], 4) for (s, ci), v in results.items()},
        "oof_accuracy": round(oof_accuracy, 4),
        "oof_accuracy_with_threshold": round(sum(kept) / n, 4),
        "oof_coverage": round(len(kept) / n, 4),
        "oof_precision": round(sum(kept) / max(1, len(kept)), 4),
    }
    return SpeakerRanker([every[i] for i in cols], w, b, round(threshold, 4), {**(info or {}), **summary})


def train_ranker(
    records: Sequence[dict],
    articles: dict[str, list[dict]],
    *,
    folds: int = FOLDS,
    seed: int = 0,
    wrong_cost: float = WRONG_COST,
    c_grid: Sequence[float] = C_GRID,
    info: dict | None = None,
    **options,
) -> SpeakerRanker:
    """Out-of-fold candidates for the labelled claims of ``records``, then :func:`fit_ranker` on them."""
    examples = candidate_examples(records, articles, folds=folds, seed=seed, **options)
    return fit_ranker(examples, c_grid=c_grid, folds=folds, seed=seed, wrong_cost=wrong_cost, info=info)


def train_from_files(
    files: Sequence[str | Path],
    *,
    context_paths: Sequence[str | Path] | None = None,
    with_yardstick: bool = False,
    folds: int = FOLDS,
    seed: int = 0,
    wrong_cost: float = WRONG_COST,
) -> SpeakerRanker:
    """The ranker trained on labelled files read in their articles (``python -m vistance.speakers train-ranker``).

    The full-text files (``*-fulltext``) are the yardstick and stay out unless ``with_yardstick``; context
    sources default to those of ``python -m vistance.speakers evaluate``.
    """
    from ..errors import DataError
    from .evaluation import DEFAULT_CONTEXT, build_articles, load_context, load_labelled, split_heldout

    records = load_labelled(files)
    older, new = split_heldout(records)
    train = list(records) if with_yardstick or not older else older
    if not any(r["claim"] == "claim" and r.get("speaker") for r in train):
        raise DataError("no labelled claim with a speaker to train the ranker on in " + ", ".join(map(str, files)))
    if context_paths is None:
        context_paths = [p for p in DEFAULT_CONTEXT if p.exists()]
    articles = build_articles(train, load_context(context_paths))
    info = {
        "trained_on": sorted({r["source"] for r in train}),
        "context": sorted(Path(p).name for p in context_paths),
        "seed": seed,
        "command": RETRAIN + (" --with-yardstick" if with_yardstick else ""),
    }
    return train_ranker(train, articles, folds=folds, seed=seed, wrong_cost=wrong_cost, info=info)
