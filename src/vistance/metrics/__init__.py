"""Classification metrics shared by training (dev selection), evaluation and reports.

``classification_metrics`` is the plain-Python core; the ``evaluate`` module that wraps it for
``evaluate.load`` lives in ``stance_metric/`` (hub metrics cannot load offline). Every interval (bootstrap over
sentences or articles, Wilson) is in :mod:`.intervals`.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

STANCE_POLES = ("favor", "against")
HEADLINE_METRICS = ("accuracy", "macro_f1", "f_avg", "claim_f1")
"""The scores summarised across folds and printed on the terminal."""


def classification_metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1/support, and the stance-specific scores.

    * ``f_avg``: SemEval-2016 Task 6 score, mean F1 of favor and against (when both labels exist).
    * ``claim_f1``: F1 of claim-vs-not_claim after collapsing every stance label into "claim"
      (joint task) or of the "claim" label (claim task).
    """
    labels = list(labels)
    y_true, y_pred = list(y_true), list(y_pred)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)) if y_true else 0.0,
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "n": len(y_true),
    }
    if all(pole in labels for pole in STANCE_POLES):
        out["f_avg"] = float(np.mean([out["per_class"][pole]["f1"] for pole in STANCE_POLES]))
    if "not_claim" in labels:
        yt = ["not_claim" if y == "not_claim" else "claim" for y in y_true]
        yp = ["not_claim" if y == "not_claim" else "claim" for y in y_pred]
        out["claim_f1"] = float(f1_score(yt, yp, pos_label="claim", average="binary", zero_division=0))
    return out


# --------------------------------------------------------------------------- confusion, resampled scores, calibration
# Vectorised numpy, so that 1000 resamples of a few thousand sentences take well under a second; the bootstrap
# intervals built on resampled_scores live in :mod:`.intervals`.


def fold_mean_std(fold_scores: Sequence[dict], keys: Sequence[str] = HEADLINE_METRICS) -> dict:
    """``{"mean": {...}, "std": {...}}`` over folds for every key all folds report (population std, ddof=0)."""
    keys = [k for k in keys if fold_scores and all(k in f for f in fold_scores)]
    return {
        "mean": {k: float(np.mean([f[k] for f in fold_scores])) for k in keys},
        "std": {k: float(np.std([f[k] for f in fold_scores])) for k in keys},
    }


def confusion(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """Confusion matrix as nested lists: rows are gold labels, columns predictions, both in ``labels`` order."""
    t, p = encode(y_true, labels), encode(y_pred, labels)
    k = len(labels)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).tolist()


def encode(values: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Label names -> indices into ``labels``; a name outside ``labels`` is an error, not a silent miss."""
    index = {lab: i for i, lab in enumerate(labels)}
    try:
        return np.array([index[v] for v in values], dtype=np.int64)
    except KeyError as e:
        raise ValueError(f"label {e.args[0]!r} is not one of {', '.join(labels)}") from None


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    # 2tp / (2tp + fp + fn) equals sklearn's F1 with zero_division=0, including labels never seen.
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros(denom.shape, dtype=float), where=denom > 0)


def resampled_scores(t: np.ndarray, p: np.ndarray, labels: Sequence[str], idx: np.ndarray) -> dict[str, np.ndarray]:
    """accuracy, macro_f1 (and f_avg, claim_f1 when defined) of each row of resample indices ``idx``.

    ``t``/``p`` are encoded gold/predicted labels; ``idx`` has shape (B, n). ``idx = arange(n)[None]``
    gives the point estimate, identical to :func:`classification_metrics`.
    """
    labels = list(labels)
    k, b = len(labels), idx.shape[0]
    ts, ps = t[idx], p[idx]
    rows = np.arange(b)[:, None] * k
    hit = (ts == ps).astype(float)
    tp = np.bincount((rows + ts).ravel(), weights=hit.ravel(), minlength=b * k).reshape(b, k)
    n_true = np.bincount((rows + ts).ravel(), minlength=b * k).reshape(b, k)
    n_pred = np.bincount((rows + ps).ravel(), minlength=b * k).reshape(b, k)
    f1 = _f1(tp, n_pred - tp, n_true - tp)
    out = {
        "accuracy": hit.mean(axis=1) if idx.shape[1] else np.zeros(b),
        "macro_f1": f1.mean(axis=1),
    }
    if all(pole in labels for pole in STANCE_POLES):
        out["f_avg"] = f1[:, [labels.index(pole) for pole in STANCE_POLES]].mean(axis=1)
    if "not_claim" in labels:
        nc = labels.index("not_claim")
        tc, pc = ts != nc, ps != nc
        ctp = (tc & pc).sum(axis=1)
        out["claim_f1"] = _f1(ctp, pc.sum(axis=1) - ctp, tc.sum(axis=1) - ctp)
    return out


def calibration(probs: np.ndarray, y_true_idx: Sequence[int], n_bins: int = 10) -> dict:
    """Expected calibration error of the top-label confidence, with the bins of a reliability diagram.

    Confidence = the highest probability of a row; bins are equal-width and right-closed
    ((0, 0.1], (0.1, 0.2], ...). ECE = sum over bins of (bin size / n) * |accuracy - mean confidence|.
    """
    probs = np.asarray(probs, dtype=float)
    t = np.asarray(y_true_idx, dtype=np.int64)
    n = len(t)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = []
    if n == 0:
        return {"ece": None, "n_bins": n_bins, "bins": bins}
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == t).astype(float)
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = which == b
        count = int(mask.sum())
        acc = float(correct[mask].mean()) if count else None
        mean_conf = float(conf[mask].mean()) if count else None
        if count:
            ece += count / n * abs(acc - mean_conf)
        bins.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": count,
                "accuracy": acc,
                "confidence": mean_conf,
            }
        )
    return {"ece": float(ece), "n_bins": n_bins, "bins": bins}


# --------------------------------------------------------------------------- the evaluate module

STANCE_METRIC_DIR = Path(__file__).resolve().parent / "stance_metric"
"""Folder of the local ``evaluate`` module (``evaluate.load(str(STANCE_METRIC_DIR))`` works offline)."""


def import_evaluate_library():
    """The Hugging Face ``evaluate`` library, even where the repository's ``evaluate.py`` script shadows it.

    ``python -m pytest`` or ``python -c`` from the repository root put the root on ``sys.path``,
    and a plain ``import evaluate`` would then import our command-line script instead.
    """
    mod = sys.modules.get("evaluate")
    if mod is not None and hasattr(mod, "load"):
        return mod
    sys.modules.pop("evaluate", None)
    saved = sys.path[:]
    sys.path[:] = [p for p in saved if not (Path(p or ".") / "evaluate.py").is_file()]
    try:
        return importlib.import_module("evaluate")
    finally:
        sys.path[:] = saved


@functools.lru_cache(maxsize=1)
def load_stance_metric():
    """``evaluate.load`` of the packaged stance metric, in memory (no cache files), once per process."""
    evaluate = import_evaluate_library()
    return evaluate.load(str(STANCE_METRIC_DIR), keep_in_memory=True)
