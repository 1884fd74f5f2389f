"""The actor report's files: ``actors.csv`` (one row per actor, every figure the page shows) and ``report.html``."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from ...data.tables import atomic_path, atomic_write_text
from ...metrics.intervals import wilson
from ...tasks import STANCE_LABELS
from .aggregate import (
    MIN_SPEAKER_CONFIDENCE,
    ActorReport,
    build_report,
    flagged,
    named_actors,
    ordered_actors,
    provenance,
)
from .inputs import ReportInputError, read_predictions

REPORT_FILE = "report.html"
ACTORS_FILE = "actors.csv"

CSV_FIELDS = (
    "actor",
    "speakers",
    "claims",
    "with_stance",
    "favor",
    "against",
    "neutral",
    "favor_share",
    "favor_low",
    "favor_high",
    "against_share",
    "against_low",
    "against_high",
    "neutral_share",
    "neutral_low",
    "neutral_high",
    "net_index",
    "net_low",
    "net_high",
    "dated",
    "undated",
    "first_date",
    "last_date",
    "speaker_confidence",
    "articles",
    "top_article",
    "top_article_share",
    "mostly_one_article",
)


def actor_rows(report: ActorReport) -> list[dict]:
    out = []
    for actor in ordered_actors(report):
        t = report.totals[actor]
        dates = [c.date for c in report.claims if c.actor == actor and c.date]
        row = {
            "actor": actor,
            "speakers": report.members.get(actor, 0),
            "claims": t.claims,
            "with_stance": t.with_stance,
            "dated": len(dates),
            "undated": t.claims - len(dates),
            "first_date": min(dates).isoformat() if dates else "",
            "last_date": max(dates).isoformat() if dates else "",
        }
        prov = provenance(report, actor)
        row.update(
            {
                "speaker_confidence": _round(prov.confidence, 3),
                "articles": prov.articles,
                "top_article": prov.top_article or "",
                "top_article_share": _round(prov.top_share, 3),
                "mostly_one_article": int(flagged(report, actor)),
            }
        )
        for s in STANCE_LABELS:
            row[s] = t.counts[s]
            share = t.share(s)
            lo, hi = wilson(t.counts[s], t.with_stance) if share is not None else ("", "")
            row.update({f"{s}_share": _round(share), f"{s}_low": _round(lo), f"{s}_high": _round(hi)})
        ci = t.net_ci()
        row.update(
            {
                "net_index": _round(t.net),
                "net_low": _round(ci[0]) if ci else "",
                "net_high": _round(ci[1]) if ci else "",
            }
        )
        out.append(row)
    return out


def _round(x, digits: int = 4):
    return "" if x is None or x == "" else round(float(x), digits)


def write_csv(report: ActorReport, path: Path) -> None:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:  # all or nothing
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(actor_rows(report))


def write_report(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    by: str = "month",
    min_claims: int = 3,
    top: int = 8,
    date_field: str | None = None,
    min_speaker_confidence: float = MIN_SPEAKER_CONFIDENCE,
) -> ActorReport:
    """Read predictions, compute, and write ``report.html`` and ``actors.csv`` into ``out_dir``."""
    from .html import render_html  # matplotlib and the templates, only when a page is written

    claims, sources = read_predictions(inputs, date_field)
    report = build_report(
        claims, sources, by=by, min_claims=min_claims, top=top, min_speaker_confidence=min_speaker_confidence
    )
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_csv(report, out / ACTORS_FILE)
        atomic_write_text(out / REPORT_FILE, render_html(report))
    except OSError as e:
        raise ReportInputError(f"{out}: cannot write the report ({e.strerror})") from None
    return report


def summary_line(report: ActorReport, out_dir: str | Path) -> str:
    flags = sum(1 for a in named_actors(report.totals) if flagged(report, a))
    return (
        f"{len(report.claims)} claims, {len(named_actors(report.totals))} actors (+ other/unattributed), "
        f"{len(report.undated)} undated, {report.low_confidence} low-confidence speakers unattributed, "
        f"{flags} actor(s) mostly from one article"
        f"{'' if report.stance_available else ', stance unavailable'} -> {Path(out_dir) / REPORT_FILE}, "
        f"{Path(out_dir) / ACTORS_FILE}"
    )
