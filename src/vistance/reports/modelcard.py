"""The model card (``checkpoint/README.md``), generated from what the run recorded.

Every number in it comes from ``metrics.json`` and ``data.json`` and every setting from the
resolved config and ``vistance.json``, so the card cannot drift from the checkpoint it describes.
The output is deterministic (no dates), which lets a test pin it. The layout is the template
``vistance/resources/templates/model_card.md``.
"""

from __future__ import annotations

from pathlib import Path

from ..checkpoint import CARD_FILE, CheckpointMeta
from ..config import Config
from ..data.tables import atomic_write_text
from ..models import get_kind
from ..tasks import get_task
from .templates import render_text


def model_card(cfg: Config, meta: CheckpointMeta, metrics: dict, data: dict) -> str:
    """Markdown with a Hugging Face metadata header (``templates/model_card.md``); ``data`` is the run's
    ``data.json``."""
    counts = data.get("label_counts", {})
    b = cfg.model.baseline
    return render_text(
        "model_card.md",
        cfg=cfg,
        meta=meta,
        metrics=metrics,
        data=data,
        is_transformer=meta.kind != "baseline",
        kind_description=get_kind(meta.kind).description or meta.kind,
        task_description=get_task(meta.task, meta.labels).description,
        label_rows=[
            (i, label, *[counts.get(s, {}).get(label, 0) for s in ("train", "dev", "test")])
            for i, label in enumerate(meta.labels)
        ],
        splits=data.get("splits", {}),
        own_splits=meta.task == "custom" and bool(cfg.data.dev_file) and not cfg.training.cv,
        preprocess=meta.preprocess,
        baseline={
            "word_ngrams": tuple(b.word_ngrams),
            "char_ngrams": tuple(b.char_ngrams),
            # With a grid the C in use is the dev winner, recorded in baseline.json, not b.C.
            "c": f"C chosen on dev from {list(b.C_grid)} (see baseline.json)" if b.C_grid else f"C={b.C}",
            "class_weight": b.class_weight,
        },
    )


def write_model_card(directory: str | Path, cfg: Config, meta: CheckpointMeta, metrics: dict, data: dict) -> Path:
    path = Path(directory) / CARD_FILE
    atomic_write_text(path, model_card(cfg, meta, metrics, data))
    return path
