"""``python -m vistance.batch`` / ``vistance batch``: the command line of :func:`~.run.run_batch`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..errors import VistanceError, exit_on_error
from ..inference.engines import add_arguments as engine_arguments
from .run import EXIT_PARTIAL, run_batch, summary


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m vistance.batch",
        description="Score a news archive (JSONL/CSV/Parquet shards) into Parquet shards.",
    )
    p.add_argument("--model", required=True, help="run folder or checkpoint folder")
    p.add_argument("--input", required=True, help="a shard, a folder of shards, or a quoted glob ('a/**/*.jsonl')")
    p.add_argument("--output", required=True, help="folder for the output shards and _manifest.json")
    p.add_argument(
        "--articles",
        action="store_true",
        help="rows are whole articles (id, text, optional date, title), split into sentences",
    )
    p.add_argument("--text-field", default="text", help="name of the text column (default: text)")
    p.add_argument(
        "--date-field",
        metavar="NAME",
        help="column holding each row's date (default: the first of date, "
        "published_at, pubDate, time that holds one; ISO datetimes and RSS dates become YYYY-MM-DD)",
    )
    p.add_argument(
        "--attributor",
        choices=("rules", "learned"),
        help="how speakers are attributed: the rules, or the learned ranker over their candidates "
        "(default: the checkpoint's)",
    )
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this process (default); ray: a pool of actors on a Ray cluster",
    )
    engine_arguments(p, engine_flag="--model-engine", quantize=False)
    p.add_argument(
        "--address",
        help="Ray cluster to join, from one of its nodes: auto (the cluster `ray start` "
        "started here) or HEAD_IP:6379; default: start a private Ray on this machine",
    )
    p.add_argument("--workers", type=int, default=1, help="Ray actors, each with its own copy of the model")
    p.add_argument("--batch-size", type=int, default=32, help="sentences per forward pass (default 32)")
    p.add_argument(
        "--cpus-per-worker",
        type=float,
        default=1.0,
        help="CPUs Ray reserves per actor, also its torch threads (default 1; fractions allowed)",
    )
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs per actor (e.g. 1, or 0.5 to share)")
    p.add_argument(
        "--max-attempts",
        type=int,
        default=3,
        help="workers that may die on one shard (killed, out of memory) before it is recorded as failed "
        "and the run goes on without it (default 3)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="score again what changed (checkpoint, options or input shards) instead of refusing",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        manifest = run_batch(
            args.model,
            args.input,
            args.output,
            articles=args.articles,
            text_field=args.text_field,
            date_field=args.date_field,
            attributor=args.attributor,
            engine=args.engine,
            model_engine=args.model_engine,
            precision=args.precision,
            address=args.address,
            workers=args.workers,
            batch_size=args.batch_size,
            cpus_per_worker=args.cpus_per_worker,
            gpus_per_worker=args.gpus_per_worker,
            overwrite=args.overwrite,
            progress=not args.quiet,
            max_attempts=args.max_attempts,
        )
    except VistanceError as e:
        return exit_on_error(e)
    except KeyboardInterrupt:
        print(
            f"interrupted; finished shards are kept in {args.output}: rerun the same command to score the rest",
            file=sys.stderr,
        )
        return 130
    print(summary(manifest, args.output), file=sys.stderr)
    return EXIT_PARTIAL if manifest["status"] == "partial" else 0
