"""Who says what about the peace process: per-actor stance over time, from ``vistance.predict`` output.

Input rows are predictions (JSONL, CSV, or a folder of Parquet shards); only predicted claims count. For
each actor (the predicted ``speaker``) the report gives the number of claims, stance counts and shares with
Wilson 95% intervals, and a net stance index ``(favor - against) / claims with a stance`` in [-1, 1].
Actors with fewer than ``min_claims`` claims are pooled as ``other``; claims without a speaker are
``(unattributed)``, and so are attributions less sure than ``min_speaker_confidence`` (the attributor's
``speaker_confidence``; see :data:`MIN_SPEAKER_CONFIDENCE`): a wrong name is worse than none in a table analysts
read as "who said what". Each actor shows the mean confidence of its attributions and how many articles its
claims come from; an actor most of whose claims come from one article is flagged, since one long interview or
one speaker carried across an article can make an actor look bigger than the coverage is. Over time, the top
actors get a timeline and a heat map of the net index per week or
month, and every cell lists the claims behind it, most confident first.

What the input cannot tell is reported, not guessed: claims without a date are counted and listed apart
(no timeline if nothing is dated), a claim-only model gives counts without stance, and files written
without speaker attribution stop the report with one line saying which, since mixing them in would show
their claims as unattributed.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import glob
import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..data import iter_jsonl
from ..data.dates import date_columns, missing_date_field, row_date
from ..data.tables import atomic_path, atomic_write_text
from ..errors import VistanceError
from ..metrics.intervals import net_interval, wilson
from ..tasks import STANCE_LABELS

OTHER = "other"
UNATTRIBUTED = "(unattributed)"
PERIODS = ("week", "month")
# Attributions below this speaker_confidence are pooled as (unattributed). 0.5 keeps every way the attributor
# names a speaker itself (quote, cue, Theo X, subject: 0.78-0.97 under CV) and pools a speaker merely carried over
# from earlier sentences (0.41: right 14 times in 35 under CV, 0.40 on the full-text yardstick).
MIN_SPEAKER_CONFIDENCE = 0.5
# An actor with more than this share of its claims in one article is flagged ("mostly one article").
ONE_ARTICLE_SHARE = 0.5
CLAIMS_PER_CELL = 30
"""Claims listed under one actor x period; the rest are counted, the CSV-minded can filter the input."""
REPORT_FILE = "report.html"
ACTORS_FILE = "actors.csv"


class ReportInputError(VistanceError):
    """A prediction file cannot be used for the actor report; the message names the file."""


# --------------------------------------------------------------------------- reading


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


def _read_jsonl(path: Path) -> tuple[list[dict], set[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ReportInputError(f"{path}: not UTF-8 ({e.reason}); re-save it as UTF-8") from None
    rows = [row for _, row in iter_jsonl(path, text, error=ReportInputError)]
    return rows, set().union(*(r.keys() for r in rows)) if rows else set()


def _read_csv(path: Path) -> tuple[list[dict], set[str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            return rows, set(reader.fieldnames or ())
    except UnicodeDecodeError as e:
        raise ReportInputError(f"{path}: not UTF-8 ({e.reason}); re-save it as UTF-8") from None
    except csv.Error as e:
        raise ReportInputError(f"{path}: not a readable CSV ({e})") from None


def _read_parquet(paths: list[Path], where: Path) -> tuple[list[dict], set[str]]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ReportInputError(f"{where}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    rows, columns = [], set()
    for p in paths:
        try:
            table = pq.read_table(p)
        except (OSError, ValueError, pa.ArrowException) as e:
            raise ReportInputError(f"{p}: not a readable Parquet file ({type(e).__name__}: {e})") from None
        columns |= set(table.column_names)
        rows += table.to_pylist()
    return rows, columns


def _read_one(path: Path) -> tuple[list[dict], set[str]]:
    if path.is_dir():
        # A batch command's output: shards, plus bookkeeping files (_SUCCESS, _metadata) to skip.
        shards = sorted(p for p in path.rglob("*.parquet") if not p.name.startswith("_"))
        if not shards:
            raise ReportInputError(f"{path}: no .parquet shards in this folder")
        return _read_parquet(shards, path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _read_jsonl(path)
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".parquet":
        return _read_parquet([path], path)
    raise ReportInputError(f"{path}: unsupported input; give prediction .jsonl/.csv files or a folder of .parquet")


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
    return Claim(id=_str(row.get("id")) or default_id, text=_str(row.get("text")) or "",
                 article=_str(row.get("article")), date=_date(row_date(row, date_field)),
                 claim_score=_float(row.get("claim_score")),
                 stance=stance if stance in STANCE_LABELS else None, scores=_scores(row),
                 speaker=_str(row.get("speaker")), span=_span(row), source=source,
                 speaker_confidence=_float(row.get("speaker_confidence")))


def read_predictions(inputs: Sequence[str | Path],
                     date_field: str | None = None) -> tuple[list[Claim], list[SourceInfo]]:
    """The predicted claims of all inputs and what each input file provides (dates: see :func:`claim_from_row`)."""
    claims: list[Claim] = []
    infos: list[SourceInfo] = []
    for path in _expand(inputs):
        rows, columns = _read_one(path)
        if not rows:
            raise ReportInputError(f"{path}: empty, no prediction rows")
        if "claim" not in columns or "text" not in columns:
            missing = ", ".join(c for c in ("claim", "text") if c not in columns)
            raise ReportInputError(f"{path}: not a prediction file (no {missing} column); write one with "
                                   "python -m vistance.predict")
        if missing_date_field(columns, date_field):
            raise ReportInputError(f"{path}: no {date_field!r} column for --date-field (columns: "
                                   f"{', '.join(sorted(map(str, columns)))})")
        info = SourceInfo(str(path), rows=len(rows), has_speaker="speaker" in columns,
                          has_date=bool(set(date_columns(date_field)) & set(columns)))
        for n, row in enumerate(rows):
            claim = claim_from_row(row, f"{path.stem}-{n}", str(path), date_field)
            if claim is None:
                continue
            claims.append(claim)
            info.claims += 1
            info.has_stance |= claim.stance is not None
        infos.append(info)
    without = [i.path for i in infos if not i.has_speaker]
    if without and len(without) == len(infos):
        raise ReportInputError(f"{', '.join(without)}: no speaker column: written by a model or version without "
                               "speaker attribution; rerun python -m vistance.predict to get speakers")
    if without:
        have = [i.path for i in infos if i.has_speaker]
        raise ReportInputError(f"mixed inputs: {', '.join(without)} without speakers (rerun python -m vistance.predict "
                               f"on {'it' if len(without) == 1 else 'them'}), {', '.join(have)} with speakers")
    return claims, infos


# --------------------------------------------------------------------------- statistics


@dataclass
class Tally:
    """Stance counts of a set of claims."""

    claims: int = 0
    counts: collections.Counter = field(default_factory=collections.Counter)

    def add(self, c: Claim) -> None:
        self.claims += 1
        if c.stance:
            self.counts[c.stance] += 1

    @property
    def with_stance(self) -> int:
        return sum(self.counts[s] for s in STANCE_LABELS)

    def share(self, label: str) -> float | None:
        return self.counts[label] / self.with_stance if self.with_stance else None

    @property
    def net(self) -> float | None:
        n = self.with_stance
        return (self.counts["favor"] - self.counts["against"]) / n if n else None

    def net_ci(self) -> tuple[float, float] | None:
        n = self.with_stance
        return net_interval(self.counts["favor"], self.counts["against"], n) if n else None


def period_of(d: dt.date, by: str) -> str:
    if by == "week":
        year, week, _ = d.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{d.year}-{d.month:02d}"


@dataclass
class ActorReport:
    """Everything the HTML and CSV show, computed once."""

    by: str
    min_claims: int
    sources: list[SourceInfo]
    claims: list[Claim]
    totals: dict[str, Tally]
    members: dict[str, int]
    """actor -> how many speakers it pools (``other``), else 1."""
    periods: list[str]
    cells: dict[tuple[str, str], list[Claim]]
    top_actors: list[str]
    undated: list[Claim]
    min_speaker_confidence: float = MIN_SPEAKER_CONFIDENCE
    low_confidence: int = 0
    """Claims whose speaker was pooled as (unattributed) for a confidence below ``min_speaker_confidence``."""

    @property
    def stance_available(self) -> bool:
        return any(c.stance for c in self.claims)


def _unsure(c: Claim, threshold: float) -> bool:
    return c.speaker_confidence is not None and c.speaker_confidence < threshold


def build_report(claims: list[Claim], sources: list[SourceInfo], *, by: str = "month", min_claims: int = 3,
                 top: int = 8, min_speaker_confidence: float = MIN_SPEAKER_CONFIDENCE) -> ActorReport:
    if by not in PERIODS:
        raise ReportInputError(f"--by must be one of {', '.join(PERIODS)}, not {by!r}")
    if not 0.0 <= min_speaker_confidence <= 1.0:
        raise ReportInputError(f"--min-speaker-confidence must be in [0, 1], not {min_speaker_confidence}")
    per_speaker = collections.Counter(c.speaker for c in claims if c.speaker and not _unsure(c, min_speaker_confidence))
    low_confidence = sum(1 for c in claims if c.speaker and _unsure(c, min_speaker_confidence))
    members = collections.Counter()
    for c in claims:
        if not c.speaker or _unsure(c, min_speaker_confidence):
            c.actor = UNATTRIBUTED
        elif per_speaker[c.speaker] < min_claims:
            c.actor = OTHER
        else:
            c.actor = c.speaker
    for s, n in per_speaker.items():
        members[s if n >= min_claims else OTHER] += 1
    totals: dict[str, Tally] = collections.defaultdict(Tally)
    cells: dict[tuple[str, str], list[Claim]] = collections.defaultdict(list)
    undated = []
    for c in claims:
        actor = c.actor
        totals[actor].add(c)
        if c.date is None:
            undated.append(c)
        else:
            cells[(actor, period_of(c.date, by))].append(c)
    for cell in cells.values():
        cell.sort(key=lambda c: -c.confidence)
    undated.sort(key=lambda c: -c.confidence)
    periods = _period_range(sorted({c.date for c in claims if c.date}), by)
    return ActorReport(by, min_claims, sources, claims, dict(totals), dict(members), periods, dict(cells),
                       _named(totals)[:top], undated, min_speaker_confidence, low_confidence)


@dataclass
class Provenance:
    """Where an actor's claims come from and how sure their attribution is."""

    articles: int
    top_article: str | None
    top_article_claims: int
    claims: int
    confidence: float | None
    """Mean speaker_confidence of the claims that carry one."""

    @property
    def top_share(self) -> float:
        return self.top_article_claims / self.claims if self.claims else 0.0

    @property
    def one_article(self) -> bool:
        return self.articles >= 1 and self.top_share > ONE_ARTICLE_SHARE


def provenance(report: ActorReport, actor: str) -> Provenance:
    claims = [c for c in report.claims if c.actor == actor]
    per_article = collections.Counter(c.article or c.source for c in claims)
    top, n = per_article.most_common(1)[0] if per_article else (None, 0)
    conf = [c.speaker_confidence for c in claims if c.speaker_confidence is not None]
    return Provenance(len(per_article), top, n, len(claims), sum(conf) / len(conf) if conf else None)


def flagged(report: ActorReport, actor: str) -> bool:
    """A named actor most of whose claims come from one article."""
    return actor not in (OTHER, UNATTRIBUTED) and provenance(report, actor).one_article


def _period_range(dates: list[dt.date], by: str) -> list[str]:
    """Every period from the first dated claim to the last, empty ones included, so gaps show as gaps."""
    if not dates:
        return []
    out, d = [], dates[0]
    step = dt.timedelta(days=7) if by == "week" else None
    if by == "week":
        d -= dt.timedelta(days=d.weekday())
    else:
        d = d.replace(day=1)
    while d <= dates[-1]:
        out.append(period_of(d, by))
        if step:
            d += step
        else:
            d = d.replace(year=d.year + 1, month=1) if d.month == 12 else d.replace(month=d.month + 1)
    return out


def _named(totals: dict[str, Tally]) -> list[str]:
    """Speakers with their own row, most claims first."""
    return sorted((a for a in totals if a not in (OTHER, UNATTRIBUTED)), key=lambda a: (-totals[a].claims, a))


def ordered_actors(report: ActorReport) -> list[str]:
    """Named actors by claims, then ``other``, then ``(unattributed)``."""
    return _named(report.totals) + [a for a in (OTHER, UNATTRIBUTED) if a in report.totals]


# --------------------------------------------------------------------------- CSV

CSV_FIELDS = ("actor", "speakers", "claims", "with_stance", "favor", "against", "neutral",
              "favor_share", "favor_low", "favor_high", "against_share", "against_low", "against_high",
              "neutral_share", "neutral_low", "neutral_high", "net_index", "net_low", "net_high",
              "dated", "undated", "first_date", "last_date", "speaker_confidence", "articles", "top_article",
              "top_article_share", "mostly_one_article")


def actor_rows(report: ActorReport) -> list[dict]:
    out = []
    for actor in ordered_actors(report):
        t = report.totals[actor]
        dates = [c.date for c in report.claims if c.actor == actor and c.date]
        row = {"actor": actor, "speakers": report.members.get(actor, 0), "claims": t.claims,
               "with_stance": t.with_stance, "dated": len(dates), "undated": t.claims - len(dates),
               "first_date": min(dates).isoformat() if dates else "",
               "last_date": max(dates).isoformat() if dates else ""}
        prov = provenance(report, actor)
        row.update({"speaker_confidence": _round(prov.confidence, 3), "articles": prov.articles,
                    "top_article": prov.top_article or "", "top_article_share": _round(prov.top_share, 3),
                    "mostly_one_article": int(flagged(report, actor))})
        for s in STANCE_LABELS:
            row[s] = t.counts[s]
            share = t.share(s)
            lo, hi = wilson(t.counts[s], t.with_stance) if share is not None else ("", "")
            row.update({f"{s}_share": _round(share), f"{s}_low": _round(lo), f"{s}_high": _round(hi)})
        ci = t.net_ci()
        row.update({"net_index": _round(t.net), "net_low": _round(ci[0]) if ci else "",
                    "net_high": _round(ci[1]) if ci else ""})
        out.append(row)
    return out


def _round(x, digits: int = 4):
    return "" if x is None or x == "" else round(float(x), digits)


def write_csv(report: ActorReport, path: Path) -> None:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:  # all or nothing
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(actor_rows(report))


# --------------------------------------------------------------------------- plots

STANCE_COLORS = {"favor": "#1a7f37", "against": "#cf222e", "neutral": "#8c959f"}


def heatmap_periods(report: ActorReport) -> list[str]:
    """Periods in which at least one top actor has a claim: a heat map column of blanks says nothing."""
    return [p for p in report.periods if any(report.cells.get((a, p)) for a in report.top_actors)]


def plot_heatmap(report: ActorReport) -> bytes:
    """Top actors x periods, colour = net index (red against, green favor), each cell annotated with n."""
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.figure import Figure

    from .html import figure_png

    actors, periods = report.top_actors, heatmap_periods(report)
    cmap = LinearSegmentedColormap.from_list("net", [STANCE_COLORS["against"], "#f6f8fa", STANCE_COLORS["favor"]])
    cmap = cmap.with_extremes(bad="#ffffff")
    # Sized so that it is shown near 1:1 in a 1160 px column: 8 pt labels stay 8 pt.
    width = min(10.5, 2.6 + 0.55 * len(periods))
    fig = Figure(figsize=(width, 0.8 + 0.36 * len(actors)), layout="constrained")
    ax = fig.subplots()
    grid = [[math.nan] * len(periods) for _ in actors]
    for i, a in enumerate(actors):
        for j, p in enumerate(periods):
            t = _tally(report.cells.get((a, p), ()))
            if t.with_stance:
                grid[i][j] = t.net
            if t.claims:
                dark = t.net is not None and abs(t.net) > 0.6
                ax.text(j, i, f"n={t.claims}", ha="center", va="center", fontsize=7,
                        color="white" if dark else "#1f2328")
    im = ax.imshow(grid, cmap=cmap, vmin=-1, vmax=1, aspect="auto")
    rotate = len(periods) > 5
    ax.set_xticks(range(len(periods)), periods, rotation=45 if rotate else 0, ha="right" if rotate else "center",
                  fontsize=8)
    ax.set_yticks(range(len(actors)), actors, fontsize=8)
    ax.set_xticks([x - 0.5 for x in range(1, len(periods))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(actors))], minor=True)
    ax.grid(which="minor", color="#d8dee4", linewidth=1)
    ax.tick_params(which="both", length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    cb = fig.colorbar(im, ax=ax, shrink=0.9, pad=0.01, aspect=15)
    cb.set_label("net index", fontsize=8)
    cb.ax.tick_params(labelsize=7)
    return figure_png(fig)


def plot_timeline(report: ActorReport, actor: str) -> bytes:
    """One actor's net index per period with its 95% interval; points sized by claims, n written below.

    Lines join consecutive periods only, so a gap in coverage shows as a gap rather than a trend.
    """
    from matplotlib.figure import Figure

    from .html import figure_png

    periods = report.periods
    fig = Figure(figsize=(4.6, 2.3), layout="constrained")
    ax = fig.subplots()
    ax.axhline(0, color="#8c959f", linewidth=0.8)
    pts = []
    for j, p in enumerate(periods):
        t = _tally(report.cells.get((actor, p), ()))
        if t.with_stance:
            lo, hi = t.net_ci()
            pts.append((j, t.net, lo, hi, t.with_stance))
    runs, run = [], []
    for pt in pts:
        if run and pt[0] != run[-1][0] + 1:
            runs.append(run)
            run = []
        run.append(pt)
    if run:
        runs.append(run)
    for run in runs:
        x, y, lo, hi, _ = zip(*run)
        ax.fill_between(x, lo, hi, color="#0b5cad", alpha=0.13, linewidth=0, step=None if len(x) > 1 else "mid")
        ax.plot(x, y, "-", color="#0b5cad", linewidth=1.2)
    for x, y, lo, hi, n in pts:
        ax.errorbar([x], [y], yerr=[[y - lo], [hi - y]], fmt="o", color="#0b5cad", markersize=3 + min(5, math.sqrt(n)),
                    elinewidth=0.8, capsize=2)
        if len(periods) <= 16:  # beyond that the labels collide; the point size still says how many
            ax.text(x, -1.27, f"n={n}", ha="center", va="center", fontsize=6.5, color="#59636e")
    ax.set_title(f"{actor} · {report.totals[actor].claims} claims", fontsize=9, loc="left")
    ax.set_ylim(-1.38, 1.15)
    ax.set_yticks([-1, 0, 1], ["−1 against", "0", "+1 favor"])
    ax.set_xlim(-0.5, len(periods) - 0.5)
    step = max(1, math.ceil(len(periods) / 8))
    ax.set_xticks(range(0, len(periods), step), periods[::step], rotation=45 if len(periods) > 4 else 0,
                  ha="right" if len(periods) > 4 else "center")
    ax.tick_params(labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    return figure_png(fig)


def _tally(claims: Iterable[Claim]) -> Tally:
    t = Tally()
    for c in claims:
        t.add(c)
    return t


# --------------------------------------------------------------------------- HTML

CSS_EXTRA = """
.bar { display:flex; height:10px; width:120px; border-radius:3px; overflow:hidden; background:#eef1f4; }
.bar span { display:block; height:100%; }
.f { background:#1a7f37; } .a { background:#cf222e; } .n { background:#8c959f; }
.wrap { overflow-x:auto; -webkit-overflow-scrolling:touch; max-width:100%; }
.scroll.actors { max-height:560px; display:inline-block; max-width:100%; }
.heat img { max-width:none; width:auto; max-height:none; }
.timelines figure { flex:1 1 480px; max-width:560px; } .timelines img { width:100%; }
details { border:1px solid var(--line); border-radius:6px; margin:.4em 0; padding:.2em .8em; }
details > summary { cursor:pointer; font-weight:600; padding:.3em 0; }
details details { margin-left:.4em; } details details > summary { font-weight:500; }
table.claims { font-size:.82rem; } table.claims td.text { min-width:260px; max-width:640px; }
table.claims td.date { white-space:nowrap; } table.claims td.art { font-size:.74rem; color:var(--muted);
  max-width:9em; overflow-wrap:anywhere; }
.flag { color:#9a6700; font-size:.78rem; white-space:nowrap; }
mark { background:#ddf4ff; padding:0 1px; border-radius:2px; }
.pos { color:#1a7f37; } .neg { color:#cf222e; }
@media (max-width: 700px) {
  main { margin:0; padding:14px 12px 28px; border:0; border-radius:0; }
  h1 { font-size:1.25rem; }
  table { font-size:.78rem; } th, td { padding:4px 6px; }
  table.claims td.text { min-width:230px; }
  table.claims .art { display:none; }
  details { padding:.1em .5em; } details details { margin-left:0; }
  .kpi { min-width:120px; padding:8px 10px; } .kpi .v { font-size:1.2rem; }
  .timelines figure { flex-basis:100%; }
}
"""


def _esc(s) -> str:
    return html.escape("" if s is None else str(s))


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def _net(x: float | None) -> str:
    if x is None:
        return "—"
    cls = "pos" if x > 0 else "neg" if x < 0 else ""
    return f'<span class="{cls}">{x:+.2f}</span>'


def _share_cell(t: Tally, label: str) -> str:
    share = t.share(label)
    if share is None:
        return "—"
    lo, hi = wilson(t.counts[label], t.with_stance)
    return f'{t.counts[label]} · {_pct(share)}<div class="sub">[{_pct(lo)}, {_pct(hi)}]</div>'


def _bar(t: Tally) -> str:
    if not t.with_stance:
        return ""
    parts = "".join(f'<span class="{s[0]}" style="width:{100 * t.counts[s] / t.with_stance:.1f}%"></span>'
                    for s in STANCE_LABELS)
    return f'<div class="bar" title="favor / against / neutral">{parts}</div>'


def _highlight(c: Claim) -> str:
    if c.span and 0 <= c.span[0] < c.span[1] <= len(c.text):
        s, e = c.span
        return f"{_esc(c.text[:s])}<mark>{_esc(c.text[s:e])}</mark>{_esc(c.text[e:])}"
    return _esc(c.text)


_CLAIM_COLS = ("date", "art", "text", "", "num")


def _claims_table(claims: Sequence[Claim], stance: bool) -> str:
    head = ["date", "article", "claim", "stance", "claim p"] + (["favor", "against", "neutral"] if stance else [])
    rows = []
    for c in claims[:CLAIMS_PER_CELL]:
        cells = [c.date.isoformat() if c.date else "—", _esc(c.article or "—"), _highlight(c), _esc(c.stance or "—"),
                 "—" if c.claim_score is None else f"{c.claim_score:.2f}"]
        if stance:
            cells += ["—" if not c.scores or c.scores.get(s) is None else f"{c.scores[s]:.2f}" for s in STANCE_LABELS]
        rows.append("<tr>" + "".join(f'<td class="{_CLAIM_COLS[min(i, 4)]}">{v}</td>' for i, v in enumerate(cells))
                    + "</tr>")
    more = len(claims) - CLAIMS_PER_CELL
    tail = f'<p class="note">… and {more} more, less confident.</p>' if more > 0 else ""
    ths = "".join(f'<th class="{_CLAIM_COLS[min(i, 4)]}">{h}</th>' for i, h in enumerate(head))
    return (f'<div class="wrap"><table class="claims"><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}'
            f"</tbody></table></div>{tail}")


def _actor_table(report: ActorReport) -> str:
    stance = report.stance_available
    head = ["actor", "claims"] + (["favor", "against", "neutral", "", "net index [95%]"] if stance else []) + \
        ["dated", "articles", "speaker confidence"]
    rows = []
    for actor in ordered_actors(report):
        t = report.totals[actor]
        name = _esc(actor)
        if actor == OTHER:
            pooled = report.members.get(OTHER, 0)
            name += f' <span class="sub">({pooled} speakers with &lt; {report.min_claims} claims)</span>'
        if actor == UNATTRIBUTED and report.low_confidence:
            name += (f' <span class="sub">({report.low_confidence} with a speaker less sure than '
                     f"{report.min_speaker_confidence:.2f})</span>")
        prov = provenance(report, actor)
        if flagged(report, actor):
            name += (f' <span class="flag" title="{prov.top_article_claims} of {prov.claims} claims from article '
                     f'{_esc(prov.top_article)}">⚑ mostly one article</span>')
        cells = [name, str(t.claims)]
        if stance:
            ci = t.net_ci()
            net = _net(t.net) + (f'<div class="sub">[{ci[0]:+.2f}, {ci[1]:+.2f}]</div>' if ci else "")
            cells += [_share_cell(t, s) for s in STANCE_LABELS] + [_bar(t), net]
        dated = sum(len(report.cells.get((actor, p), ())) for p in report.periods)
        cells += [str(dated), str(prov.articles), "—" if prov.confidence is None else f"{prov.confidence:.2f}"]
        rows.append("<tr>" + "".join(f'<td class="{"" if i == 0 else "num"}">{v}</td>' for i, v in enumerate(cells))
                    + "</tr>")
    ths = "".join(f'<th class="{"" if i == 0 else "num"}">{h}</th>' for i, h in enumerate(head))
    return (f'<div class="scroll actors"><table><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table></div>")


def render_html(report: ActorReport) -> str:
    from .html import html_page, img_tag

    stance = report.stance_available
    n_claims = len(report.claims)
    dated = n_claims - len(report.undated)
    parts = [f"<style>{CSS_EXTRA}</style>", "<h1>Actors and their stance on the peace process</h1>",
             f'<p class="meta">{len(report.sources)} input file(s): '
             + ", ".join(f"<code>{_esc(s.path)}</code> ({s.rows} rows, {s.claims} claims)" for s in report.sources)
             + f"<br>generated {dt.date.today().isoformat()} by <code>python -m vistance.actors</code></p>"]
    unattributed = report.totals[UNATTRIBUTED].claims if UNATTRIBUTED in report.totals else 0
    kpis = [(n_claims, "predicted claims"), (unattributed, "unattributed"),
            *([(report.low_confidence, "of them low speaker confidence")] if report.low_confidence else []),
            (len(_named(report.totals)), f"actors with ≥ {report.min_claims} claims"),
            (dated, "dated claims")]
    parts.append('<div class="kpis">' + "".join(f'<div class="kpi"><div class="v">{v}</div><div class="l">{_esc(lbl)}'
                                               f"</div></div>" for v, lbl in kpis) + "</div>")

    notes = []
    if not stance:
        notes.append("Stance is unavailable: the predictions come from a claim-only model, so only claim counts "
                     "are shown (no shares, net index, timeline or heat map of stance).")
    else:
        partial = [s.path for s in report.sources if s.claims and not s.has_stance]
        if partial:
            notes.append(f"No stance in {', '.join(partial)} (claim-only model): their claims are counted, "
                         "but shares and the net index use only claims with a stance.")
    no_date_col = [s.path for s in report.sources if not s.has_date]
    if report.undated:
        where = f" ({', '.join(no_date_col)} ha{'s' if len(no_date_col) == 1 else 've'} no date column)" \
            if no_date_col else ""
        notes.append(f"{len(report.undated)} of {n_claims} claims are undated{where}: counted in the actor table, "
                     "left out of timelines, listed under <a href=\"#undated\">Undated claims</a>.")
    if not dated:
        notes.append("No claim is dated, so there is no timeline or heat map.")
    parts += [f'<div class="warn">{n}</div>' for n in notes]

    parts.append("<h2>Actors</h2>")
    parts.append(f'<p class="note">Shares are of claims with a stance, with Wilson 95% intervals; the net index is '
                 f"(favor − against) / claims, from −1 (all against) to +1 (all favor), with a 95% interval. Speakers "
                 f"with fewer than {report.min_claims} claims are pooled as <em>other</em>.</p>" if stance else
                 f'<p class="note">Speakers with fewer than {report.min_claims} claims are pooled as '
                 "<em>other</em>.</p>")
    parts.append(f'<p class="note">Speaker confidence: the attributor\'s, by how the speaker was found (a quote or a '
                 f"speech verb with its subject is surer than a speaker carried over from earlier sentences); claims "
                 f"with a speaker less sure than {report.min_speaker_confidence:.2f} count as <em>(unattributed)</em>. "
                 f"⚑ <em>mostly one article</em>: more than {ONE_ARTICLE_SHARE:.0%} of the actor's claims come from "
                 "one article (one interview, or one speaker carried through a long article).</p>")
    parts.append(_actor_table(report))

    if dated and stance and report.top_actors:
        by = "week (ISO)" if report.by == "week" else "month"
        parts.append(f"<h2>Over time, per {by}</h2>")
        skipped = len(report.periods) - len(heatmap_periods(report))
        parts.append('<div class="wrap heat">' + img_tag(
            plot_heatmap(report), "heat map of net index per actor and period",
            f"Net index per actor (top {len(report.top_actors)} by claims) and {report.by}, from red (against) to "
            f"green (favor); n = claims in the cell; white = no claim with a stance."
            + (f" {skipped} {report.by}s without any of these actors' claims are left out." if skipped else ""))
            + "</div>")
        parts.append('<div class="figs timelines">' + "".join(
            img_tag(plot_timeline(report, a), f"net index of {a} per {report.by}") for a in report.top_actors)
            + "</div>")
        parts.append('<p class="note">Net index per period with its 95% interval (bars and band); n = claims with a '
                     "stance (written when there are at most 16 periods; the point size grows with n). Lines join "
                     "consecutive periods only.</p>")
    if dated:
        parts.append("<h2>Claims behind each cell</h2>")
        parts.append(f'<p class="note">Most confident first (claim probability × probability of the predicted stance); '
                     f"the speaker's words are highlighted; at most {CLAIMS_PER_CELL} per cell.</p>")
        for actor in ordered_actors(report):
            cells = [(p, report.cells.get((actor, p), [])) for p in report.periods]
            cells = [(p, cs) for p, cs in cells if cs]
            if not cells:
                continue
            inner = "".join(
                f"<details><summary>{_esc(p)} · {len(cs)} claim{'s' if len(cs) != 1 else ''}"
                + (f" · net {_net(_tally(cs).net)}" if stance else "")
                + f"</summary>{_claims_table(cs, stance)}</details>"
                for p, cs in reversed(cells))
            total = sum(len(cs) for _, cs in cells)
            parts.append(f"<details><summary>{_esc(actor)} · {total} dated claim{'s' if total != 1 else ''}</summary>"
                         f"{inner}</details>")
    if report.undated:
        parts.append(f'<h2 id="undated">Undated claims ({len(report.undated)})</h2>')
        by_actor = collections.defaultdict(list)
        for c in report.undated:
            by_actor[c.actor].append(c)
        for actor in ordered_actors(report):
            if by_actor.get(actor):
                cs = by_actor[actor]
                parts.append(f"<details><summary>{_esc(actor)} · {len(cs)}</summary>{_claims_table(cs, stance)}"
                             "</details>")
    if OTHER in report.totals:
        pooled = collections.Counter(c.speaker for c in report.claims if c.actor == OTHER)
        parts.append(f"<h2>Pooled as other ({len(pooled)} speakers)</h2><p class=\"note\">"
                     + ", ".join(f"{_esc(s)} ({n})" for s, n in pooled.most_common()) + "</p>")
    return html_page("Actors — vistance", "\n".join(parts))


def write_report(inputs: Sequence[str | Path], out_dir: str | Path, *, by: str = "month", min_claims: int = 3,
                 top: int = 8, date_field: str | None = None,
                 min_speaker_confidence: float = MIN_SPEAKER_CONFIDENCE) -> ActorReport:
    """Read predictions, compute, and write ``report.html`` and ``actors.csv`` into ``out_dir``."""
    claims, sources = read_predictions(inputs, date_field)
    report = build_report(claims, sources, by=by, min_claims=min_claims, top=top,
                          min_speaker_confidence=min_speaker_confidence)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(report, out / ACTORS_FILE)
        atomic_write_text(out / REPORT_FILE, render_html(report))
    except OSError as e:
        raise ReportInputError(f"{out}: cannot write the report ({e.strerror})") from None
    return report


def summary_line(report: ActorReport, out_dir: str | Path) -> str:
    flags = sum(1 for a in _named(report.totals) if flagged(report, a))
    return (f"{len(report.claims)} claims, {len(_named(report.totals))} actors (+ other/unattributed), "
            f"{len(report.undated)} undated, {report.low_confidence} low-confidence speakers unattributed, "
            f"{flags} actor(s) mostly from one article"
            f"{'' if report.stance_available else ', stance unavailable'} -> {Path(out_dir) / REPORT_FILE}, "
            f"{Path(out_dir) / ACTORS_FILE}")


