"""Plot joint macro-F1 with 95 % bootstrap intervals of runs on the out-of-domain splits (docs/results.md).

    python scripts/plot_yardstick.py --out data/figures/ood-yardstick.png \\
        --panel "temporal: Nov-Dec 2025 news" runs/ood/baseline-temporal=baseline ... \\
        --panel "source: full-text 2024 articles" runs/ood/baseline-source=baseline ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from matplotlib.figure import Figure

from vistance.metrics import classification_metrics
from vistance.metrics.intervals import bootstrap_ci
from vistance.tasks import JOINT


def score(run: Path) -> tuple[float, float, float]:
    rows = [json.loads(line) for line in (run / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    gold, pred = [r["gold"] for r in rows], [r["pred"] for r in rows]
    ci = bootstrap_ci(gold, pred, list(JOINT.labels))["macro_f1"]
    return classification_metrics(gold, pred, list(JOINT.labels))["macro_f1"], ci["low"], ci["high"]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--panel", action="append", nargs="+", metavar="TITLE RUN=LABEL", required=True)
    args = p.parse_args(argv)
    fig = Figure(figsize=(6.4 * len(args.panel), 0.45 * max(len(x) for x in args.panel) + 1.4))
    axes = fig.subplots(1, len(args.panel), squeeze=False)[0]
    for ax, (title, *items) in zip(axes, args.panel):
        labels, vals, lows, highs = [], [], [], []
        for item in items:
            run, label = item.split("=", 1)
            v, lo, hi = score(Path(run))
            labels.append(label), vals.append(v), lows.append(v - lo), highs.append(hi - v)
        y = range(len(labels))
        ax.barh(list(y), vals, xerr=[lows, highs], color="#4292c6", edgecolor="#08519c", capsize=3)
        for i, v in enumerate(vals):
            ax.text(0.01, i, f"{v:.3f}", va="center", color="white", fontsize=9, fontweight="bold")
        ax.set_yticks(list(y), labels)
        ax.invert_yaxis()
        ax.set_xlim(0, 0.8)
        ax.set_xlabel("joint macro-F1 (95 % bootstrap interval)")
        ax.set_title(title, fontsize=11)
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
