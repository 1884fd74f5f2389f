"""A run is a folder: ``runs/<config-name>/<YYYYmmdd-HHMMSS>/`` (or ``--run-dir``).

Before training it receives everything needed to trust and repeat the run (resolved config, command
line, package versions and git commit, data fingerprint and the exact split records); at the end
the metrics, test predictions and checkpoint. ``status.json`` says how the run ended, and only
``"complete"`` counts as finished: a crash writes ``"failed"``, Ctrl-C ``"interrupted"``, and a
killed process leaves ``"running"``, so a half-written folder is never taken for a result.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from .data import Split, atomic_write_text, file_sha256, read_jsonl, write_jsonl
from .errors import VistanceError

STATUS_FILE = "status.json"
STATUSES = ("running", "complete", "failed", "interrupted")
SPLIT_NAMES = ("train", "dev", "test")
# Packages whose versions change results; recorded in env.json.
TRACKED_PACKAGES = (
    "vistance",
    "torch",
    "transformers",
    "tokenizers",
    "datasets",
    "accelerate",
    "scikit-learn",
    "skops",
    "numpy",
    "pyvi",
    "underthesea",
)


class RunError(VistanceError):
    """A run folder cannot be used as asked (already holds a run, not a run, already complete)."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_json(path: str | Path, obj) -> Path:
    # Write, fsync, then rename: a reader, a kill or a full disk never leaves half a file.
    return atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def read_json(path: str | Path):
    """A run-folder JSON file; a missing or malformed one is a :class:`RunError` naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path}: missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RunError(f"{path}: malformed JSON ({getattr(e, 'msg', e)})") from None


# --------------------------------------------------------------------------- folders


def new_run_dir(name: str, root: str | Path = "runs") -> Path:
    """Create ``<root>/<name>/<YYYYmmdd-HHMMSS>`` (suffix ``-2``, ``-3`` ... if that second is taken)."""
    base = Path(root) / name / time.strftime("%Y%m%d-%H%M%S")
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True, exist_ok=False)
            return path
        except FileExistsError:
            n += 1
            path = base.with_name(f"{base.name}-{n}")


def read_status(run_dir: str | Path) -> dict:
    try:
        status = read_json(Path(run_dir) / STATUS_FILE)
    except RunError:
        return {}
    return status if isinstance(status, dict) else {}


def run_status(run_dir: str | Path) -> str:
    """status.json's status ("complete", "running", "failed", "interrupted"), or "missing"."""
    return str(read_status(run_dir).get("status", "missing"))


def set_status(run_dir: str | Path, status: str, **fields) -> dict:
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    current = read_status(run_dir)
    current.update(fields, status=status)
    write_json(Path(run_dir) / STATUS_FILE, current)
    return current


def is_complete(run_dir: str | Path) -> bool:
    """True only for a run whose training and saving all finished."""
    return read_status(run_dir).get("status") == "complete"


def find_runs(root: str | Path = "runs", name: str | None = None, complete_only: bool = True) -> list[Path]:
    """Run folders under ``root`` (optionally of one config name), oldest first."""
    root = Path(root)
    pattern = f"{name}/*/{STATUS_FILE}" if name else f"*/*/{STATUS_FILE}"
    runs = sorted(p.parent for p in root.glob(pattern))
    return [r for r in runs if is_complete(r)] if complete_only else runs


@contextlib.contextmanager
def track(run_dir: str | Path, resumed: bool = False, enabled: bool = True) -> Iterator[dict]:
    """Mark the run running; on exit complete / interrupted / failed. The caller may add fields to the dict.

    ``enabled=False`` (processes other than the main one in multi-GPU training) writes nothing.
    """
    run_dir = Path(run_dir)
    fields: dict = {}
    if not enabled:
        yield fields
        return
    if resumed:
        set_status(run_dir, "running", resumed_at=now_iso(), error=None)
    else:
        set_status(run_dir, "running", started_at=now_iso())
    try:
        yield fields
    except KeyboardInterrupt:
        set_status(run_dir, "interrupted", interrupted_at=now_iso(), **fields)
        raise
    except BaseException as e:
        set_status(run_dir, "failed", failed_at=now_iso(), error=f"{type(e).__name__}: {e}"[:2000], **fields)
        raise
    set_status(run_dir, "complete", finished_at=now_iso(), **fields)


def fold_dirs(run_dir: str | Path, cv: int) -> list[Path]:
    """Where each model of a new run goes: the run folder itself, or ``fold-1`` ... ``fold-K``."""
    run_dir = Path(run_dir)
    return [run_dir / f"fold-{i}" for i in range(1, cv + 1)] if cv else [run_dir]


def existing_folds(run_dir: str | Path) -> list[Path]:
    """The ``fold-1 ... fold-K`` folders a ``--cv`` run wrote, in numeric order (empty for a single split)."""
    found = [(int(m.group(1)), p) for p in Path(run_dir).glob("fold-*") if (m := re.fullmatch(r"fold-(\d+)", p.name))]
    return [p for _, p in sorted(found)]


def is_cv_run(run_dir: str | Path) -> bool:
    return bool(existing_folds(run_dir))


def run_labels(run_dir: str | Path) -> tuple[str, list[str] | None]:
    """(task, labels) recorded by a run (metrics.json, else data.json)."""
    for name in ("metrics.json", "data.json"):
        path = Path(run_dir) / name
        if path.is_file():
            d = read_json(path)
            if d.get("labels"):
                return d.get("task", "custom"), list(d["labels"])
    return "custom", None


# --------------------------------------------------------------------------- several processes (accelerate launch)


def is_main_process() -> bool:
    """Only the main process writes the run folder; the launcher sets RANK for the others."""
    return int(os.environ.get("RANK", "0")) == 0


def shared_run_dir(run_dir: str | Path | None, name: str, root: str | Path = "runs") -> Path:
    """``run_dir`` or a new timestamped folder, the same one in every process of a multi-GPU launch."""
    if run_dir is not None:
        path = Path(run_dir)
        if is_main_process():
            if (path / STATUS_FILE).is_file():
                raise RunError(f"{path} already holds a run; choose another --run-dir or --resume it")
            path.mkdir(parents=True, exist_ok=True)
        return path
    if int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return new_run_dir(name, root)
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    PartialState()  # joins the process group the launcher set up
    holder = [str(new_run_dir(name, root)) if is_main_process() else None]
    broadcast_object_list(holder)
    return Path(holder[0])


# --------------------------------------------------------------------------- what a run records up front


def git_commit(cwd: str | Path | None = None) -> dict:
    """The commit and whether the work tree had uncommitted changes (None outside a git checkout)."""
    try:

        def run(*a: str) -> str:
            return subprocess.run(
                ["git", *a], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()

        return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def environment() -> dict:
    packages = {}
    for name in TRACKED_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    device = {"cpu_count": os.cpu_count(), "cuda": None}
    try:
        import torch

        device["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            device["cuda"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except ImportError:  # pragma: no cover
        pass
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": packages,
        "git": git_commit(Path(__file__).parent),
        "device": device,
    }


def _label_counts(examples: Sequence[dict], labels: Sequence[str]) -> dict:
    counts = collections.Counter(e["label"] for e in examples)
    return {lab: counts.get(lab, 0) for lab in labels}


def data_info(files: Sequence[str | Path], task, splits: Sequence[Split]) -> dict:
    """``data.json``: file hashes, task and labels, split sizes and label counts (K folds: per-fold sizes)."""
    info = {"files": {str(f): file_sha256(f) for f in files}, "task": task.name, "labels": list(task.labels)}
    if len(splits) == 1:
        info["splits"] = splits[0].sizes()
        info["label_counts"] = {name: _label_counts(part, task.labels) for name, part in splits[0].items()}
    else:
        # The test parts of K folds partition the data.
        everything = [e for s in splits for e in s.test]
        info["cv"] = len(splits)
        info["splits"] = {f"fold-{i}": s.sizes() for i, s in enumerate(splits, 1)}
        info["label_counts"] = {"all": _label_counts(everything, task.labels)}
    return info


def write_splits(folder: str | Path, splits: Split) -> None:
    """``splits/{train,dev,test}.jsonl``: the exact records of each split (id, text, label, ...)."""
    for name, part in splits.items():
        write_jsonl(Path(folder) / "splits" / f"{name}.jsonl", part)
    for name, part in splits.extra.items():  # further test sets: splits/extra-<source>.jsonl
        write_jsonl(Path(folder) / "splits" / f"extra-{name}.jsonl", part)


def read_splits(folder: str | Path) -> Split:
    parts = {name: read_jsonl(Path(folder) / "splits" / f"{name}.jsonl") for name in SPLIT_NAMES}
    extra = {p.stem[len("extra-") :]: read_jsonl(p) for p in sorted((Path(folder) / "splits").glob("extra-*.jsonl"))}
    return Split(**parts, extra=extra)


def append_command(run_dir: str | Path, command: str) -> None:
    with (Path(run_dir) / "command.txt").open("a", encoding="utf-8") as f:
        f.write(command + "\n")


def resumable(run_dir: str | Path) -> Path:
    """``run_dir`` if it is a run that has not completed, else :class:`RunError`."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file() or not (run_dir / "data.json").is_file():
        raise RunError(f"{run_dir}: not a run folder (no config.yaml / data.json)")
    if is_complete(run_dir):
        raise RunError(f"{run_dir}: already complete; nothing to resume")
    return run_dir


def read_yaml(path: str | Path) -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(path), resolve=True)


def command_line(argv: Sequence[str] | None = None) -> str:
    argv = list(sys.argv if argv is None else argv)
    return " ".join(shlex.quote(a) for a in ["python", *argv])


def prepare_run(run_dir: str | Path, config_yaml: str, command: str, info: dict) -> Path:
    """Write config.yaml, command.txt, env.json and data.json (splits are written by the caller)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / "config.yaml", config_yaml)
    atomic_write_text(run_dir / "command.txt", command + "\n")
    write_json(run_dir / "env.json", environment())
    write_json(run_dir / "data.json", info)
    return run_dir
