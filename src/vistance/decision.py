"""The decision a checkpoint ships: calibrated probabilities and a claim threshold chosen on data.

A class-balanced 4-way model spreads its mass over three claim classes, so the claim side of
``1 - p(not_claim) >= 0.5`` wins by default: on 2026 news the e5-small-frozen model called 35 of 36
outlet-narration sentences claims. Two fixes, both fitted on the development split after training
(never on test) and saved in ``vistance.json`` so that every consumer replays them:

* **temperature scaling** (Guo et al., 2017): one scalar ``T`` divides the log-probabilities, chosen to
  minimise the negative log-likelihood of the dev labels. It changes no argmax, only how much a
  probability means, so ``claim_score`` can be read as a probability;
* **the claim threshold**: the cut on the calibrated ``claim_score`` that maximises the joint macro-F1
  of the decision users get (:func:`vistance.tasks.decide`) on dev. Ties go to the threshold nearest
  0.5, and the search grid is coarse (0.05 steps), so a dev set of a few hundred sentences cannot
  place it on a single lucky sentence.

Old checkpoints without a ``decision`` load as ``Decision()``: temperature 1 and threshold 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

DEFAULT_CLAIM_THRESHOLD = 0.5
STRUCTURAL_KINDS = ("heading", "caption", "title")
"""Sentence kinds that are never claims (guideline §1.1 and R19: the outlet's headline, sub-headings and
photo captions summarise; the body sentence that carries the same content is the claim). Where the
article parser or the corpus record says a sentence is one of these, the decision is not_claim whatever
the model's score; a bare sentence without a kind is left to the model."""


def is_structural(item: dict | None) -> bool:
    """True for a heading, caption or title line (by ``kind``, or the corpus ``part`` == title)."""
    return bool(item) and (item.get("kind") in STRUCTURAL_KINDS or item.get("part") == "title")


THRESHOLD_GRID = tuple(round(t, 2) for t in np.arange(0.05, 0.951, 0.05))
"""Candidate claim thresholds. Coarse on purpose: a finer grid overfits a small dev split."""
MIN_DEV_FOR_THRESHOLD = 30
"""Below this many dev sentences the threshold stays at 0.5 (too few to choose one)."""


def _log(probs: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probs, 1e-12, 1.0))


def apply_temperature(probs, temperature: float) -> np.ndarray:
    """``softmax(log(probs) / T)``, row-wise; T = 1 returns ``probs`` unchanged."""
    probs = np.asarray(probs, dtype=np.float64)
    if temperature == 1.0 or probs.size == 0:
        return probs
    z = _log(probs) / temperature
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(probs, gold_idx: Sequence[int]) -> float:
    """The T in [0.05, 20] that minimises the dev negative log-likelihood of ``softmax(log p / T)``."""
    from scipy.optimize import minimize_scalar

    logp = _log(np.asarray(probs, dtype=np.float64))
    gold_idx = np.asarray(gold_idx)

    def nll(log_t: float) -> float:
        z = logp / np.exp(log_t)
        z -= z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(lse - z[np.arange(len(z)), gold_idx]))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


@dataclass
class Decision:
    """Saved in ``vistance.json`` (``decision``): how probabilities become the labels users get."""

    temperature: float = 1.0
    """Divides the model's log-probabilities (1: uncalibrated)."""
    claim_threshold: float = DEFAULT_CLAIM_THRESHOLD
    """A sentence is a claim iff its calibrated ``claim_score = 1 - p(not_claim) >= claim_threshold``."""
    fitted_on: dict = field(default_factory=dict)
    """Where and how it was chosen: split, n, dev NLL and macro-F1 before / after."""

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"decision.temperature must be > 0, not {self.temperature}")
        if not 0.0 <= self.claim_threshold <= 1.0:
            raise ValueError(f"decision.claim_threshold must be in [0, 1], not {self.claim_threshold}")

    def calibrate(self, probs) -> np.ndarray:
        return apply_temperature(probs, self.temperature)

    def labels(self, calibrated_probs, task, items: Sequence[dict] | None = None) -> list[str]:
        """The decision on probabilities that were already calibrated (what predictors return); ``items``
        (the sentences' records, in order) make headings and captions not_claim (:func:`is_structural`)."""
        from .tasks import NOT_CLAIM, decide

        out = decide(calibrated_probs, task, self.claim_threshold)
        if items is not None and task.detects_claims:
            out = [NOT_CLAIM if is_structural(it) else lab for lab, it in zip(out, items)]
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> Decision:
        if not d:
            return cls()
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    @classmethod
    def fit(
        cls,
        probs,
        gold: Sequence[str],
        task,
        *,
        calibrate: bool = True,
        tune_threshold: bool = True,
        split: str = "dev",
        items: Sequence[dict] | None = None,
    ) -> Decision:
        """Temperature, then the threshold that maximises joint macro-F1, on (dev) ``probs`` and ``gold``."""
        from .metrics import classification_metrics

        labels = list(task.labels)
        probs = np.asarray(probs, dtype=np.float64)
        gold = list(gold)
        n = len(gold)
        info: dict = {"split": split, "n": n}
        if n == 0:
            return cls(fitted_on=info)
        gold_idx = [labels.index(g) for g in gold]
        temperature = fit_temperature(probs, gold_idx) if calibrate and n >= 2 else 1.0
        cal = apply_temperature(probs, temperature)

        def macro(t: float) -> float:
            return classification_metrics(gold, cls(claim_threshold=t).labels(cal, task, items), labels)["macro_f1"]

        threshold = DEFAULT_CLAIM_THRESHOLD
        info["macro_f1_at_0.5"] = round(macro(DEFAULT_CLAIM_THRESHOLD), 4)
        if tune_threshold and task.detects_claims and task.has_stance and n >= MIN_DEV_FOR_THRESHOLD:
            scores = {t: macro(t) for t in THRESHOLD_GRID}
            best = max(scores.values())
            threshold = min((t for t, s in scores.items() if s >= best - 1e-9), key=lambda t: (abs(t - 0.5), t))
        info["macro_f1"] = round(macro(threshold), 4)
        nll = lambda p: float(-np.mean(_log(p)[np.arange(n), gold_idx]))  # noqa: E731
        info["nll_before"], info["nll_after"] = round(nll(probs), 4), round(nll(cal), 4)
        return cls(temperature=round(temperature, 4), claim_threshold=float(threshold), fitted_on=info)
