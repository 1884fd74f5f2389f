"""``python -m vistance.data validate | sentences | split`` (see the package docstring)."""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import VistanceError, exit_on_error
from ..tasks import TASKS
from . import __doc__ as PACKAGE_DOC
from .corpus import corpus_stats, expand_files, load_corpus, validate_files
from .splits import grouped_kfold, grouped_split
from .tables import write_jsonl


def _print_stats(stats: dict) -> None:
    print(f"  sentences: {stats['sentences']}   articles: {stats['articles']}   speakers: {stats['speakers']}")
    print("  claim:  " + "  ".join(f"{k}={v}" for k, v in stats["claim"].items()))
    print("  stance: " + "  ".join(f"{k}={v}" for k, v in stats["stance"].items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vistance.data", description=PACKAGE_DOC.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("validate", help="check labelled JSONL files; exit 1 with file:line errors")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("sentences", help="parse and split articles (.txt) into a sentence JSONL")
    p.add_argument("input", help="an article .txt or a folder of them")
    p.add_argument("--out", required=True)
    p = sub.add_parser("split", help="show the grouped, stratified splits of labelled files")
    p.add_argument("files", nargs="+")
    p.add_argument("--task", default="joint", choices=TASKS)
    p.add_argument("--k", type=int, default=0, help="K grouped folds instead of one train/dev/test split")
    p.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    try:
        return _run(args)
    except (VistanceError, FileNotFoundError) as e:
        return exit_on_error(e)


def _run(args: argparse.Namespace) -> int:
    if args.cmd == "validate":
        records, errors = validate_files(expand_files(args.files))
        if errors:
            for e in errors:
                print(e, file=sys.stderr)
            print(f"{len(errors)} problem(s) in {len(args.files)} file(s)", file=sys.stderr)
            return 1
        for f in args.files:
            print(f"{f}: OK")
        _print_stats(corpus_stats(records))
        return 0

    if args.cmd == "sentences":
        from .articles import parse_file, parse_folder  # underthesea loads only here

        src = Path(args.input)
        articles = parse_folder(src) if src.is_dir() else [parse_file(src)]
        rows = [s.to_dict() for a in articles for s in a.sentences]
        write_jsonl(args.out, rows)
        kinds = collections.Counter(r["kind"] for r in rows)
        print(f"{len(articles)} article(s) -> {len(rows)} sentences ({dict(kinds)}) -> {args.out}")
        return 0

    if args.cmd == "split":
        examples = TASKS[args.task].examples(load_corpus(args.files))
        splits = grouped_kfold(examples, args.k, args.seed) if args.k else [grouped_split(examples, seed=args.seed)]
        for i, s in enumerate(splits):
            counts = {n: dict(collections.Counter(e["label"] for e in part)) for n, part in s.items()}
            print(f"split {i}: {s.sizes()}  {counts}")
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
