"""Inter-annotator agreement: Cohen's kappa of two label sets over the sentences they share.

    python -m vistance.annotate agreement data/annotated/news-2024-fulltext.jsonl ... \\
        --second data/annotated/agreement/f1-blind.jsonl [--by source]

The second set comes from an annotator who saw only the guideline and the sentences with their
neighbours, never the first labels. Kappa is reported for the joint label (not_claim / favor /
against / neutral), for claim vs not_claim, and for stance on the sentences both call a claim, each
with a 95 % percentile bootstrap interval (sentences resampled, fixed seed), plus exact speaker
agreement on shared claims and the list of disagreements to adjudicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..data import load_corpus
from ..tasks import JOINT


def _kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if len(a) < 2 or len(set(a) | set(b)) < 2:
        return None
    return float(cohen_kappa_score(a, b))


def kappa_ci(a: Sequence[str], b: Sequence[str], n_resamples: int = 1000, seed: int = 0) -> dict:
    """Kappa with a 95 % percentile bootstrap interval."""
    a, b = list(a), list(b)
    est = _kappa(a, b)
    if est is None:
        return {"kappa": None, "low": None, "high": None, "n": len(a)}
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n_resamples):
        idx = rng.integers(0, len(a), len(a))
        k = _kappa([a[i] for i in idx], [b[i] for i in idx])
        if k is not None and not np.isnan(k):
            vals.append(k)
    low, high = np.percentile(vals, [2.5, 97.5]) if vals else (None, None)
    return {
        "kappa": round(est, 3),
        "low": None if low is None else round(float(low), 3),
        "high": None if high is None else round(float(high), 3),
        "n": len(a),
    }


def agreement(first: Sequence[dict], second: Sequence[dict]) -> dict:
    """Kappas (joint, claim, stance on shared claims), speaker agreement and disagreements of two label sets."""
    by_id = {r["id"]: r for r in first}
    pairs = [(by_id[r["id"]], r) for r in second if r["id"] in by_id]
    joint_a = [JOINT.label_of(a) for a, _ in pairs]
    joint_b = [JOINT.label_of(b) for _, b in pairs]
    both = [(a, b) for a, b in pairs if a["claim"] == b["claim"] == "claim"]
    speakers = [(a.get("speaker") or "").casefold() == (b.get("speaker") or "").casefold() for a, b in both]
    return {
        "n": len(pairs),
        "joint": kappa_ci(joint_a, joint_b),
        "claim": kappa_ci([a["claim"] for a, _ in pairs], [b["claim"] for _, b in pairs]),
        "stance": kappa_ci([a["stance"] for a, _ in both], [b["stance"] for _, b in both]),
        "raw_agreement": round(float(np.mean([x == y for x, y in zip(joint_a, joint_b)])), 3) if pairs else None,
        "speaker_exact": {"agree": int(sum(speakers)), "of": len(speakers)},
        "disagreements": [
            {
                "id": a["id"],
                "text": a["text"],
                "first": JOINT.label_of(a),
                "second": JOINT.label_of(b),
                "first_speaker": a.get("speaker"),
                "second_speaker": b.get("speaker"),
            }
            for a, b in pairs
            if JOINT.label_of(a) != JOINT.label_of(b)
        ],
    }


def agreement_by(first_files: Sequence[str | Path], second: str | Path) -> dict[str, dict]:
    """:func:`agreement` per first file (its stem), and over all of them (``all``)."""
    second_records = load_corpus(second)
    out = {}
    all_first = []
    for f in first_files:
        recs = load_corpus(f)
        all_first += recs
        ids = {r["id"] for r in recs}
        if any(r["id"] in ids for r in second_records):
            out[Path(f).stem] = agreement(recs, second_records)
    out["all"] = agreement(all_first, second_records)
    return out


def markdown(results: dict[str, dict]) -> str:
    def k(d):
        return "—" if d["kappa"] is None else f"{d['kappa']:.3f} [{d['low']:.3f}, {d['high']:.3f}]"

    lines = [
        "| source | n | joint κ | claim κ | stance κ (shared claims) | raw | speaker exact |",
        "|---|---:|---|---|---|---:|---|",
    ]
    for name, r in results.items():
        s = r["speaker_exact"]
        lines.append(
            f"| {name} | {r['n']} | {k(r['joint'])} | {k(r['claim'])} | {k(r['stance'])} "
            f"| {r['raw_agreement']:.3f} | {s['agree']}/{s['of']} |"
        )
    return "\n".join(lines)
