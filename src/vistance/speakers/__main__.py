"""``python -m vistance.speakers evaluate FILES... [--cv 5] [--context PATH...] [--out report.json]`` and
``python -m vistance.speakers bench [--context PATH...] [--limit N] [--repeat R] [--attributor rules|learned]`` and
``python -m vistance.speakers train-ranker FILES... [--out ranker.json]``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import VistanceError, exit_on_error
from .attributor import ATTRIBUTORS, DEFAULT_ATTRIBUTOR
from .evaluation import APPROACHES, evaluate, format_report
from .ranker import DEFAULT_RANKER, WRONG_COST


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vistance.speakers", description="Speaker attribution.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("evaluate", help="accuracy of the normalised speaker on labelled claims")
    p.add_argument("files", nargs="+", help="labelled JSONL files or globs")
    p.add_argument("--cv", type=int, default=5, help="grouped folds by article (1: fit and test on everything)")
    p.add_argument(
        "--context",
        nargs="*",
        default=None,
        help="article .txt folders, sentence JSONL/CSV or the pool CSV holding the unlabelled "
        "neighbours (default: data/raw and ../shared/pool/vfnd-ukraine-2022 where present)",
    )
    p.add_argument(
        "--approaches", nargs="*", choices=[a.name for a in APPROACHES], help="only these approaches (default: all)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the full report as JSON here")
    b = sub.add_parser("bench", help="attribution time per 1,000 sentences (prints figures)")
    b.add_argument("--context", nargs="*", default=None, help="article sources to time on (default: as evaluate)")
    b.add_argument("--limit", type=int, default=5000, help="at most this many sentences (default 5000)")
    b.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    b.add_argument(
        "--attributor",
        choices=ATTRIBUTORS,
        default=DEFAULT_ATTRIBUTOR,
        help=f"rules, or the learned ranker over their candidates (default {DEFAULT_ATTRIBUTOR})",
    )
    t = sub.add_parser("train-ranker", help="train the learned attribution step on labelled speakers (JSON)")
    t.add_argument(
        "files",
        nargs="+",
        help="labelled JSONL files or globs; *-fulltext files (the yardstick) are left out unless --with-yardstick",
    )
    t.add_argument("--context", nargs="*", default=None, help="article sources, as for evaluate")
    t.add_argument("--out", default=str(DEFAULT_RANKER), help="where to write it (default: the packaged ranker)")
    t.add_argument(
        "--with-yardstick",
        action="store_true",
        help="also train on the *-fulltext files (their yardstick figures then no longer hold)",
    )
    t.add_argument(
        "--wrong-cost",
        type=float,
        default=WRONG_COST,
        help="what a wrong speaker costs against a right one when choosing the abstention threshold "
        f"(default {WRONG_COST}; 0: never abstain)",
    )
    t.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.cmd == "bench":
        from .bench import bench, format_bench

        try:
            print(format_bench(bench(args.context, limit=args.limit, repeat=args.repeat, attributor=args.attributor)))
        except (VistanceError, FileNotFoundError) as e:
            return exit_on_error(e, "vistance.speakers")
        return 0
    if args.cmd == "train-ranker":
        from .ranker import train_from_files

        try:
            ranker = train_from_files(
                args.files,
                context_paths=args.context,
                with_yardstick=args.with_yardstick,
                seed=args.seed,
                wrong_cost=args.wrong_cost,
            )
            path = ranker.save(args.out)
        except (VistanceError, FileNotFoundError) as e:
            return exit_on_error(e, "vistance.speakers")
        except OSError as e:
            return exit_on_error(
                VistanceError(f"{args.out}: cannot write the ranker ({e.strerror})"), "vistance.speakers"
            )
        i = ranker.info
        print(
            f"trained on {i['claims']} claims of {i['articles']} articles ({', '.join(i['trained_on'])}): "
            f"features {i['features']}, C={i['C']}, threshold {ranker.threshold:.3f}\n"
            f"out of fold: {i['oof_accuracy']:.3f} accuracy never abstaining (rules {i['rules_oof_accuracy']:.3f}, "
            f"best candidate {i['oracle']:.3f}); abstaining, {i['oof_coverage']:.3f} attributed, "
            f"{i['oof_precision']:.3f} of them right\nranker -> {path}"
        )
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
