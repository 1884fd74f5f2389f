"""Classification metrics shared by training (dev selection), evaluation and reports.

``classification_metrics`` is the plain-Python core; the ``evaluate`` module that wraps it for
``evaluate.load`` lives in ``stance_metric/`` (hub metrics cannot load offline).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

STANCE_POLES = ("favor", "against")


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
