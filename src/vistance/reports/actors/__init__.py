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

The package, by concern: :mod:`.inputs` reads prediction files into claims, :mod:`.aggregate` computes every
figure once (:class:`ActorReport`), :mod:`.plots` draws the heat map and timelines, :mod:`.html` fills the page's
template and :mod:`.output` writes ``actors.csv`` and ``report.html``. The intervals are
:func:`vistance.metrics.intervals.wilson` and :func:`~vistance.metrics.intervals.net_interval`.
"""

from .aggregate import (
    MIN_SPEAKER_CONFIDENCE,
    ONE_ARTICLE_SHARE,
    OTHER,
    PERIODS,
    UNATTRIBUTED,
    ActorReport,
    Provenance,
    Tally,
    build_report,
    flagged,
    named_actors,
    ordered_actors,
    period_of,
    provenance,
)
from .inputs import Claim, ReportInputError, SourceInfo, claim_from_row, read_predictions
from .output import ACTORS_FILE, CSV_FIELDS, REPORT_FILE, actor_rows, summary_line, write_csv, write_report

__all__ = [
    "ACTORS_FILE",
    "CSV_FIELDS",
    "MIN_SPEAKER_CONFIDENCE",
    "ONE_ARTICLE_SHARE",
    "OTHER",
    "PERIODS",
    "REPORT_FILE",
    "UNATTRIBUTED",
    "ActorReport",
    "Claim",
    "Provenance",
    "ReportInputError",
    "SourceInfo",
    "Tally",
    "actor_rows",
    "build_report",
    "claim_from_row",
    "flagged",
    "named_actors",
    "ordered_actors",
    "period_of",
    "provenance",
    "read_predictions",
    "summary_line",
    "write_csv",
    "write_report",
]
