"""Annotations back into corpus records, written only once the corpus validator accepts them.

Both tool formats reduce to :class:`Annotated`: the task's meta fields (what the export put in)
plus the three human decisions. :func:`write_corpus` turns them into ``{id, article, date, text,
claim, stance, speaker}`` lines, runs :func:`vistance.data.validate_files` on the result, and
reports every problem at its place in the *tool's* export file, because that is where the
annotator has to fix it.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..data import OPTIONAL_KEYS, atomic_write_text, validate_files, write_jsonl

LABEL_KEYS = ("claim", "stance", "speaker")
"""The fields an annotator decides; exports never carry them as task data."""


@dataclass
class Annotated:
    where: str
    """``file:line`` (doccano) or ``file: task #ID`` (Label Studio's task id; ``task N``, the N-th
    task in the file, where a task has no id) of this item in the export."""
    meta: dict
    """The task's data/meta fields, as exported (id, article, date, text, kind, position, ...)."""
    claim: str | None = None
    stance: str | None = None
    speaker: str | None = None
    problems: list[str] = field(default_factory=list)
    """Problems found while reading the tool's format (conflicting labels, ...)."""


@dataclass
class ImportResult:
    records: list[dict]
    errors: list[str]
    skipped: int
    """Tasks without a usable annotation (unlabelled, skipped or cancelled): reported, never written."""


def _article_of(rid: str) -> str:
    # Sentence ids are "<article>-<NN>" everywhere in the project (articles.py, read_pool_csv).
    return rid.rsplit("-", 1)[0] if "-" in rid else rid


def to_record(item: Annotated, batch: str | None = None) -> dict:
    """The corpus record of one annotated item (key order as in the corpus files)."""
    meta = item.meta
    rid = meta.get("id")
    rid = str(rid) if rid not in (None, "") else None
    text = meta.get("text")
    if isinstance(text, str):
        text = unicodedata.normalize("NFC", text)
    speaker = " ".join(item.speaker.split()) if item.speaker else None
    claim = item.claim
    stance = item.stance
    if claim == "not_claim":
        # Label Studio hides stance and speaker once not_claim is chosen, but keeps what was typed
        # before the annotator changed their mind; hidden values are not decisions.
        stance, speaker = None, None
    rec = {
        "id": rid,
        "article": str(meta.get("article") or (_article_of(rid) if rid else "")) or None,
        "date": meta.get("date") or None,
        "text": text,
        "claim": claim,
        "stance": stance,
        "speaker": speaker or None,
    }
    for k in OPTIONAL_KEYS:
        if meta.get(k) not in (None, ""):
            rec[k] = meta[k]
    if batch:
        rec["batch"] = batch
    return rec


WRITE_MODES = ("new", "append", "overwrite")


def write_corpus(
    items: Sequence[Annotated],
    out: str | Path,
    skipped: int = 0,
    batch: str | None = None,
    against: Sequence[str | Path] = (),
    mode: str = "new",
) -> ImportResult:
    """Validate the records of ``items`` and write them to ``out`` only if every one is valid.

    ``mode``: ``new`` refuses an existing ``out`` (a second round must not wipe the first),
    ``append`` adds to it (validated together, so an id cannot be labelled twice), ``overwrite``
    replaces it. ``against``: other labelled files the new records must not reuse ids of. Errors
    name the place in the tool's export (``where``); on failure ``out`` is left untouched, and
    nothing is written when there is nothing to import.
    """
    if mode not in WRITE_MODES:
        raise ValueError(f"mode must be one of {', '.join(WRITE_MODES)}, not {mode!r}")
    out = Path(out)
    if out.exists() and mode == "new":
        raise FileExistsError(f"{out} exists: append to it (--append) or replace it (--overwrite)")
    records = [to_record(it, batch) for it in items]
    errors = [p for it in items for p in it.problems]
    others = [Path(p) for p in against if not (out.exists() and Path(p).resolve() == out.resolve())]
    if mode == "append" and out.exists():
        others.append(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside ``out`` so the final rename is atomic and a failed import leaves no half file.
    fd, tmp = tempfile.mkstemp(suffix=".jsonl", prefix=f".{out.stem}.", dir=out.parent)
    os.close(fd)
    try:
        write_jsonl(tmp, records)
        _, problems = validate_files([*others, tmp], allow_empty=True)
        for p in problems:
            if p.startswith(f"{tmp}:"):
                line, _, msg = p[len(tmp) + 1 :].partition(":")
                item = items[int(line) - 1] if line.isdigit() else None
                p = f"{item.where}:{msg}" if item else p.replace(tmp, str(out))
            errors.append(p)
        if errors or not records:
            return ImportResult(records=[], errors=errors, skipped=skipped)
        new = Path(tmp).read_text(encoding="utf-8")
        if mode == "append" and out.exists():
            old = out.read_text(encoding="utf-8")
            new = old + ("\n" if old and not old.endswith("\n") else "") + new
        atomic_write_text(out, new)  # fsynced and renamed: a full disk or a kill leaves the old file whole
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return ImportResult(records=records, errors=[], skipped=skipped)


def export_meta(sentence: dict, hidden: Sequence[str] = ()) -> dict:
    """A sentence's fields as task data/meta: labels and ``hidden`` fields left out."""
    return {k: v for k, v in sentence.items() if k not in LABEL_KEYS and k not in hidden}
