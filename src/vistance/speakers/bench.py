"""How long attribution takes: milliseconds per 1,000 sentences, read in their articles and alone.

``python -m vistance.speakers bench`` reads the article sentences of the context sources (by default the
repository's ``data/raw`` and the shared pools where present), fits the alias table on the labelled files, and
times :meth:`SpeakerAttributor.attribute` over them, best of ``repeat`` runs (fitting, which also builds the
lexicon tables and loads underthesea's word list once per process, is timed apart). It prints figures only:
batch scoring adds this to the model's time per sentence.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from .attributor import SpeakerAttributor
from .evaluation import DEFAULT_CONTEXT, ROOT, load_context, load_labelled


def bench(
    context_paths: Sequence[str | Path] | None = None,
    *,
    limit: int = 5000,
    repeat: int = 3,
    labelled: Sequence[str | Path] | None = None,
    attributor: str = "rules",
) -> dict:
    """``{"sentences", "articles", "attributor", "fit_s", "context_ms_per_1000", "sentence_ms_per_1000"}``;
    ``attributor`` learned times the packaged ranker over the rules' candidates (its loading counts in fit_s)."""
    ranker = SpeakerAttributor().with_attributor(attributor).ranker  # a missing ranker stops before any work
    if context_paths is None:
        context_paths = [p for p in DEFAULT_CONTEXT if p.exists()]
    rows = sorted(load_context(context_paths).values(), key=lambda r: (str(r.get("article")), r.get("position") or 0))
    sents = [
        {
            "text": r["text"],
            "article": r.get("article"),
            "position": r.get("position"),
            "kind": r.get("kind"),
            "paragraph": r.get("paragraph"),
            "date": r.get("date"),
        }
        for r in rows[:limit]
    ]
    files = labelled if labelled is not None else sorted((ROOT / "data" / "annotated").glob("*.jsonl"))
    t0 = time.perf_counter()
    model = SpeakerAttributor.fit(load_labelled(files)) if files else SpeakerAttributor()
    model.ranker = ranker
    model = model.with_attributor(attributor)
    model.attribute(sents[:1], context=False)
    fit_s = time.perf_counter() - t0
    out = {
        "sentences": len(sents),
        "articles": len({s["article"] for s in sents}),
        "attributor": attributor,
        "fit_s": round(fit_s, 3),
    }
    for key, context in (("context_ms_per_1000", True), ("sentence_ms_per_1000", False)):
        best = float("inf")
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            model.attribute(sents, context=context)
            best = min(best, time.perf_counter() - t0)
        out[key] = round(1000 * best / max(1, len(sents)) * 1000, 1)
    return out


def format_bench(r: dict) -> str:
    return (
        f"{r['sentences']} sentences of {r['articles']} articles, {r.get('attributor', 'rules')} attributor; "
        f"fit and start-up {r['fit_s']:.2f} s\n"
        f"with article context: {r['context_ms_per_1000']:,.0f} ms per 1,000 sentences\n"
        f"sentence alone:       {r['sentence_ms_per_1000']:,.0f} ms per 1,000 sentences"
    )
