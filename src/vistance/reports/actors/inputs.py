"""Reading the actor report's input: predicted claims from ``vistance.predict`` / ``vistance.batch`` output.

Any table :mod:`vistance.data.tables` reads (JSONL, CSV, TSV, Parquet; the text formats also gzipped), a folder
of Parquet shards, or a glob of them. A row is a claim when its ``claim`` column says so; stance scores and the
speaker's span come either as JSON (``stance_scores``, ``speaker_span``) or flattened into columns as the
predict CLI's CSV writes them.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ...data.dates import date_columns, missing_date_field, row_date
from ...data.tables import read_table, row_id, table_format
from ...errors import VistanceError
from ...tasks import STANCE_LABELS


class ReportInputError(VistanceError):
    """A prediction file cannot be used for the actor report; the message names the file."""


@dataclass
class Claim:
    id: str
    text: str
    article: str | None
    date: dt.date | None
    claim_score: float | None
    stance: str | None
    scores: dict[str, float] | None
    speaker: str | None
    span: tuple[int, int] | None
    source: str
    speaker_confidence: float | None = None
    """How sure the attributor is of ``speaker`` (None in files written before it said)."""
    actor: str = ""
    """The row the claim counts under in the report: its speaker, ``other`` or ``(unattributed)``."""

    @property
    def confidence(self) -> float:
        """claim_score x probability of the predicted stance: how sure the model is of this row as shown."""
        c = 1.0 if self.claim_score is None else self.claim_score
        if self.stance and self.scores and self.scores.get(self.stance) is not None:
            c *= self.scores[self.stance]
        return c


@dataclass
class SourceInfo:
    path: str
    rows: int = 0
    claims: int = 0
    has_speaker: bool = False
    has_date: bool = False
    has_stance: bool = False


def _expand(inputs: Sequence[str | Path]) -> list[Path]:
    out: list[Path] = []
    for item in inputs:
        s = str(item)
        matches = sorted(Path(m) for m in glob.glob(s)) if any(c in s for c in "*?[") else [Path(s)]
        if not matches:
            raise ReportInputError(f"{s}: no file matches")
        for p in matches:
            if not p.exists():
                raise ReportInputError(f"{p}: no such file or folder")
            out.append(p)
    return out


def _float(v) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _str(v) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def _date(v) -> dt.date | None:
    s = _str(v)
    if not s:
        return None
    try:
        return dt.date.fromisoformat(s[:10])
    except ValueError:
        return None


def _read_one(path: Path) -> tuple[list[dict], set[str]]:
    """The rows of one input and its columns; a folder is a batch command's output (Parquet shards)."""
    if path.is_dir():
        # Shards, plus bookkeeping files (_SUCCESS, _metadata) to skip.
        shards = sorted(p for p in path.rglob("*.parquet") if not p.name.startswith("_"))
        if not shards:
            raise ReportInputError(f"{path}: no .parquet shards in this folder")
    elif table_format(path) is None:
        raise ReportInputError(f"{path}: unsupported input; give prediction .jsonl/.csv files or a folder of .parquet")
    else:
        shards = [path]
    rows: list[dict] = []
    columns: set[str] = set()
    for shard in shards:
        table = read_table(shard, ReportInputError)
        columns |= set(table.columns)
        rows += [row for _, row in table.rows]
    return rows, columns


def _scores(row: dict) -> dict[str, float] | None:
    raw = row.get("stance_scores")
    if isinstance(raw, str):  # a JSON object kept as text
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raw = None
    if isinstance(raw, dict):
        scores = {k: _float(raw.get(k)) for k in STANCE_LABELS}
    else:  # CSV / Parquet: flattened columns
        scores = {k: _float(row.get(f"stance_{k}")) for k in STANCE_LABELS}
    return scores if any(v is not None for v in scores.values()) else None


def _span(row: dict) -> tuple[int, int] | None:
    raw = row.get("speaker_span")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raw = None
    if isinstance(raw, (list, tuple)) and len(raw) == 2:
        s, e = _float(raw[0]), _float(raw[1])
    else:
        s, e = _float(row.get("speaker_start")), _float(row.get("speaker_end"))
    return (int(s), int(e)) if s is not None and e is not None else None


def claim_from_row(row: dict, default_id: str, source: str, date_field: str | None = None) -> Claim | None:
    """The claim of one prediction row (JSONL, CSV or Parquet layout), or None when it is not a predicted claim.

    The date is ``date_field``'s, else the first of ``date``, ``published_at``, ``pubDate``, ``time`` holding one."""
    if _str(row.get("claim")) != "claim":
        return None
    stance = _str(row.get("stance"))
    return Claim(
        id=_str(row.get("id")) or default_id,
        text=_str(row.get("text")) or "",
        article=_str(row.get("article")),
        date=_date(row_date(row, date_field)),
        claim_score=_float(row.get("claim_score")),
        stance=stance if stance in STANCE_LABELS else None,
        scores=_scores(row),
        speaker=_str(row.get("speaker")),
        span=_span(row),
        source=source,
        speaker_confidence=_float(row.get("speaker_confidence")),
    )


def read_predictions(
    inputs: Sequence[str | Path], date_field: str | None = None
) -> tuple[list[Claim], list[SourceInfo]]:
    """The predicted claims of all inputs and what each input file provides (dates: see :func:`claim_from_row`)."""
    claims: list[Claim] = []
    infos: list[SourceInfo] = []
    for path in _expand(inputs):
        rows, columns = _read_one(path)
        if not rows:
            raise ReportInputError(f"{path}: empty, no prediction rows")
        if "claim" not in columns or "text" not in columns:
            missing = ", ".join(c for c in ("claim", "text") if c not in columns)
            raise ReportInputError(
                f"{path}: not a prediction file (no {missing} column); write one with python -m vistance.predict"
            )
        if missing_date_field(columns, date_field):
            raise ReportInputError(
                f"{path}: no {date_field!r} column for --date-field (columns: {', '.join(sorted(map(str, columns)))})"
            )
        info = SourceInfo(
            str(path),
            rows=len(rows),
            has_speaker="speaker" in columns,
            has_date=bool(set(date_columns(date_field)) & set(columns)),
        )
        for n, row in enumerate(rows):
            claim = claim_from_row(row, row_id(row, path, n + 1), str(path), date_field)
            if claim is None:
                continue
            claims.append(claim)
            info.claims += 1
            info.has_stance |= claim.stance is not None
        infos.append(info)
    without = [i.path for i in infos if not i.has_speaker]
    if without and len(without) == len(infos):
        raise ReportInputError(
            f"{', '.join(without)}: no speaker column: written by a model or version without "
            "speaker attribution; rerun python -m vistance.predict to get speakers"
        )
    if without:
        have = [i.path for i in infos if i.has_speaker]
        raise ReportInputError(
            f"mixed inputs: {', '.join(without)} without speakers (rerun python -m vistance.predict "
            f"on {'it' if len(without) == 1 else 'them'}), {', '.join(have)} with speakers"
        )
    return claims, infos
