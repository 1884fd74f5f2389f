"""Training and evaluating one model on one split; ``train.py`` strings these steps together.

* Data: the labelled corpus for a task (:mod:`vistance.tasks`) or any CSV/JSONL with a text and a
  label column (task ``custom``, labels taken from the data).
* Splits: grouped by near-duplicate text and stratified (:mod:`vistance.data.splits`), or the
  files' own train/dev/test, or K grouped folds.
* Learners: the model kind's (:mod:`vistance.models`); each reads raw sentences and applies the one
  shared preprocessing itself.
* Outputs: ``metrics.json``, ``predictions.jsonl`` and ``checkpoint/`` in the run (or fold) folder.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import checkpoint as ckpt
from .config import Config, DataConfig
from .data import (
    Split,
    atomic_folder,
    expand_files,
    grouped_kfold,
    grouped_split,
    load_corpus,
    read_jsonl,
    read_labelled_table,
    write_jsonl,
)
from .errors import DataError
from .metrics import bootstrap_ci, classification_metrics, fold_mean_std
from .models import get_kind
from .runs import write_json
from .tasks import HEADLINE_METRICS, TASKS, Task, custom_task, decide

MIN_TEST_WARNING = 20
"""Below this many test examples a reported score says little: the run prints a caution."""


# --------------------------------------------------------------------------- data


@dataclass
class TaskData:
    task: Task
    files: list[str]
    """Every file read, for data.json's hashes."""
    examples: list[dict] = field(default_factory=list)
    """All examples (each with id, text, label)."""
    given_split: Split | None = None
    """The files' own train/dev/test (custom data with dev_file and test_file)."""

    @property
    def labels(self) -> list[str]:
        return list(self.task.labels)


def load_task_data(cfg: DataConfig) -> TaskData:
    """The examples of the configured task."""
    if cfg.train_file:
        parts = {"train": read_labelled_table(cfg.train_file, cfg.text_column, cfg.label_column)}
        if bool(cfg.dev_file) != bool(cfg.test_file):
            raise DataError("give both data.dev_file and data.test_file, or neither (train_file is then split)")
        if cfg.dev_file:
            parts["dev"] = read_labelled_table(cfg.dev_file, cfg.text_column, cfg.label_column)
            parts["test"] = read_labelled_table(cfg.test_file, cfg.text_column, cfg.label_column)
        task = custom_task({e["label"] for part in parts.values() for e in part})
        files = [f for f in (cfg.train_file, cfg.dev_file, cfg.test_file) if f]
        if len(task.labels) < 2:
            raise DataError(f"{', '.join(files)}: column {cfg.label_column!r} holds one label only "
                            f"({task.labels[0]!r}); a classifier needs at least two")
        examples = [e for part in parts.values() for e in part]
        given = Split(**parts) if cfg.dev_file else None
        return TaskData(task, files, examples, given)
    try:
        files = [str(p) for p in expand_files(cfg.files)]
    except FileNotFoundError as e:
        raise DataError(str(e)) from None
    task = TASKS[cfg.task]
    examples = task.examples(load_corpus(files))
    if len({e["label"] for e in examples}) < 2:
        raise DataError(f"{', '.join(files)}: task {cfg.task!r} needs examples of at least two labels, "
                        f"found {sorted({e['label'] for e in examples}) or 'none'}")
    return TaskData(task, files, examples)


def make_splits(data: TaskData, cfg: DataConfig, cv: int = 0) -> list[Split]:
    """One train/dev/test split, or ``cv`` grouped folds (each with its own dev part)."""
    if data.given_split is not None and not cv:
        return [data.given_split]
    n = len(data.examples)
    if cv and cv > n // 3:
        raise DataError(f"--cv {cv}: {n} examples allow at most {max(2, n // 3)} folds (each fold needs a "
                        "train, dev and test part)")
    try:
        if cv:
            splits = grouped_kfold(data.examples, cv, seed=cfg.split_seed, dev_size=cfg.dev_size)
        else:
            splits = [grouped_split(data.examples, cfg.dev_size, cfg.test_size, seed=cfg.split_seed)]
    except ValueError as e:  # too few examples or groups for the folds asked for
        raise DataError(f"{', '.join(data.files)}: cannot split {n} examples: {e}") from None
    if cv and len(splits) < cv:
        raise DataError(f"--cv {cv}: the examples form only {len(splits)} groups of near-duplicates; use --cv "
                        f"{len(splits)} or fewer")
    smallest = min(len(s.test) for s in splits)
    if smallest < MIN_TEST_WARNING:
        print(f"caution: a test part has only {smallest} examples; its scores will have wide intervals "
              "(label more data, or use --cv)", file=sys.stderr)
    return splits


# --------------------------------------------------------------------------- learners


def make_learner(cfg: Config, task: Task, out_dir: str | Path, train: Sequence[dict]):
    """The learner of ``cfg.model.kind``, ready to fit (``train`` is given up front: the tiny model learns
    its vocabulary from it)."""
    return get_kind(cfg.model.kind).learner(cfg, task, out_dir, train)


# --------------------------------------------------------------------------- evaluation and outputs


@dataclass
class SplitScores:
    """What training measures on one split: dev and test metrics, and the test predictions."""

    dev: dict
    test: dict
    predictions: list[dict]
    """One row per test example: id, text, gold, pred, probs {label: p} in the task's label order."""


def score_split(learner, split: Split, task: Task) -> SplitScores:
    """Dev and test metrics over the task's labels, and the test predictions."""
    labels = list(task.labels)
    result = {}
    rows: list[dict] = []
    for name, part in (("dev", split.dev), ("test", split.test)):
        probs = learner.predict_proba(part)
        pred = decide(probs, task)
        result[name] = classification_metrics([e["label"] for e in part], pred, labels)
        if name == "test":
            rows = [
                {"id": e["id"], "text": e["text"], "gold": e["label"], "pred": p,
                 "probs": {lab: round(float(v), 6) for lab, v in zip(labels, row)}}
                for e, p, row in zip(part, pred, probs)
            ]
    return SplitScores(result["dev"], result["test"], rows)


def save_outputs(
    out_dir: str | Path,
    learner,
    scores: SplitScores,
    cfg: Config,
    task: Task,
    data_info: dict,
    save_checkpoint: bool = True,
    train: Sequence[dict] = (),
) -> dict:
    """``metrics.json``, ``predictions.jsonl`` and (optionally) ``checkpoint/`` with its model card.

    A corpus-task checkpoint also gets the speaker attributor learnt from the training records'
    speakers (``speakers.json``), so the checkpoint alone reproduces who said each claim.
    """
    from .reports.modelcard import write_model_card

    out_dir = Path(out_dir)
    metrics = {
        "task": task.name,
        "labels": list(task.labels),
        "kind": cfg.model.kind,
        "dev": scores.dev,
        "test": scores.test,
        "train_seconds": round(learner.train_seconds, 2),
        "num_parameters": learner.num_parameters(),
        "model_size_bytes": learner.size_bytes(),
    }
    write_jsonl(out_dir / "predictions.jsonl", scores.predictions)
    if save_checkpoint:
        kind = get_kind(cfg.model.kind)
        meta = ckpt.CheckpointMeta(
            kind=cfg.model.kind,
            task=task.name,
            labels=list(task.labels),
            preprocess=cfg.data.preprocess.to_dict(),
            max_length=cfg.model.max_length,
            base_model=cfg.model.name_or_path if "name_or_path" in kind.uses else None,
            source=getattr(learner, "source", None),
        )
        # Written into a temporary folder renamed to checkpoint/ once complete: a crash or a full
        # disk while saving never leaves a checkpoint/ that looks loadable.
        with atomic_folder(out_dir / "checkpoint") as directory:
            if task.is_corpus_task:
                from .speakers import SPEAKERS_FILE, SpeakerAttributor

                SpeakerAttributor.fit([e for e in train if e.get("speaker")]).save(directory)
                meta.extras["speakers"] = SPEAKERS_FILE
            learner.save(directory, meta)
            if metrics["model_size_bytes"] is None:
                metrics["model_size_bytes"] = ckpt.checkpoint_size_bytes(directory)
            write_model_card(directory, cfg, meta, metrics, data_info)
    write_json(out_dir / "metrics.json", metrics)
    learner.cleanup()
    return metrics


def summarize_folds(fold_metrics: Sequence[dict], task: Task) -> dict:
    """Top-level metrics.json of a --cv run: per-fold dev/test and mean ± std (population std) of the test scores."""
    summary = fold_mean_std([f["test"] for f in fold_metrics], HEADLINE_METRICS)
    return {
        "task": task.name,
        "labels": list(task.labels),
        "cv": len(fold_metrics),
        "folds": [{"dev": f["dev"], "test": f["test"]} for f in fold_metrics],
        **summary,
        "train_seconds": round(sum(f.get("train_seconds", 0.0) for f in fold_metrics), 2),
    }


def format_metrics(metrics: dict) -> str:
    """One line for the terminal: test (or mean ± std over folds) accuracy and macro-F1."""
    if "cv" in metrics:
        m, s = metrics["mean"], metrics["std"]
        return f"{metrics['cv']}-fold test: " + "  ".join(f"{k}={m[k]:.4f}±{s[k]:.4f}" for k in m)
    t = metrics["test"]
    return "test: " + "  ".join(f"{k}={t[k]:.4f}" for k in HEADLINE_METRICS if k in t) + f"  (n={t['n']})"


def summary_line(fold_dirs: Sequence[str | Path], labels: Sequence[str]) -> str:
    """The run's closing line: its test scores with 95 % bootstrap intervals (1000 resamples, seed 0, as
    ``evaluate.py`` computes them) for macro-F1 and F_avg, over the folds' pooled test predictions."""
    rows = [r for d in fold_dirs for r in read_jsonl(Path(d) / "predictions.jsonl")]
    gold, pred = [r["gold"] for r in rows], [r["pred"] for r in rows]
    metrics = classification_metrics(gold, pred, list(labels))
    ci = bootstrap_ci(gold, pred, list(labels))
    parts = []
    for k in ("macro_f1", "f_avg", "accuracy", "claim_f1"):
        if k not in metrics:
            continue
        interval = ci.get(k) if k in ("macro_f1", "f_avg") else None
        parts.append(f"{k} {metrics[k]:.3f}" + (f" [{interval['low']:.3f}, {interval['high']:.3f}]"
                                                  if interval and interval["low"] is not None else ""))
    where = f"pooled over {len(fold_dirs)} folds, " if len(fold_dirs) > 1 else ""
    return f"test ({where}n={len(rows)}; 95% bootstrap intervals): " + "  ".join(parts)
