"""The model card (``checkpoint/README.md``), generated from what the run recorded.

Every number in it comes from ``metrics.json`` and ``data.json`` and every setting from the
resolved config and ``vistance.json``, so the card cannot drift from the checkpoint it describes.
The output is deterministic (no dates), which lets a test pin it.
"""

from __future__ import annotations

from pathlib import Path

from ..checkpoint import CARD_FILE, CheckpointMeta
from ..config import Config
from ..data.tables import atomic_write_text
from ..models import get_kind
from ..tasks import get_task


def _f(x) -> str:
    return "–" if x is None else f"{x:.4f}"


def _count(n) -> str:
    return "–" if n is None else f"{n:,}"


def _metric_rows(metrics: dict) -> list[str]:
    rows = ["| split | n | accuracy | macro-F1 | F_avg (favor, against) | claim-F1 |", "|---|---|---|---|---|---|"]
    for split in ("dev", "test"):
        m = metrics.get(split) or {}
        rows.append(
            f"| {split} | {m.get('n', 0)} | {_f(m.get('accuracy'))} | {_f(m.get('macro_f1'))} | "
            f"{_f(m.get('f_avg'))} | {_f(m.get('claim_f1'))} |"
        )
    return rows


def _per_class_rows(metrics: dict) -> list[str]:
    rows = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label, m in (metrics.get("test") or {}).get("per_class", {}).items():
        rows.append(f"| {label} | {_f(m['precision'])} | {_f(m['recall'])} | {_f(m['f1'])} | {m['support']} |")
    return rows


def _label_rows(meta: CheckpointMeta, data: dict) -> list[str]:
    counts = data.get("label_counts", {})
    rows = ["| id | label | train | dev | test |", "|---|---|---|---|---|"]
    for i, label in enumerate(meta.labels):
        n = [counts.get(s, {}).get(label, 0) for s in ("train", "dev", "test")]
        rows.append(f"| {i} | {label} | {n[0]} | {n[1]} | {n[2]} |")
    return rows


def model_card(cfg: Config, meta: CheckpointMeta, metrics: dict, data: dict) -> str:
    """Markdown with a Hugging Face metadata header; ``data`` is the run's ``data.json``."""
    t, p = cfg.training, meta.preprocess
    is_transformer = meta.kind != "baseline"
    header = [
        "---",
        "language: vi",
        f"library_name: {'transformers' if is_transformer else 'sklearn'}",
        "pipeline_tag: text-classification",
        "tags: [vistance, stance-detection, claim-detection, vietnamese]",
    ]
    if meta.base_model:
        header.append(f"base_model: {meta.base_model}")
    header.append("---")

    sizes = data.get("splits", {})
    files = [f"- `{path}` (sha256 `{digest[:12]}…`)" for path, digest in data.get("files", {}).items()]
    lines = [
        *header,
        "",
        f"# vistance {cfg.name}",
        "",
        f"A model of kind `{meta.kind}` ({get_kind(meta.kind).description or meta.kind}) for "
        f"{get_task(meta.task, meta.labels).description} in Vietnamese news sentences.",
        "",
        "## Labels",
        "",
        "Output order of the model (`config.id2label`), with the number of examples per split:",
        "",
        *_label_rows(meta, data),
        "",
        "## Metrics",
        "",
        *_metric_rows(metrics),
        "",
        "Per class on the test split:",
        "",
        *_per_class_rows(metrics),
        "",
        "## Data",
        "",
        *files,
        "",
        f"Split sizes: train {sizes.get('train', 0)}, dev {sizes.get('dev', 0)}, test {sizes.get('test', 0)}"
        + (
            " (the files' own splits)."
            if meta.task == "custom" and cfg.data.dev_file and not cfg.training.cv
            else f" (grouped by near-duplicate text and stratified by label, split seed {cfg.data.split_seed})."
        ),
        "",
        "## Preprocessing",
        "",
        f"Unicode {p.get('normalization')}, word segmentation with `{p.get('segmenter')}`"
        + (", lowercased" if p.get("lowercase") else "")
        + f", at most {meta.max_length} tokens (longer input is truncated). These settings are saved in "
        "`vistance.json`; vistance replays them on raw text, so pass raw sentences to it. Plain "
        "`transformers` does not segment: give it segmented text (`Tổng_thống Nga`).",
        "",
        "## How to use",
        "",
        "```python",
        "from vistance.checkpoint import load_predictor",
        "",
        'predictor = load_predictor("path/to/checkpoint")  # raw sentences in, probabilities out',
        'probs = predictor.predict_proba(["Tổng thống Nga nói sẵn sàng đàm phán."])',
        "```",
    ]
    if is_transformer:
        lines += [
            "",
            "With plain `transformers` (input already word-segmented):",
            "",
            "```python",
            "from transformers import pipeline",
            "",
            'clf = pipeline("text-classification", model="path/to/checkpoint", top_k=None)',
            f'clf("Tổng_thống Nga nói sẵn_sàng đàm_phán .", truncation=True, max_length={meta.max_length})',
            "```",
        ]
    lines += ["", "## Training", ""]
    if meta.source:
        src = meta.source
        lines.append(f"- pre-trained weights: `{src.get('package')}=={src.get('version')}` "
                     f"(`{src.get('weights_file')}`, sha256 `{src.get('sha256')}`)")
    if is_transformer:
        lines += [
            f"- base model: `{meta.base_model or 'random initialisation'}`",
            (
                f"- learning rate {t.learning_rate}, up to {t.num_train_epochs:g} epochs, batch size "
                f"{t.per_device_train_batch_size} x {t.gradient_accumulation_steps} accumulation, warm-up "
                f"{t.warmup_ratio:g}, weight decay {t.weight_decay}"
            ),
            (
                f"- early stopping on dev {t.metric_for_best_model} (patience {t.early_stopping_patience}), "
                "best epoch restored"
            ),
            f"- class-weighted loss: {'yes' if t.class_weighting else 'no'}; seed {t.seed}",
        ]
    else:
        b = cfg.model.baseline
        # With a grid the C in use is the dev winner, recorded in baseline.json, not b.C.
        c = f"C chosen on dev from {list(b.C_grid)} (see baseline.json)" if b.C_grid else f"C={b.C}"
        lines += [
            (
                f"- word n-grams {tuple(b.word_ngrams)}, character n-grams {tuple(b.char_ngrams)}, "
                f"{c}, class weight {b.class_weight}"
            ),
        ]
    lines += [
        f"- parameters: {_count(metrics.get('num_parameters'))}; training time {metrics.get('train_seconds')} s",
        f"- vistance {meta.vistance_version}",
        "",
    ]
    return "\n".join(lines)


def write_model_card(directory: str | Path, cfg: Config, meta: CheckpointMeta, metrics: dict, data: dict) -> Path:
    path = Path(directory) / CARD_FILE
    atomic_write_text(path, model_card(cfg, meta, metrics, data))
    return path
