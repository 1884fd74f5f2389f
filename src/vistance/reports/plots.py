"""The plots every report shares (confusion matrix, per-class scores, reliability diagram), as PNG bytes.

Figures use matplotlib's object-oriented API (no pyplot global state, no GUI backend), so a report can be
drawn from any thread or process.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from .format import fmt


def figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def plot_confusion(cm: Sequence[Sequence[int]], labels: Sequence[str], title: str = "Confusion matrix") -> bytes:
    """Counts in each cell; colour = share of the gold row (recall), so rare classes stay readable."""
    cm = np.asarray(cm, dtype=float)
    k = len(labels)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    size = 1.4 + 0.75 * k
    fig = Figure(figsize=(size + 1.0, size))
    ax = fig.subplots()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                f"{int(cm[i, j])}\n{share[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if share[i, j] > 0.55 else "#1f2328",
            )
    ax.set_xticks(range(k), labels, rotation=30, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=11)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of gold row")
    return figure_png(fig)


def plot_per_class(per_class: dict, title: str = "Per-class scores") -> bytes:
    labels = list(per_class)
    x = np.arange(len(labels))
    fig = Figure(figsize=(max(4.8, 1.3 * len(labels) + 1.5), 3.6))
    ax = fig.subplots()
    for off, key, colour in ((-0.27, "precision", "#9ecae1"), (0.0, "recall", "#4292c6"), (0.27, "f1", "#08519c")):
        vals = [per_class[lab][key] for lab in labels]
        bars = ax.bar(x + off, vals, width=0.26, label=key if key != "f1" else "F1", color=colour)
        if key == "f1":
            ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    ax.set_xticks(x, [f"{lab}\n(n={per_class[lab]['support']})" for lab in labels])
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("score")
    ax.set_title(title, fontsize=11)
    ax.legend(loc="upper center", ncols=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.2))
    ax.spines[["top", "right"]].set_visible(False)
    return figure_png(fig)


def plot_reliability(cal: dict, title: str = "Reliability diagram") -> bytes:
    """Accuracy per confidence bin against the diagonal (perfect calibration); counts below.

    The red hatched part of a bar is the gap between the bin's accuracy and its mean confidence:
    above the blue bar = over-confident, inside it = under-confident.
    """
    bins = cal["bins"]
    width = 1.0 / max(cal["n_bins"], 1)
    centres = np.array([(b["low"] + b["high"]) / 2 for b in bins])
    filled = np.array([b["count"] > 0 for b in bins])
    acc = np.array([b["accuracy"] if b["count"] else 0.0 for b in bins])
    conf = np.array([b["confidence"] if b["count"] else 0.0 for b in bins])
    counts = np.array([b["count"] for b in bins])
    fig = Figure(figsize=(4.6, 4.6))
    ax, axc = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.08})
    ax.plot([0, 1], [0, 1], ls="--", color="#59636e", lw=1, label="perfect calibration", zorder=3)
    ax.bar(centres[filled], acc[filled], width=width * 0.92, color="#4292c6", edgecolor="#08519c", label="accuracy")
    lo, hi = np.minimum(acc, conf)[filled], np.maximum(acc, conf)[filled]
    ax.bar(
        centres[filled],
        hi - lo,
        bottom=lo,
        width=width * 0.92,
        fill=False,
        edgecolor="#cf222e",
        hatch="///",
        lw=1.2,
        label="gap to mean confidence",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title} (ECE = {fmt(cal.get('ece'))})", fontsize=11)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    axc.bar(centres, counts, width=width * 0.92, color="#8c959f")
    axc.set_ylabel("n", fontsize=9)
    axc.set_xlabel("confidence (top-label probability)")
    for a in (ax, axc):
        a.spines[["top", "right"]].set_visible(False)
    return figure_png(fig)
