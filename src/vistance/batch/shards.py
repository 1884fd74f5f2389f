"""Shards, the unit of work: finding them (:func:`list_shards`), reading one into sentences
(:func:`shard_sentences`), writing its scores as one Parquet file, all or nothing (:func:`output_table`,
:func:`write_atomic_parquet`), and the attempts file that bounds retries of a shard whose workers keep dying."""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..data import atomic_path
from ..data.articles import article_sentences
from ..data.dates import date_columns, missing_date_field, row_date
from ..data.tables import count_rows, iter_table, table_format, table_stem
from ..errors import InputError, VistanceError
from ..runs import now_iso
from ..tasks import STANCE_LABELS
from ..text import normalize


class BatchError(VistanceError):
    """The output folder, its manifest or the engine cannot be used as asked; the message says why."""


# --------------------------------------------------------------------------- shards


@dataclass(frozen=True)
class Shard:
    input: str
    """Absolute path of the input file."""
    name: str
    """Output file, relative to the output folder: the input's path under its glob's base, as .parquet."""
    size: int


def shard_format(path: str | Path) -> tuple[str, bool] | None:
    """(format, gzipped) of a shard, or None for a file that is not one.

    Any table :mod:`vistance.data.tables` reads, except ``.json`` (a folder of shards may hold manifests).
    """
    kind = table_format(path)
    name = Path(path).name.lower()
    if kind is None or name.endswith((".json", ".json.gz")):
        return None
    return kind


def _glob_base(pattern: str) -> Path | None:
    """The folder part of a glob before its first wildcard (output names are relative to it); None if no glob."""
    parts = Path(pattern).parts
    for i, part in enumerate(parts):
        if any(c in part for c in "*?["):
            return Path(*parts[:i]) if i else Path(".")
    return None


def list_shards(pattern: str, output: str | Path) -> list[Shard]:
    """The input shards for a file, a folder (its shard files) or a glob (``**`` recurses), sorted.

    Files under the output folder are left out, so an output folder inside the archive is never read
    back as input.
    """
    path = Path(pattern)
    out = Path(output).absolute()
    base = _glob_base(pattern)
    if path.is_dir():
        if path.absolute() == out:
            raise InputError(f"{path}: the output folder cannot be the input folder; choose another --output")
        base = path
        files = sorted(p for p in path.iterdir() if p.is_file() and shard_format(p))
        if not files:
            raise InputError(f"{path}: no .jsonl, .csv or .parquet shards in this folder")
    else:
        if base is None:
            base = path.parent
        files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        files = [f for f in files if not f.absolute().is_relative_to(out)]
        if not files:
            raise InputError(f"no input matches {pattern!r}")
        for f in files:
            if not shard_format(f):
                raise InputError(f"{f}: not a shard; give .jsonl, .csv or .parquet files (.jsonl.gz, .csv.gz too)")
    shards, seen = [], {}
    for f in files:
        rel = f.absolute().relative_to(base.absolute())
        shard = Shard(str(f.absolute()), str(rel.with_name(table_stem(rel) + ".parquet")), f.stat().st_size)
        if shard.name in seen:
            raise InputError(f"{seen[shard.name]} and {f} would both be written to {shard.name}; rename one")
        if Path(shard.input) == out / shard.name:
            raise InputError(f"{f}: the output folder would overwrite this input; choose another --output")
        seen[shard.name] = f
        shards.append(shard)
    return shards


# --------------------------------------------------------------------------- reading a shard


def _str_or_none(value) -> str | None:
    return None if value is None or value == "" else str(value)


def shard_sentences(
    path: str | Path, data: bytes, *, articles: bool, text_field: str, date_field: str | None = None
) -> tuple[list[dict], dict]:
    """The sentences of one shard, in input order, and ``{"articles", "skipped"}`` counts.

    Sentence rows keep their ``id`` (else ``<shard>-<line>``, as the predict CLI names them) and pass
    ``article`` and ``date`` through. Article rows are split by :func:`article_sentences`, as the predict
    CLI splits them, so ids, positions, kinds and offsets are the ones ``StanceClassifier.analyze`` gives;
    the row's date wins over a ``date YYYY-MM-DD`` marker in the text, and a ``title`` becomes one more sentence
    (kind ``title``, id ``<article>-title``, no position or offsets, since it is not in the text). The date is
    ``date_field``'s, else the first of ``date``, ``published_at``, ``pubDate``, ``time`` holding one.
    """
    path = Path(path)
    stem = table_stem(path)
    sentences: list[dict] = []
    info = {"articles": 0, "skipped": 0}
    has_date_field, fields = False, ()
    rows = iter_table(
        path, data, columns=("id", text_field, "article", "title", *date_columns(date_field)), error=InputError
    )
    for n, row in rows:
        has_date_field = has_date_field or not missing_date_field(row, date_field)
        fields = fields or tuple(map(str, row))
        if text_field not in row:
            raise InputError(
                f"{path}:{n}: no {text_field!r} field (fields: {', '.join(map(str, row))}); "
                "name the text column with --text-field"
            )
        raw = "" if row[text_field] is None else str(row[text_field])
        fields = fields or tuple(map(str, row))
        rid = _str_or_none(row.get("id")) or f"{stem}-{n}"
        if not articles:
            text = normalize(raw)
            if not text:
                info["skipped"] += 1
                continue
            sentences.append(
                {
                    "id": rid,
                    "text": text,
                    "article": _str_or_none(row.get("article")),
                    "date": row_date(row, date_field),
                }
            )
            continue
        found = article_sentences(raw, rid, date=row_date(row, date_field), title=_str_or_none(row.get("title")))
        if not found:
            info["skipped"] += 1
            continue
        info["articles"] += 1
        sentences += found
    if fields and not has_date_field:
        raise InputError(f"{path}: no {date_field!r} field for --date-field (fields: {', '.join(fields)})")
    return sentences, info


# --------------------------------------------------------------------------- writing a shard

SENTENCE_COLUMNS = ("id", "text", "article", "date", "position", "kind", "start", "end")
INT_COLUMNS = frozenset(("position", "start", "end", "speaker_start", "speaker_end"))


def output_table(sentences: Sequence[dict], results: Sequence[dict]):
    """The Parquet table of one shard: sentence fields, then the prediction flattened as in the predict CSV."""
    import pyarrow as pa

    columns = {c: [s.get(c) for s in sentences] for c in SENTENCE_COLUMNS}
    columns["claim"] = [r["claim"] for r in results]
    columns["claim_score"] = [r["claim_score"] for r in results]
    columns["stance"] = [r["stance"] for r in results]
    for label in STANCE_LABELS:
        columns[f"stance_{label}"] = [
            None if r["stance_scores"] is None else r["stance_scores"][label] for r in results
        ]
    if any("speaker" in r or "speaker_span" in r for r in results):
        spans = [r.get("speaker_span") or (None, None) for r in results]
        columns["speaker"] = [r.get("speaker") for r in results]
        columns["speaker_start"] = [span[0] for span in spans]
        columns["speaker_end"] = [span[1] for span in spans]
        columns["speaker_confidence"] = [r.get("speaker_confidence") for r in results]
    # An explicit type per column: an all-null column (no article input, a claim-only model) would
    # otherwise get Arrow's null type, and shards would disagree on their schema.
    return pa.table(columns, schema=pa.schema([(c, _arrow_type(c)) for c in columns]))


def _arrow_type(column: str):
    import pyarrow as pa

    if column in INT_COLUMNS:
        return pa.int32()
    if column in ("claim_score", "speaker_confidence") or column.startswith("stance_"):
        return pa.float64()
    return pa.string()


def write_atomic_parquet(table, target: Path) -> None:
    """Write beside the target, fsync, then rename: a reader or a rerun never sees half a shard.

    The temporary name starts with a dot, which Parquet dataset readers skip; a full disk or an
    exception removes it, and a killed worker leaves at most one per attempt, which a rerun deletes.
    """
    import pyarrow.parquet as pq

    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)


# --------------------------------------------------------------------------- attempts and failed shards


def attempts_file(output: str | Path) -> Path:
    """Beside a shard's output: how many workers started on it, and why the last one died.

    Kept in the output folder (which every Ray node mounts), so it survives the worker that dies
    and bounds retries whoever retries: this process's local engine or Ray's restarted actors.
    """
    output = Path(output)
    return output.with_name(f".{output.name}.attempts")


def read_attempts(output: str | Path) -> dict:
    try:
        found = json.loads(attempts_file(output).read_text(encoding="utf-8"))
        return found if isinstance(found, dict) else {}
    except (OSError, ValueError):
        return {}


def failed_record(input: str, attempts: int, reason: str) -> dict:
    """The manifest entry of a shard given up after ``attempts`` workers died on it."""
    size = os.stat(input).st_size if os.path.exists(input) else None
    return {
        "failed": True,
        "input": input,
        "size": size,
        "rows": count_rows(input),
        "attempts": attempts,
        "error": f"the worker scoring it died {attempts} time(s) ({reason})",
        "at": now_iso(),
    }
