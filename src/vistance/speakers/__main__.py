"""``python -m vistance.speakers evaluate FILES... [--cv 5] [--context PATH...] [--out report.json]`` and
``python -m vistance.speakers bench [--context PATH...] [--limit N] [--repeat R]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import VistanceError, exit_on_error
from .evaluation import APPROACHES, evaluate, format_report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vistance.speakers", description="Speaker attribution.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("evaluate", help="accuracy of the normalised speaker on labelled claims")
    p.add_argument("files", nargs="+", help="labelled JSONL files or globs")
    p.add_argument("--cv", type=int, default=5, help="grouped folds by article (1: fit and test on everything)")
    p.add_argument("--context", nargs="*", default=None,
                   help="article .txt folders, sentence JSONL/CSV or the pool CSV holding the unlabelled "
                        "neighbours (default: data/raw and ../shared/pool/vfnd-ukraine-2022 where present)")
    p.add_argument("--approaches", nargs="*", choices=[a.name for a in APPROACHES],
                   help="only these approaches (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the full report as JSON here")
    b = sub.add_parser("bench", help="attribution time per 1,000 sentences (prints figures)")
    b.add_argument("--context", nargs="*", default=None, help="article sources to time on (default: as evaluate)")
    b.add_argument("--limit", type=int, default=5000, help="at most this many sentences (default 5000)")
    b.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args(argv)
    if args.cmd == "bench":
        from .bench import bench, format_bench

        try:
            print(format_bench(bench(args.context, limit=args.limit, repeat=args.repeat)))
        except (VistanceError, FileNotFoundError) as e:
            return exit_on_error(e, "vistance.speakers")
        return 0
    if args.cv < 1:
        parser.error("--cv must be at least 1")
    try:
        chosen = [a for a in APPROACHES if not args.approaches or a.name in args.approaches]
        report = evaluate(args.files, cv=args.cv, context_paths=args.context, approaches=chosen, seed=args.seed)
        print(format_report(report))
        if args.out:
            try:
                Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            except OSError as e:
                raise VistanceError(f"{args.out}: cannot write the report ({e.strerror})") from None
            print(f"\nreport -> {args.out}")
    except (VistanceError, FileNotFoundError) as e:
        return exit_on_error(e, "vistance.speakers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
