"""The actor report's numbers, computed once from the claims: who counts as an actor, stance tallies per actor
and per period, where each actor's claims come from, and which actors the timelines show."""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from ...metrics.intervals import net_interval
from ...tasks import STANCE_LABELS
from .inputs import Claim, ReportInputError, SourceInfo

OTHER = "other"
UNATTRIBUTED = "(unattributed)"
PERIODS = ("week", "month")
# Attributions below this speaker_confidence are pooled as (unattributed). 0.5 keeps every way the attributor
# names a speaker itself (quote, cue, Theo X, subject: 0.78-0.97 under CV) and pools a speaker merely carried over
# from earlier sentences (0.41: right 14 times in 35 under CV, 0.40 on the full-text yardstick).
MIN_SPEAKER_CONFIDENCE = 0.5
# An actor with more than this share of its claims in one article is flagged ("mostly one article").
ONE_ARTICLE_SHARE = 0.5


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


def build_report(
    claims: list[Claim],
    sources: list[SourceInfo],
    *,
    by: str = "month",
    min_claims: int = 3,
    top: int = 8,
    min_speaker_confidence: float = MIN_SPEAKER_CONFIDENCE,
) -> ActorReport:
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
    return ActorReport(
        by,
        min_claims,
        sources,
        claims,
        dict(totals),
        dict(members),
        periods,
        dict(cells),
        named_actors(totals)[:top],
        undated,
        min_speaker_confidence,
        low_confidence,
    )


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


def named_actors(totals: dict[str, Tally]) -> list[str]:
    """Speakers with their own row, most claims first."""
    return sorted((a for a in totals if a not in (OTHER, UNATTRIBUTED)), key=lambda a: (-totals[a].claims, a))


def ordered_actors(report: ActorReport) -> list[str]:
    """Named actors by claims, then ``other``, then ``(unattributed)``."""
    return named_actors(report.totals) + [a for a in (OTHER, UNATTRIBUTED) if a in report.totals]


def tally(claims: Iterable[Claim]) -> Tally:
    t = Tally()
    for c in claims:
        t.add(c)
    return t


def heatmap_periods(report: ActorReport) -> list[str]:
    """Periods in which at least one top actor has a claim: a heat map column of blanks says nothing."""
    return [p for p in report.periods if any(report.cells.get((a, p)) for a in report.top_actors)]
