"""Sentences to annotate: read from articles, sentence JSONL/CSV files or the 2022 pool CSV.

Every reader returns plain dicts with at least ``id``, ``article``, ``date`` and ``text`` (NFC,
white space collapsed); other columns ride along as meta fields.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from ..errors import InputError
from ..text import normalize

POOL_COLUMNS = ("doc_id", "doc_label", "sentence")


class SourceError(InputError):
    """An input file cannot be read as sentences; the message names the file."""


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    # Article bodies in the pool's articles CSV exceed csv's default 128 KiB field limit.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except UnicodeDecodeError as e:
        raise SourceError(f"{path}: not UTF-8 ({e.reason} at byte {e.start}); re-save it as UTF-8") from None


def _pool_dates(articles_csv: Path) -> dict[str, str | None]:
    _, rows = _read_csv(articles_csv)
    return {r["id"]: (r.get("date_publish") or "")[:10] or None for r in rows}


def read_pool_csv(path: str | Path, articles_csv: str | Path | None = None) -> list[dict]:
    """Read the VFND 2022 sentence pool (columns ``doc_id, doc_label, sentence``).

    Ids are ``<doc_id>-<NN>`` with NN the 0-based index of the sentence among its document's rows
    (at least two digits), so an id never changes when other documents are added or empty rows
    dropped. ``date`` comes from the articles CSV beside it (``date_publish[:10]`` by ``id``;
    None where it is missing). ``doc_label`` is the curator's viewpoint label of the whole
    document, kept for analysis only: it is not a sentence label.
    """
    path = Path(path)
    columns, rows = _read_csv(path)
    missing = [c for c in POOL_COLUMNS if c not in columns]
    if missing:
        raise SourceError(f"{path}: not a pool CSV, missing column(s) {', '.join(missing)}")
    if articles_csv is None:
        guess = path.with_name(path.name.replace("_sentences", "_articles"))
        articles_csv = guess if guess != path and guess.is_file() else None
    dates = _pool_dates(Path(articles_csv)) if articles_csv else {}
    out, counter = [], {}
    for r in rows:
        doc = r["doc_id"].strip()
        n = counter.get(doc, 0)
        counter[doc] = n + 1
        text = normalize(r["sentence"] or "")
        if not text:
            continue
        out.append(
            {
                "id": f"{doc}-{n:02d}",
                "article": doc,
                "date": dates.get(doc),
                "text": text,
                "position": n,
                "doc_label": r["doc_label"],
            }
        )
    return out


def _rows_to_sentences(rows: list[dict], path: Path, text_field: str) -> list[dict]:
    out = []
    for i, row in enumerate(rows):
        if text_field not in row:
            raise SourceError(f"{path}: row {i + 1} has no {text_field!r} field (choose one with --text-field)")
        text = normalize(str(row[text_field] or ""))
        if not text:
            continue
        article = str(row.get("article") or path.stem)
        rec = {"id": str(row.get("id") or f"{article}-{i:04d}"), "article": article,
               "date": row.get("date") or None, "text": text}
        # CSV cells are strings: an empty one means "no value", not an empty meta field.
        rec.update({k: v for k, v in row.items() if k not in rec and k != text_field and v not in ("", None)})
        out.append(rec)
    return out


def read_sentences(path: str | Path, text_field: str = "text") -> list[dict]:
    """Sentences from an article ``.txt``, a folder of them, a JSONL/CSV of rows, or the pool CSV."""
    from ..data import read_jsonl
    from ..data.articles import parse_file, parse_folder

    path = Path(path)
    if path.is_dir():
        return [s.to_dict() for a in parse_folder(path) for s in a.sentences]
    if not path.is_file():
        raise SourceError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return [s.to_dict() for s in parse_file(path).sentences]
    if suffix in (".jsonl", ".json"):
        try:
            rows = read_jsonl(path)
        except UnicodeDecodeError as e:
            raise SourceError(f"{path}: not UTF-8 ({e.reason})") from None
        except ValueError as e:
            raise SourceError(str(e)) from None
        return _rows_to_sentences(rows, path, text_field)
    if suffix == ".csv":
        columns, rows = _read_csv(path)
        if all(c in columns for c in POOL_COLUMNS) and text_field not in columns:
            return read_pool_csv(path)
        return _rows_to_sentences(rows, path, text_field)
    raise SourceError(f"{path}: unsupported input (give a .txt article, a folder of them, .jsonl or .csv)")
