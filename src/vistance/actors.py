"""``python -m vistance.actors PREDICTIONS... [--by week|month] [--min-claims N] [--top K] [--date-field NAME]
[--min-speaker-confidence P] --out DIR``.

Per-actor stance report (``report.html``, ``actors.csv``) from ``python -m vistance.predict`` output; the
logic is in :mod:`vistance.reports.actors`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import VistanceError, exit_on_error
from .reports.actors import MIN_SPEAKER_CONFIDENCE, PERIODS, summary_line, write_report


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vistance.actors", description=__doc__.split("\n\n")[1].strip())
    p.add_argument(
        "predictions", nargs="+", help="prediction .jsonl/.csv files, folders of .parquet shards, or globs of them"
    )
    p.add_argument("--by", choices=PERIODS, default="month", help="timeline period (default: month)")
    p.add_argument(
        "--min-claims",
        type=int,
        default=3,
        metavar="N",
        help="speakers with fewer claims are pooled as 'other' (default: 3)",
    )
    p.add_argument("--top", type=int, default=8, metavar="K", help="actors in the timeline and heat map (default: 8)")
    p.add_argument(
        "--date-field",
        metavar="NAME",
        help="column holding each claim's date (default: the first of "
        "date, published_at, pubDate, time that holds one; ISO datetimes become YYYY-MM-DD)",
    )
    p.add_argument(
        "--min-speaker-confidence",
        type=float,
        default=MIN_SPEAKER_CONFIDENCE,
        metavar="P",
        help="claims whose speaker_confidence is below P count as (unattributed) (default: "
        f"{MIN_SPEAKER_CONFIDENCE}; 0 keeps every attribution)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder for report.html and actors.csv")
    args = p.parse_args(argv)
    if args.min_claims < 1 or args.top < 1:
        p.error("--min-claims and --top must be at least 1")
    try:
        report = write_report(
            args.predictions,
            args.out,
            by=args.by,
            min_claims=args.min_claims,
            top=args.top,
            date_field=args.date_field,
            min_speaker_confidence=args.min_speaker_confidence,
        )
    except VistanceError as e:
        return exit_on_error(e)
    print(summary_line(report, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
