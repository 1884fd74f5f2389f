"""``vistance COMMAND [options]``: one command for every job; ``vistance COMMAND --help`` shows its options.

Each command is the ``main`` of one module, which keeps its older spelling as an alias:
``vistance train`` is ``python train.py``, ``vistance predict`` is ``python -m vistance.predict``, and so on.
Only the chosen command's module is imported, so ``vistance data validate`` never loads torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NamedTuple

from . import __version__


class Command(NamedTuple):
    target: str
    """``module:function``: the function takes ``argv`` and returns the exit status."""
    help: str
    alias: str
    """The spelling that worked before this command existed (and still does)."""


COMMANDS: dict[str, Command] = {
    "train": Command("vistance.train:cli", "train a model from a config into a run folder", "python train.py"),
    "evaluate": Command("vistance.evaluate:main", "evaluate a run, or compare several", "python evaluate.py"),
    "predict": Command(
        "vistance.inference.cli:main", "claims and stance for articles or sentence tables", "python -m vistance.predict"
    ),
    "serve": Command(
        "vistance.inference.serve:main", "the HTTP service and the analyst's page", "python -m vistance.serve"
    ),
    "export": Command(
        "vistance.inference.export:main",
        "OpenVINO fp32 + calibrated int8 export of a checkpoint, with label agreement recorded",
        "python -m vistance.inference.export",
    ),
    "batch": Command(
        "vistance.batch.cli:main",
        "score an archive shard by shard into Parquet (locally or on Ray)",
        "python -m vistance.batch",
    ),
    "annotate": Command(
        "vistance.annotate.cli:main",
        "the annotation loop: export, import, rank, curve, stats",
        "python -m vistance.annotate",
    ),
    "actors": Command("vistance.actors:main", "per-actor stance report from predictions", "python -m vistance.actors"),
    "speakers": Command(
        "vistance.speakers.__main__:main", "evaluate speaker attribution", "python -m vistance.speakers"
    ),
    "data": Command("vistance.data.__main__:main", "validate, split and parse corpus files", "python -m vistance.data"),
    "bench": Command(
        "vistance.bench.__main__:main", "benchmarks: train, predict, batch, serve, e5-train", "python -m vistance.bench"
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser: it only chooses the command; the command's own parser reads the rest."""
    epilog = "aliases: " + ", ".join(f"{c.alias} = vistance {name}" for name, c in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="vistance",
        epilog=epilog,
        description="Claim detection and stance toward the Russia-Ukraine peace process in Vietnamese news. "
        "`vistance COMMAND --help` shows a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"vistance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in COMMANDS.items():
        sub.add_parser(name, help=command.help, add_help=False)
    return parser


def resolve(name: str):
    """The function behind ``vistance NAME`` (imports its module)."""
    module, function = COMMANDS[name].target.split(":")
    return getattr(importlib.import_module(module), function)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv[:1])  # --help, --version, or a usage error naming the commands (exit 2)
        return 2  # pragma: no cover - parse_args exits first
    name, rest = argv[0], argv[1:]
    if name in ("train", "evaluate"):  # their usage lines name the command the user typed
        return int(resolve(name)(rest, prog=f"vistance {name}") or 0)
    return int(resolve(name)(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
