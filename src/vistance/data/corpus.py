"""The labelled corpus: its format and validation.

One JSON object per line with the keys ``id, article, date, text, claim, stance, speaker``
(``data/GUIDELINES.md`` defines the labels). A few optional keys (``kind``, ``position``, ``batch``,
``note``) may ride along; anything else is a typo and is reported. Tasks (which label a record
gets) live in :mod:`vistance.tasks`.
"""

from __future__ import annotations

import collections
import glob
import json
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from ..errors import DataError
from ..tasks import CLAIM_LABELS, JOINT, STANCE_LABELS

REQUIRED_KEYS = ("id", "article", "date", "text", "claim", "stance", "speaker")
OPTIONAL_KEYS = ("kind", "position", "batch", "note", "context")
"""``context``: the article around the sentence (title, previous and next sentence; vistance.data.context)."""


class CorpusError(DataError):
    """A labelled file is not valid; the message lists ``file:line: problem`` lines."""


# --------------------------------------------------------------------------- validation


def _check_record(obj, seen: dict, where: str) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: expected a JSON object, got {type(obj).__name__}"]
    errs = []
    for k in REQUIRED_KEYS:
        if k not in obj:
            errs.append(f"{where}: missing key {k!r}")
    for k in obj:
        if k not in REQUIRED_KEYS and k not in OPTIONAL_KEYS:
            errs.append(f"{where}: unknown key {k!r} (allowed: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)})")
    rid = obj.get("id")
    if "id" in obj:
        if not isinstance(rid, str) or not rid.strip():
            errs.append(f"{where}: id must be a non-empty string")
        elif rid in seen:
            errs.append(f"{where}: duplicate id {rid!r} (first at {seen[rid]})")
        else:
            seen[rid] = where
    text = obj.get("text")
    if "text" in obj:
        if not isinstance(text, str) or not text.strip():
            errs.append(f"{where}: empty text")
        elif unicodedata.normalize("NFC", text) != text:
            errs.append(f"{where}: text is not NFC-normalised (run unicodedata.normalize('NFC', text))")
    claim, stance = obj.get("claim"), obj.get("stance")
    if "claim" in obj and claim not in CLAIM_LABELS:
        errs.append(f"{where}: unknown claim label {claim!r} (expected one of {', '.join(CLAIM_LABELS)})")
    if "stance" in obj and stance is not None and stance not in STANCE_LABELS:
        errs.append(f"{where}: unknown stance label {stance!r} (expected one of {', '.join(STANCE_LABELS)} or null)")
    if claim == "not_claim" and stance is not None:
        errs.append(f"{where}: stance {stance!r} on a not_claim sentence (must be null)")
    if claim == "claim" and "stance" in obj and stance is None:
        errs.append(f"{where}: claim without a stance")
    if "date" in obj and obj["date"] is not None and not isinstance(obj["date"], str):
        errs.append(f"{where}: date must be a YYYY-MM-DD string or null")
    if "context" in obj and not isinstance(obj["context"], str):
        errs.append(f'{where}: context must be a string ("" for none)')
    return errs


def validate_files(paths: Sequence[str | Path], allow_empty: bool = False) -> tuple[list[dict], list[str]]:
    """Read and check labelled files. Returns (records, error lines). Ids must be unique across files;
    a file without records is an error unless ``allow_empty`` (a round that labelled nothing yet)."""
    records, errors, seen = [], [], {}
    for path in paths:
        path = Path(path)
        try:
            # JSON lines end at "\n" only: splitlines() would also break at U+2028/U+0085, which
            # json.dumps leaves unescaped inside strings.
            lines = path.read_text(encoding="utf-8-sig").split("\n")
        except FileNotFoundError:
            errors.append(f"{path}: no such file")
            continue
        except UnicodeDecodeError as e:
            errors.append(f"{path}: not UTF-8 ({e.reason} at byte {e.start})")
            continue
        n_records = 0
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{where}: malformed JSON ({e.msg} at column {e.colno})")
                continue
            errs = _check_record(obj, seen, where)
            errors.extend(errs)
            if not errs:
                records.append(obj)
                n_records += 1
        if n_records == 0 and not allow_empty and not any(e.startswith(f"{path}:") for e in errors):
            errors.append(f"{path}: no labelled records (the file is empty or blank)")
    return records, errors


def expand_files(patterns: str | Path | Sequence[str | Path]) -> list[Path]:
    """Paths and glob patterns (``data/annotated/*.jsonl``) -> sorted, de-duplicated files.

    A pattern that matches nothing is an error, so a typo cannot silently train on less data.
    """
    if isinstance(patterns, (str, Path)):
        patterns = [patterns]
    out: list[Path] = []
    for pat in patterns:
        pat = str(pat)
        if any(ch in pat for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(pat))
            if not matches:
                raise FileNotFoundError(f"{pat}: no file matches")
            out.extend(matches)
        else:
            out.append(Path(pat))
    seen: set[Path] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def load_corpus(paths: str | Path | Sequence[str | Path]) -> list[dict]:
    """Load one or more labelled files (paths or globs), raising :class:`CorpusError` listing every problem."""
    try:
        paths = expand_files(paths)
    except FileNotFoundError as e:
        raise CorpusError(str(e)) from None
    records, errors = validate_files(paths)
    if errors:
        raise CorpusError("\n".join(errors))
    return records


def corpus_stats(records: Sequence[dict]) -> dict:
    claims = collections.Counter(r["claim"] for r in records)
    stances = collections.Counter(r["stance"] for r in records if r["claim"] == "claim")
    return {
        "sentences": len(records),
        "articles": len({r["article"] for r in records}),
        "claim": dict(sorted(claims.items())),
        "stance": {k: stances.get(k, 0) for k in STANCE_LABELS},
        "joint": dict(collections.Counter(JOINT.label_of(r) for r in records)),
        "speakers": len({r["speaker"] for r in records if r.get("speaker")}),
        "parts": dict(collections.Counter(record_part(r) for r in records)),
    }


def record_part(record: dict) -> str:
    """title (a heading, caption or the title line at position 0), lede (the first body sentence), body, or
    unknown for records that do not say where in their article they stand (no ``kind``)."""
    kind, position = record.get("kind"), record.get("position")
    if kind is None:
        return "unknown"
    if kind in ("heading", "caption") or position == 0:
        return "title"
    return "lede" if position == 1 else "body"
