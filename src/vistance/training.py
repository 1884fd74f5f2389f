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
from .decision import Decision
from .errors import DataError
from .metrics import classification_metrics, fold_mean_std
from .metrics.intervals import bootstrap_ci
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
            raise DataError(
                f"{', '.join(files)}: column {cfg.label_column!r} holds one label only "
                f"({task.labels[0]!r}); a classifier needs at least two"
            )
        examples = [e for part in parts.values() for e in part]
        given = Split(**parts) if cfg.dev_file else None
        return TaskData(task, files, examples, given)
    try:
        files = [str(p) for p in expand_files(cfg.files)]
    except FileNotFoundError as e:
        raise DataError(str(e)) from None
    task = TASKS[cfg.task]
    # Each example knows its source (the corpus file's stem) and part (title / lede / body), so the
    # out-of-domain splits can hold a source out and reports can score body sentences apart.
    examples = [
        dict(e, source=Path(f).stem, part=sentence_part(e)) for f in files for e in task.examples(load_corpus(f))
    ]
    if len({e["label"] for e in examples}) < 2:
        raise DataError(
            f"{', '.join(files)}: task {cfg.task!r} needs examples of at least two labels, "
            f"found {sorted({e['label'] for e in examples}) or 'none'}"
        )
    return TaskData(task, files, examples)


def sentence_part(record: dict) -> str:
    """title (a heading or the title line at position 0), lede (the first body sentence) or body; records
    without a ``kind`` (the seed and 2022 files) count as body."""
    from .data.corpus import record_part

    part = record_part(record)
    return "body" if part == "unknown" else part


def make_splits(data: TaskData, cfg: DataConfig, cv: int = 0) -> list[Split]:
    """One train/dev/test split, ``cv`` grouped folds (each with its own dev part), or an out-of-domain
    split (``data.split``: temporal, source, loso); ``data.extra_test`` sources become further test sets."""
    splits = _make_splits(data, cfg, cv)
    if not cfg.train_titles:
        for s in splits:
            s.train = [e for e in s.train if e.get("part") != "title"]
    return splits


def _make_splits(data: TaskData, cfg: DataConfig, cv: int = 0) -> list[Split]:
    if data.given_split is not None and not cv:
        return [data.given_split]
    if cfg.split != "random" or cfg.extra_test:
        return _ood_splits(data, cfg, cv)
    n = len(data.examples)
    if cv and cv > n // 3:
        raise DataError(
            f"--cv {cv}: {n} examples allow at most {max(2, n // 3)} folds (each fold needs a train, dev and test part)"
        )
    try:
        if cv:
            splits = grouped_kfold(data.examples, cv, seed=cfg.split_seed, dev_size=cfg.dev_size)
        else:
            splits = [grouped_split(data.examples, cfg.dev_size, cfg.test_size, seed=cfg.split_seed)]
    except ValueError as e:  # too few examples or groups for the folds asked for
        raise DataError(f"{', '.join(data.files)}: cannot split {n} examples: {e}") from None
    if cv and len(splits) < cv:
        raise DataError(
            f"--cv {cv}: the examples form only {len(splits)} groups of near-duplicates; use --cv "
            f"{len(splits)} or fewer"
        )
    smallest = min(len(s.test) for s in splits)
    if smallest < MIN_TEST_WARNING:
        print(
            f"caution: a test part has only {smallest} examples; its scores will have wide intervals "
            "(label more data, or use --cv)",
            file=sys.stderr,
        )
    return splits


def _ood_splits(data: TaskData, cfg: DataConfig, cv: int) -> list[Split]:
    from .data.splits import leave_one_source_out, source_split, temporal_split

    sources = {e["source"] for e in data.examples}
    unknown = sorted((set(cfg.extra_test) | set(cfg.test_sources)) - sources)
    if unknown:
        raise DataError(
            f"data.extra_test / data.test_sources name {unknown}, not among the corpus files "
            f"({', '.join(sorted(sources))})"
        )
    extra = {s: [e for e in data.examples if e["source"] == s] for s in cfg.extra_test}
    held = [e for part in extra.values() for e in part]
    pool = [e for e in data.examples if e["source"] not in extra]
    try:
        if cfg.split == "temporal":
            splits = [temporal_split(pool, cfg.test_from, cfg.dev_from, cfg.dev_size, held_out=held)]
        elif cfg.split == "source":
            splits = [source_split(pool, cfg.test_sources, cfg.dev_size, cfg.split_seed, held_out=held)]
        elif cfg.split == "loso":
            splits = leave_one_source_out(pool, cfg.dev_size, cfg.split_seed)
        else:  # random, with sources held out
            from .data.splits import _drop_near_copies

            pool = _drop_near_copies(pool, held)
            splits = (
                grouped_kfold(pool, cv, seed=cfg.split_seed, dev_size=cfg.dev_size)
                if cv
                else [grouped_split(pool, cfg.dev_size, cfg.test_size, seed=cfg.split_seed)]
            )
    except ValueError as e:
        raise DataError(f"data.split={cfg.split}: {e}") from None
    for s in splits:
        s.extra = extra
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
    """One row per test example: id, text, gold, pred, probs {label: p} (calibrated, what users get) and
    raw_probs (the model's own), in the task's label order, plus the record's source / part when known."""
    decision: Decision = field(default_factory=Decision)
    """Temperature and claim threshold fitted on dev; saved in the checkpoint."""
    extra: dict = field(default_factory=dict)
    """Further test sets (``data.extra_test``), by name: their metrics under the same decision."""
    test_at_default: dict | None = None
    """Test metrics of the uncalibrated decision at threshold 0.5 (what checkpoints shipped before)."""


def prediction_rows(part: Sequence[dict], pred: Sequence[str], probs, raw, labels: Sequence[str]) -> list[dict]:
    def row(e, p, cal, r):
        out = {
            "id": e["id"],
            "text": e["text"],
            "gold": e["label"],
            "pred": p,
            "probs": {lab: round(float(v), 6) for lab, v in zip(labels, cal)},
            "raw_probs": {lab: round(float(v), 6) for lab, v in zip(labels, r)},
        }
        out.update({k: e[k] for k in ("source", "part", "date", "article") if e.get(k) is not None})
        return out

    return [row(e, p, c, r) for e, p, c, r in zip(part, pred, probs, raw)]


def score_split(learner, split: Split, task: Task, training=None, extra: dict | None = None) -> SplitScores:
    """Fit the decision on dev (``training.calibrate`` / ``tune_threshold``), then dev and test metrics over
    the task's labels under it, and the test predictions; ``extra``: further named test sets."""
    labels = list(task.labels)
    dev_raw = learner.predict_proba(split.dev)
    decision = Decision.fit(
        dev_raw,
        [e["label"] for e in split.dev],
        task,
        calibrate=getattr(training, "calibrate", True),
        tune_threshold=getattr(training, "tune_threshold", True),
        items=split.dev,
    )
    learner.decision = decision
    result, rows, extra_scores, at_default = {}, [], {}, None
    parts = [("dev", split.dev), ("test", split.test)] + [(f"extra:{k}", v) for k, v in (extra or {}).items()]
    for name, part in parts:
        if not part:
            continue
        raw = dev_raw if name == "dev" else learner.predict_proba(part)
        probs = decision.calibrate(raw)
        pred = decision.labels(probs, task, part)  # headings and captions of articles are never claims
        gold = [e["label"] for e in part]
        metrics = classification_metrics(gold, pred, labels)
        if name.startswith("extra:"):
            extra_scores[name[6:]] = metrics
            continue
        result[name] = metrics
        if name == "test":
            rows = prediction_rows(part, pred, probs, raw, labels)
            at_default = classification_metrics(gold, decide(raw, task), labels)
    return SplitScores(result["dev"], result["test"], rows, decision, extra_scores, at_default)


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
        "decision": scores.decision.to_dict(),
        **({"test_at_default_decision": scores.test_at_default} if scores.test_at_default else {}),
        **({"extra_tests": scores.extra} if scores.extra else {}),
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
            decision=scores.decision.to_dict(),
        )
        # Written into a temporary folder renamed to checkpoint/ once complete: a crash or a full
        # disk while saving never leaves a checkpoint/ that looks loadable.
        with atomic_folder(out_dir / "checkpoint") as directory:
            if task.is_corpus_task:
                from .speakers import SPEAKERS_FILE, SpeakerAttributor

                SpeakerAttributor.fit(
                    [e for e in train if e.get("speaker")], attributor=cfg.data.speaker_attributor
                ).save(directory)
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
        parts.append(
            f"{k} {metrics[k]:.3f}"
            + (f" [{interval['low']:.3f}, {interval['high']:.3f}]" if interval and interval["low"] is not None else "")
        )
    where = f"pooled over {len(fold_dirs)} folds, " if len(fold_dirs) > 1 else ""
    return f"test ({where}n={len(rows)}; 95% bootstrap intervals): " + "  ".join(parts)
