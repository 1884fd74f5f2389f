"""doccano (text classification project): JSONL out, JSONL export back in.

Convention, since doccano has one flat label set per project and no per-control structure:

* create the labels ``claim``, ``not_claim``, ``favor``, ``against``, ``neutral``;
* a sentence gets ``not_claim``, or one stance label (``claim`` alongside it is optional: a
  stance implies a claim); two claim labels or two stance labels are an error;
* the speaker goes in a comment starting with ``speaker:`` (``speaker: Vladimir Putin``);
* every other field of a line (``id``, ``article``, ``date``, ...) is doccano meta data, which
  its export writes back at the top level: that is how an annotation finds its sentence.

With a model, its guess goes into the meta field ``model_guess`` (shown beside the text), never
into ``label``: a label that nobody chose would be indistinguishable from a human one on export.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..data import iter_jsonl
from ..tasks import CLAIM_LABELS
from .records import Annotated

LABELS = ("claim", "not_claim", "favor", "against", "neutral")
SPEAKER_PREFIX = "speaker:"
_NOT_META = ("label", "labels", "Comments", "comments", "meta")


def guess_text(guess: dict) -> str:
    """A model guess as one short string, e.g. ``claim/favor (0.71)``."""
    if guess.get("claim") == "claim" and guess.get("stance"):
        p = guess["claim_score"] * (guess.get("stance_scores") or {}).get(guess["stance"], 1.0)
        return f"claim/{guess['stance']} ({p:.2f})"
    p = guess.get("claim_score")
    if guess.get("claim") == "not_claim" and p is not None:
        p = 1.0 - p
    return f"{guess.get('claim')}" + (f" ({p:.2f})" if p is not None else "")


def make_lines(sentences: Sequence[dict], guesses: Sequence[dict] | None = None) -> list[dict]:
    """doccano JSONL rows: ``{"text", "id", "label": [], ...meta}``."""
    rows = []
    for i, s in enumerate(sentences):
        row = {"text": s["text"], "id": s["id"], "label": []}
        row.update({k: v for k, v in s.items() if k not in row})
        if guesses is not None:
            row["model_guess"] = guess_text(guesses[i])
        rows.append(row)
    return rows


def _labels(obj: dict) -> list[str]:
    raw = obj.get("label", obj.get("labels")) or []
    if isinstance(raw, str):  # doccano's CSV-style "a#b"
        raw = raw.split("#")
    return [str(x).strip() for x in raw if str(x).strip()]


def _speaker(obj: dict) -> str | None:
    for c in obj.get("Comments") or obj.get("comments") or []:
        text = c.get("text", "") if isinstance(c, dict) else str(c)
        if text.strip().lower().startswith(SPEAKER_PREFIX):
            return text.strip()[len(SPEAKER_PREFIX) :].strip() or None
    return None


def read_line(obj: dict, where: str) -> Annotated | None:
    """One export line as an annotated item; None when it has no label (not annotated)."""
    labels = _labels(obj)
    if not labels:
        return None
    meta = {k: v for k, v in obj.items() if k not in _NOT_META}
    if isinstance(obj.get("meta"), dict):  # doccano < 1.6 nested meta
        meta.update(obj["meta"])
    if "text" not in meta and "data" in meta:
        meta["text"] = meta.pop("data")
    item = Annotated(where=where, meta=meta, speaker=_speaker(obj))
    claims = sorted({x for x in labels if x in CLAIM_LABELS})
    stances = sorted({x for x in labels if x not in CLAIM_LABELS})
    if len(claims) > 1 or len(stances) > 1:
        item.problems.append(f"{where}: conflicting labels {labels} (one of not_claim / favor / against / neutral)")
    if "not_claim" in claims and stances:
        item.problems.append(f"{where}: stance label {stances[0]!r} on a not_claim sentence")
    item.claim = claims[0] if claims else "claim"
    item.stance = stances[0] if stances else None
    return item


def read_export(path: str | Path) -> tuple[list[Annotated], int]:
    """(annotated items, number of unlabelled lines skipped) from a doccano JSONL export."""
    items, skipped = [], 0
    for n, obj in iter_jsonl(path):
        item = read_line(obj, f"{path}:{n}")
        if item is None:
            skipped += 1
        else:
            items.append(item)
    return items, skipped
