"""``python -m vistance.annotate``: export, import, rank, curve, stats (see the package docstring)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..data import atomic_write_text, write_jsonl
from ..errors import InputError, VistanceError, exit_on_error
from ..inference.engines import add_arguments as engine_arguments


def _export(args) -> int:
    from .roundtrip import export_file

    written = export_file(
        args.input, args.format, args.out, model=args.model, stance_model=args.stance_model, text_field=args.text_field
    )
    content = Path(written[0]).read_text(encoding="utf-8")
    n = len(json.loads(content)) if args.format == "labelstudio" else len(content.splitlines())
    print(f"{n} sentence(s) -> {written[0]}" + (f" (+ labelling config {written[1]})" if len(written) > 1 else ""))
    return 0


def _import(args) -> int:
    from .roundtrip import import_file

    mode = "append" if args.append else "overwrite" if args.overwrite else "new"
    result = import_file(args.file, args.out, fmt=args.format, batch=args.batch, against=args.against, mode=mode)
    if result.errors:
        for e in result.errors:
            print(e, file=sys.stderr)
        print(f"{len(result.errors)} problem(s); nothing written to {args.out}", file=sys.stderr)
        return 1
    if not result.records:
        print(f"nothing to import: {result.skipped} task(s) without annotation; {args.out} not written")
        return 0
    verb = "appended to" if mode == "append" else "->"
    print(f"{len(result.records)} record(s) {verb} {args.out}; {result.skipped} task(s) without annotation skipped")
    return 0


def _rank(args) -> int:
    from ..inference import StanceClassifier
    from .rank import RankConfig, rank, read_labelled
    from .sources import read_sentences

    config = RankConfig(
        k=args.k,
        strategy=args.strategy,
        random_share=args.random_share,
        seed=args.seed,
        near_duplicate_threshold=args.near_duplicate_threshold,
    )
    from ..inference.engines import from_args

    model = StanceClassifier.from_pretrained(args.model, args.stance_model, **from_args(args))
    pool = read_sentences(args.pool, args.text_field)
    result = rank(pool, model, config, labelled=read_labelled(args.exclude), progress=True)
    write_jsonl(args.out, result.rows)
    c = result.counts
    print(
        f"pool {c['pool']}: -{c['labelled_id']} labelled (id), -{c['labelled_text']} labelled (text), "
        f"-{c['near_labelled']} near-copies of labelled, -{c['near_pool']} near-copies in the pool "
        f"-> {c['candidates']} candidates"
    )
    whys = {w: sum(r["why"] == w for r in result.rows) for w in ("uncertainty", "random")}
    print(
        f"{c['picked']} picked ({whys['uncertainty']} uncertainty/{config.strategy}, {whys['random']} random) "
        f"-> {args.out}"
    )
    if c["picked"] < config.k:
        print(f"warning: only {c['picked']} candidates left, fewer than k={config.k}", file=sys.stderr)
    return 0


def _domains(args) -> int:
    from .domains import markdown, run_domains

    files = dict(item.split("=", 1) for item in args.source)
    results = run_domains(args.config, files, args.cv, args.out)
    print(markdown(results))
    print(f"-> {Path(args.out).with_suffix('.md')}, {Path(args.out).with_suffix('.json')}")
    return 0


def _curve(args) -> int:
    from .curve import run_curve

    result = run_curve(args.config, args.fractions, args.cv, args.out, overrides=args.set, seed=args.seed)
    print(f"{result['sentences']} sentences, {result['cv']}-fold grouped CV ({result['task']} task)")
    print("fraction  n_train  dev macro-F1     test macro-F1")
    for p in result["points"]:
        print(
            f"{p['fraction']:>8.0%}  {p['n_train']['mean']:>7.0f}  {p['dev_macro_f1']['mean']:.3f} ± "
            f"{p['dev_macro_f1']['std']:.3f}    {p['test_macro_f1']['mean']:.3f} ± {p['test_macro_f1']['std']:.3f}"
        )
    print(f"-> {args.out}, {Path(args.out).with_suffix('.json')}")
    return 0


def _agreement(args) -> int:
    from .agreement import agreement_by, markdown

    results = agreement_by(args.first, args.second)
    print(markdown(results))
    dis = results["all"]["disagreements"]
    print(f"{len(dis)} disagreement(s)" + (f" -> {args.out}" if args.out else ""))
    if args.out:
        write_jsonl(args.out, dis)
    return 0


def _stats(args) -> int:
    from .stats import distribution, markdown_table

    sets = {}
    for spec in args.set:
        name, _, files = spec.partition("=")
        if not files:
            raise InputError(f"--set expects NAME=FILE[,FILE...], got {spec!r}")
        sets[name] = distribution(files.split(","))
    table = markdown_table(sets)
    print(table, end="")
    if args.out:
        atomic_write_text(args.out, table)
        atomic_write_text(Path(args.out).with_suffix(".json"), json.dumps(sets, indent=2) + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __doc__ as doc
    from .rank import STRATEGIES
    from .roundtrip import FORMATS

    parser = argparse.ArgumentParser(
        prog="python -m vistance.annotate",
        description=doc.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("export", help="sentences -> Label Studio tasks (+ labelling config) or doccano JSONL")
    p.add_argument("--input", required=True, help="article .txt, folder of them, sentence JSONL/CSV, or the pool CSV")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument(
        "--model", help="checkpoint or run folder: add its guesses (Label Studio predictions / doccano meta)"
    )
    p.add_argument("--stance-model", help="stance checkpoint, with a claim-task --model (cascade)")
    p.add_argument("--text-field", default="text", help="text column of JSONL/CSV input (default: text)")
    p.add_argument("--out", required=True)
    p.set_defaults(run=_export)

    p = sub.add_parser("import", help="a Label Studio JSON / doccano JSONL export -> validated corpus JSONL")
    p.add_argument("file")
    p.add_argument("--out", required=True, help="e.g. data/annotated/NAME.jsonl (written only if valid)")
    p.add_argument("--format", choices=FORMATS, help="default: detected from the content")
    p.add_argument("--batch", help="store this batch name on every record")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--append", action="store_true", help="add to an existing --out (validated together)")
    mode.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument(
        "--against",
        nargs="*",
        default=[],
        metavar="FILE",
        help="labelled files whose ids the new records must not reuse (e.g. data/annotated/*.jsonl)",
    )
    p.set_defaults(run=_import)

    p = sub.add_parser("rank", help="the k pool sentences the model is least sure of, plus random picks")
    p.add_argument("--model", required=True, help="checkpoint or run folder (joint or claim task)")
    p.add_argument("--stance-model", help="stance checkpoint, with a claim-task --model (cascade)")
    engine_arguments(p)
    p.add_argument("--pool", required=True, help="pool JSONL (id, text, ...) or the raw pool CSV")
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--strategy", default="entropy", choices=STRATEGIES)
    p.add_argument("--random-share", type=float, default=0.2)
    p.add_argument("--exclude", nargs="*", default=[], metavar="FILE", help="labelled JSONL files (ids and texts)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--near-duplicate-threshold", type=float, default=0.8)
    p.add_argument("--text-field", default="text")
    p.add_argument("--out", required=True)
    p.set_defaults(run=_rank)

    p = sub.add_parser("curve", help="baseline macro-F1 vs. share of the labelled data (grouped CV) as PNG + JSON")
    p.add_argument("--config", required=True, help="a config (data.files, data.task, model.baseline)")
    p.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    p.add_argument("--cv", type=int, default=5)
    p.add_argument("--seed", type=int, help="default: the config's data.split_seed")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    p.add_argument("--out", required=True, help="PNG; the numbers go to the same name with .json")
    p.set_defaults(run=_curve)

    p = sub.add_parser("domains", help="cross-domain table: train on some sources, test on each (grouped CV in-domain)")
    p.add_argument("--config", nargs="+", required=True, help="one or more configs (e.g. baseline, e5-small-frozen)")
    p.add_argument(
        "--source",
        nargs="+",
        metavar="NAME=FILE",
        default=[
            "seed=data/annotated/seed.jsonl",
            "pool-2022=data/annotated/pool-2022.jsonl",
            "news-2025=data/annotated/news-2025.jsonl",
        ],
        help="named labelled files (default: the three corpus files)",
    )
    p.add_argument("--cv", type=int, default=5)
    p.add_argument("--out", required=True, help="base name: writes <out>.md and <out>.json")
    p.set_defaults(run=_domains)

    p = sub.add_parser("agreement", help="Cohen's kappa (joint, claim, stance) of a blind second annotation, per file")
    p.add_argument("first", nargs="+", help="the corpus files with the first labels")
    p.add_argument("--second", required=True, help="the second annotator's labels (corpus format)")
    p.add_argument("--out", help="write the disagreements (JSONL) here, for adjudication")
    p.set_defaults(run=_agreement)

    p = sub.add_parser("stats", help="label distribution of file sets side by side (Markdown table)")
    p.add_argument(
        "--set",
        action="append",
        required=True,
        metavar="NAME=FILE[,FILE...]",
        help="e.g. --set before=data/annotated/seed.jsonl --set after=data/annotated/seed.jsonl,"
        "data/annotated/pool-2022.jsonl",
    )
    p.add_argument("--out", help="write the table here (and the numbers to the same name with .json)")
    p.set_defaults(run=_stats)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (VistanceError, OSError) as e:
        # Bad input (a file, an export, a checkpoint, an option) gets one line and status 2, like every
        # other command; an import whose labels fail validation prints its file:line list and returns 1.
        return exit_on_error(e)
