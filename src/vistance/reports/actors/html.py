"""The actor report's page (``templates/actors.html``): what each table row, figure and note shows, as data.

Every claim text, speaker, article id and file path reaches the page through the template's autoescape.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Sequence

from ...metrics.intervals import wilson
from ...tasks import STANCE_LABELS
from ..templates import png_uri
from ..templates import render_html as render_template
from .aggregate import (
    ONE_ARTICLE_SHARE,
    OTHER,
    UNATTRIBUTED,
    ActorReport,
    Tally,
    flagged,
    heatmap_periods,
    named_actors,
    ordered_actors,
    provenance,
    tally,
)
from .inputs import Claim
from .plots import plot_heatmap, plot_timeline

CLAIMS_PER_CELL = 30
"""Claims listed under one actor x period; the rest are counted, the CSV-minded can filter the input."""


def _share(t: Tally, label: str) -> dict | None:
    share = t.share(label)
    if share is None:
        return None
    lo, hi = wilson(t.counts[label], t.with_stance)
    return {"count": t.counts[label], "share": share, "low": lo, "high": hi}


def _actor_row(report: ActorReport, actor: str) -> dict:
    t = report.totals[actor]
    prov = provenance(report, actor)
    return {
        "name": actor,
        "claims": t.claims,
        "pooled": report.members.get(OTHER, 0) if actor == OTHER else None,
        "low_confidence": report.low_confidence if actor == UNATTRIBUTED else 0,
        "flag": prov if flagged(report, actor) else None,
        "shares": [_share(t, s) for s in STANCE_LABELS],
        "bar": [(s[0], 100 * t.counts[s] / t.with_stance) for s in STANCE_LABELS] if t.with_stance else None,
        "net": t.net,
        "net_ci": t.net_ci(),
        "dated": sum(len(report.cells.get((actor, p), ())) for p in report.periods),
        "articles": prov.articles,
        "confidence": prov.confidence,
    }


def _claim(c: Claim) -> dict:
    """One row of a claims table; ``mark`` splits the text around the speaker's words."""
    mark = None
    if c.span and 0 <= c.span[0] < c.span[1] <= len(c.text):
        s, e = c.span
        mark = (c.text[:s], c.text[s:e], c.text[e:])
    return {
        "date": c.date.isoformat() if c.date else "—",
        "article": c.article or "—",
        "text": c.text,
        "mark": mark,
        "stance": c.stance or "—",
        "claim_p": "—" if c.claim_score is None else f"{c.claim_score:.2f}",
        "scores": ["—" if not c.scores or c.scores.get(s) is None else f"{c.scores[s]:.2f}" for s in STANCE_LABELS],
    }


def _claims(claims: Sequence[Claim]) -> dict:
    """The claims shown in one cell (most confident first, at most CLAIMS_PER_CELL) and how many are left out."""
    return {
        "claims": [_claim(c) for c in claims[:CLAIMS_PER_CELL]],
        "more": len(claims) - CLAIMS_PER_CELL,
        "count": len(claims),
    }


def _cells(report: ActorReport) -> list[dict]:
    """Per actor with dated claims: its periods, newest first, each with its claims."""
    out = []
    for actor in ordered_actors(report):
        cells = [(p, report.cells.get((actor, p), [])) for p in report.periods]
        cells = [(p, cs) for p, cs in cells if cs]
        if cells:
            out.append(
                {
                    "actor": actor,
                    "total": sum(len(cs) for _, cs in cells),
                    "periods": [{"period": p, "net": tally(cs).net, **_claims(cs)} for p, cs in reversed(cells)],
                }
            )
    return out


def _figures(report: ActorReport) -> dict:
    """The heat map and the timelines, when there is something dated with a stance to draw."""
    dated = len(report.claims) > len(report.undated)
    if not (dated and report.stance_available and report.top_actors):
        return {"heatmap": None, "heatmap_caption": "", "timelines": []}
    skipped = len(report.periods) - len(heatmap_periods(report))
    caption = (
        f"Net index per actor (top {len(report.top_actors)} by claims) and {report.by}, from red (against) to "
        "green (favor); n = claims in the cell; white = no claim with a stance."
        + (f" {skipped} {report.by}s without any of these actors' claims are left out." if skipped else "")
    )
    return {
        "heatmap": png_uri(plot_heatmap(report)),
        "heatmap_caption": caption,
        "timelines": [(a, png_uri(plot_timeline(report, a))) for a in report.top_actors],
    }


def render_html(report: ActorReport) -> str:
    n_claims = len(report.claims)
    unattributed = report.totals[UNATTRIBUTED].claims if UNATTRIBUTED in report.totals else 0
    kpis = [
        (n_claims, "predicted claims"),
        (unattributed, "unattributed"),
        *([(report.low_confidence, "of them low speaker confidence")] if report.low_confidence else []),
        (len(named_actors(report.totals)), f"actors with ≥ {report.min_claims} claims"),
        (n_claims - len(report.undated), "dated claims"),
    ]
    undated = collections.defaultdict(list)
    for c in report.undated:
        undated[c.actor].append(c)
    pooled = collections.Counter(c.speaker for c in report.claims if c.actor == OTHER).most_common()
    return render_template(
        "actors.html",
        title="Actors — vistance",
        sources=report.sources,
        today=dt.date.today().isoformat(),
        kpis=kpis,
        stance=report.stance_available,
        without_stance=[s.path for s in report.sources if s.claims and not s.has_stance],
        without_date=[s.path for s in report.sources if not s.has_date],
        n_claims=n_claims,
        dated=n_claims > len(report.undated),
        undated_count=len(report.undated),
        undated=[{"actor": a, **_claims(undated[a])} for a in ordered_actors(report) if undated.get(a)],
        min_claims=report.min_claims,
        min_speaker_confidence=report.min_speaker_confidence,
        one_article_share=ONE_ARTICLE_SHARE,
        actors=[_actor_row(report, a) for a in ordered_actors(report)],
        by=report.by,
        **_figures(report),
        per_cell=CLAIMS_PER_CELL,
        cells=_cells(report),
        pooled=pooled,
    )
