"""Training and evaluating one model on one split; ``train.py`` strings these steps together.

* Data: the labelled corpus for a task (``joint``/``claim``/``stance``) or any CSV/JSONL with a
  text and a label column (task ``custom``, labels taken from the data).
* Splits: grouped by near-duplicate text and stratified (``vistance.data``), or the files' own
  train/dev/test, or K grouped folds.
* Learners: :class:`TransformerLearner` (PhoBERT or the tiny RoBERTa, HF ``Trainer`` with a
  class-weighted loss, early stopping on dev macro-F1, dynamic padding with length grouping) and
  :class:`BaselineLearner` (TF-IDF + logistic regression from ``vistance.baseline``). Both read raw
  sentences and apply the one shared preprocessing function themselves.
* Outputs: ``metrics.json``, ``predictions.jsonl`` and ``checkpoint/`` in the run (or fold) folder.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import checkpoint as ckpt
from .config import Config, DataConfig
from .data import (
    TASK_LABELS,
    Split,
    expand_files,
    grouped_kfold,
    grouped_split,
    iter_jsonl,
    load_corpus,
    task_examples,
    write_jsonl,
)
from .metrics import HEADLINE_METRICS, classification_metrics, fold_mean_std
from .runs import write_json
from .text import PreprocessConfig, Preprocessor

SUMMARY_METRICS = HEADLINE_METRICS
"""The scalar metrics reported per epoch, per fold and as mean ± std over folds."""


class DataError(ValueError):
    """A data file cannot be used for training; the message is one line naming the file."""


# --------------------------------------------------------------------------- data


@dataclass
class TaskData:
    task: str
    """joint, claim, stance, or custom (a CSV/JSONL with its own labels)."""
    labels: list[str]
    """Label order of the model outputs (config.id2label)."""
    files: list[str]
    """Every file read, for data.json's hashes."""
    examples: list[dict] = field(default_factory=list)
    """All examples (each with id, text, label)."""
    given_split: Split | None = None
    """The files' own train/dev/test (custom data with dev_file and test_file)."""


def _label_order(labels: set[str]) -> list[str]:
    """Numeric labels in numeric order (0, 1, 2, 10), anything else alphabetically."""
    try:
        return sorted(labels, key=lambda s: float(s))
    except ValueError:
        return sorted(labels)


def read_table(path: str | Path, text_column: str, label_column: str, split: str) -> list[dict]:
    """Rows of a CSV/TSV/JSONL file as ``{id, text, label}`` (labels as strings)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    if path.suffix not in (".jsonl", ".json", ".csv", ".tsv"):
        raise DataError(f"{path}: unsupported file type {path.suffix!r} (use .csv, .tsv or .jsonl)")
    try:
        if path.suffix in (".jsonl", ".json"):
            rows = [obj for _, obj in iter_jsonl(path, error=DataError)]
        else:
            with path.open(encoding="utf-8-sig", newline="") as f:
                rows = list(csv.DictReader(f, delimiter="\t" if path.suffix == ".tsv" else ","))
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 ({e.reason} at byte {e.start})") from None
    if not rows:
        raise DataError(f"{path}: no rows")
    for col in (text_column, label_column):
        if col not in rows[0]:
            raise DataError(f"{path}: no column {col!r} (columns: {', '.join(map(str, rows[0]))}); "
                            f"set data.text_column / data.label_column")
    out, skipped = [], 0
    for i, row in enumerate(rows, 1):
        text, label = row.get(text_column), row.get(label_column)
        if text is None or not str(text).strip() or label is None or str(label).strip() == "":
            skipped += 1
            continue
        rid = str(row["id"]) if row.get("id") not in (None, "") else f"{split}-{i:06d}"
        out.append({"id": rid, "text": str(text), "label": str(label).strip()})
    if skipped:
        print(f"warning: {path}: skipped {skipped} row(s) with an empty text or label")
    return out


def load_task_data(cfg: DataConfig) -> TaskData:
    """The examples of the configured task, with their label order."""
    if cfg.train_file:
        parts = {"train": read_table(cfg.train_file, cfg.text_column, cfg.label_column, "train")}
        if bool(cfg.dev_file) != bool(cfg.test_file):
            raise DataError("give both data.dev_file and data.test_file, or neither (train_file is then split)")
        if cfg.dev_file:
            parts["dev"] = read_table(cfg.dev_file, cfg.text_column, cfg.label_column, "dev")
            parts["test"] = read_table(cfg.test_file, cfg.text_column, cfg.label_column, "test")
        labels = _label_order({e["label"] for part in parts.values() for e in part})
        files = [f for f in (cfg.train_file, cfg.dev_file, cfg.test_file) if f]
        if len(labels) < 2:
            raise DataError(f"{', '.join(files)}: column {cfg.label_column!r} holds one label only ({labels[0]!r}); "
                            "a classifier needs at least two")
        examples = [e for part in parts.values() for e in part]
        given = Split(**parts) if cfg.dev_file else None
        return TaskData("custom", labels, files, examples, given)
    try:
        files = [str(p) for p in expand_files(cfg.files)]
    except FileNotFoundError as e:
        raise DataError(str(e)) from None
    examples = task_examples(load_corpus(files), cfg.task)
    if len({e["label"] for e in examples}) < 2:
        raise DataError(f"{', '.join(files)}: task {cfg.task!r} needs examples of at least two labels, "
                        f"found {sorted({e['label'] for e in examples}) or 'none'}")
    # The fixed task order (not the data's) so that checkpoints of one task share id2label.
    return TaskData(cfg.task, list(TASK_LABELS[cfg.task]), files, examples)


def make_splits(data: TaskData, cfg: DataConfig, cv: int = 0) -> list[Split]:
    """One train/dev/test split, or ``cv`` grouped folds (each with its own dev part)."""
    if data.given_split is not None and not cv:
        return [data.given_split]
    try:
        if cv:
            return grouped_kfold(data.examples, cv, seed=cfg.split_seed, dev_size=cfg.dev_size)
        return [grouped_split(data.examples, cfg.dev_size, cfg.test_size, seed=cfg.split_seed)]
    except ValueError as e:  # too few examples or groups for the folds asked for
        raise DataError(f"{', '.join(data.files)}: cannot split {len(data.examples)} examples: {e}") from None


# --------------------------------------------------------------------------- preprocessing (cached)


def cache_dir() -> Path:
    """Where segmented text is cached across runs (``$VISTANCE_CACHE_DIR`` or ``.cache/vistance``)."""
    return Path(os.environ.get("VISTANCE_CACHE_DIR", ".cache/vistance"))


_MEMORY: dict[str, dict[str, str]] = {}


def preprocess_cached(texts: Sequence[str], cfg: PreprocessConfig) -> list[str]:
    """``Preprocessor(cfg)(texts)``, remembered on disk: word segmentation dominates start-up on 10k sentences."""
    key = hashlib.sha256(json.dumps(cfg.to_dict(), sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir() / f"preprocess-{key}.jsonl"
    # Memory keyed by the file, not only the settings: a process that points VISTANCE_CACHE_DIR elsewhere
    # must still read what that folder holds.
    memo = _MEMORY.get(str(path))
    if memo is None:
        memo = {}
        if path.is_file():
            # split("\n"), not splitlines(): json.dumps leaves U+2028 and U+0085 unescaped inside a row.
            for line in path.read_text(encoding="utf-8").split("\n"):
                try:
                    row = json.loads(line)
                    memo[row["t"]] = row["p"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a line cut short by a killed process
        _MEMORY[str(path)] = memo
    missing = list(dict.fromkeys(t for t in texts if t not in memo))
    if missing:
        done = Preprocessor(cfg)(missing)
        memo.update(zip(missing, done))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write("".join(json.dumps({"t": t, "p": p}, ensure_ascii=False) + "\n" for t, p in zip(missing, done)))
    return [memo[t] for t in texts]


# --------------------------------------------------------------------------- learners


def class_weights(label_ids: Sequence[int], n_labels: int) -> list[float]:
    """Balanced weights n / (k * count): a rare class's errors count as much as a frequent one's."""
    counts = collections.Counter(label_ids)
    present = [c for c in range(n_labels) if counts[c]]
    n = sum(counts.values())
    return [n / (len(present) * counts[c]) if counts[c] else 1.0 for c in range(n_labels)]


def scalar_metrics(metrics: dict) -> dict:
    return {k: metrics[k] for k in SUMMARY_METRICS if k in metrics}


def _weighted_trainer_class():
    import torch
    from transformers import Trainer

    class WeightedLossTrainer(Trainer):
        """``Trainer`` whose cross-entropy weights each class (the joint task is mostly not_claim)."""

        def __init__(self, *args, class_weights: Sequence[float] | None = None, **kwargs):
            super().__init__(*args, **kwargs)
            self.class_weights = None if class_weights is None else torch.tensor(class_weights, dtype=torch.float32)
            # Our loss is a per-batch mean, so the Trainer must divide it by the accumulation steps.
            self.model_accepts_loss_kwargs = False

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            logits = outputs.logits.float()
            weight = None if self.class_weights is None else self.class_weights.to(logits.device)
            loss = torch.nn.functional.cross_entropy(logits, labels, weight=weight)
            return (loss, outputs) if return_outputs else loss

    return WeightedLossTrainer


class TransformerLearner:
    """PhoBERT (or any sequence classifier) / the tiny RoBERTa, fine-tuned with the HF Trainer.

    ``out_dir`` receives ``tokenizer/`` (tiny), ``trainer/`` (Trainer checkpoints, for --resume),
    ``logs/`` (TensorBoard) and ``.cache/`` (tokenised datasets).
    """

    def __init__(self, cfg: Config, labels: Sequence[str], out_dir: str | Path, train_texts: Sequence[str] = ()):
        """Seed first (``transformers.set_seed``): the random init and the new classifier head draw from it."""
        from .modeling import load_model

        self.cfg, self.labels, self.out_dir = cfg, list(labels), Path(out_dir)
        self.preprocess = cfg.data.preprocess
        pre = preprocess_cached(list(train_texts), self.preprocess) if cfg.model.kind == "tiny" else ()
        self.model, self.tokenizer = load_model(cfg.model, self.labels, pre, self.out_dir / "tokenizer")
        self.trainer = None
        self.train_seconds = 0.0

    # -- data

    def _fingerprint(self) -> str:
        h = hashlib.sha256()
        settings = [self.cfg.model.max_length, self.preprocess.to_dict(), self.cfg.model.name_or_path]
        h.update(json.dumps(settings).encode())
        h.update(json.dumps(self.tokenizer.get_vocab(), sort_keys=True, ensure_ascii=False).encode())
        return h.hexdigest()[:16]

    def dataset(self, examples: Sequence[dict], name: str):
        """Tokenised ``datasets.Dataset`` (input_ids, attention_mask, labels), cached in ``out_dir/.cache``.

        No padding here: ``DataCollatorWithPadding`` pads each batch to its own longest sentence.
        """
        from datasets import Dataset

        texts = preprocess_cached([e["text"] for e in examples], self.preprocess)
        label2id = {lab: i for i, lab in enumerate(self.labels)}
        label_ids = [label2id.get(e.get("label"), -100) for e in examples]
        h = hashlib.sha256((self._fingerprint() + json.dumps([texts, label_ids], ensure_ascii=False)).encode())
        cache = self.out_dir / ".cache" / f"{name}-{h.hexdigest()[:16]}.arrow"
        cache.parent.mkdir(parents=True, exist_ok=True)
        max_length = self.cfg.model.max_length

        def tokenize(batch):
            return self.tokenizer(batch["text"], truncation=True, max_length=max_length)

        ds = Dataset.from_dict({"text": texts, "labels": label_ids})
        return ds.map(
            tokenize, batched=True, remove_columns=["text"], cache_file_name=str(cache),
            new_fingerprint=h.hexdigest()[:16], desc=f"tokenize {name}",
        )

    # -- training

    def training_arguments(self):
        from transformers import TrainingArguments

        t = self.cfg.training
        return TrainingArguments(
            output_dir=str(self.out_dir / "trainer"),
            eval_strategy="epoch",
            save_strategy="epoch",
            logging_strategy="steps",
            logging_steps=t.logging_steps,
            load_best_model_at_end=True,
            metric_for_best_model=t.metric_for_best_model,
            greater_is_better=True,
            learning_rate=t.learning_rate,
            num_train_epochs=t.num_train_epochs,
            per_device_train_batch_size=t.per_device_train_batch_size,
            per_device_eval_batch_size=t.per_device_eval_batch_size,
            gradient_accumulation_steps=t.gradient_accumulation_steps,
            weight_decay=t.weight_decay,
            warmup_steps=t.warmup_ratio,  # a float < 1 is a fraction of the total steps
            lr_scheduler_type="linear",
            optim="adamw_torch",
            seed=t.seed,
            data_seed=t.seed,
            train_sampling_strategy="group_by_length" if t.group_by_length else "random",
            fp16=t.fp16,
            bf16=t.bf16,
            use_cpu=t.use_cpu,
            dataloader_num_workers=t.dataloader_num_workers,
            save_total_limit=t.save_total_limit,
            report_to=["tensorboard"],
            disable_tqdm=False,
        )

    def compute_metrics(self, eval_pred) -> dict:
        logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
        gold = [self.labels[i] for i in eval_pred.label_ids]
        pred = [self.labels[i] for i in np.asarray(logits).argmax(-1)]
        return scalar_metrics(classification_metrics(gold, pred, self.labels))

    def fit(self, train: Sequence[dict], dev: Sequence[dict], resume: bool = False, callbacks: Sequence = ()):
        from transformers import DataCollatorWithPadding, EarlyStoppingCallback
        from transformers.integrations import TensorBoardCallback
        from transformers.trainer_utils import get_last_checkpoint

        train_ds, dev_ds = self.dataset(train, "train"), self.dataset(dev, "dev")
        trainer_cls = _weighted_trainer_class()
        weights = class_weights(train_ds["labels"], len(self.labels)) if self.cfg.training.class_weighting else None
        self.trainer = trainer = trainer_cls(
            model=self.model,
            args=self.training_arguments(),
            train_dataset=train_ds,
            eval_dataset=dev_ds,
            data_collator=DataCollatorWithPadding(self.tokenizer),
            processing_class=self.tokenizer,
            compute_metrics=self.compute_metrics,
            callbacks=[EarlyStoppingCallback(self.cfg.training.early_stopping_patience), *callbacks],
            class_weights=weights,
        )
        for cb in trainer.callback_handler.callbacks:
            if isinstance(cb, TensorBoardCallback):
                cb.logging_dir = str(self.out_dir / "logs")
        last = None
        trainer_dir = self.out_dir / "trainer"
        if resume and trainer_dir.is_dir():
            last = get_last_checkpoint(str(trainer_dir))
            print(f"resuming from {last}" if last else "no Trainer checkpoint to resume from: training from the start")
        start = time.time()
        trainer.train(resume_from_checkpoint=last)
        self.train_seconds = time.time() - start
        trainer.state.save_to_json(str(self.out_dir / "trainer_state.json"))
        return self

    # -- prediction and saving

    def predict_proba(self, examples: Sequence[dict], name: str = "") -> np.ndarray:
        # Not trainer.predict: with length grouping on, transformers 5 also reorders evaluation
        # batches, and its outputs no longer line up with ``examples``.
        texts = preprocess_cached([e["text"] for e in examples], self.preprocess)
        return ckpt.classifier_proba(
            self.trainer.model, self.tokenizer, texts, self.cfg.model.max_length,
            self.cfg.training.per_device_eval_batch_size,
        )

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def size_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.model.parameters())

    def save(self, directory: Path, meta: ckpt.CheckpointMeta) -> None:
        ckpt.save_transformer(directory, self.trainer.model, self.tokenizer, meta)

    def cleanup(self) -> None:
        """Trainer checkpoints (weights + optimizer state) only serve --resume; drop them once the run is saved."""
        shutil.rmtree(self.out_dir / "trainer", ignore_errors=True)


class BaselineLearner:
    """TF-IDF word + character n-grams and class-weighted logistic regression (``vistance.baseline``)."""

    def __init__(self, cfg: Config, labels: Sequence[str], out_dir: str | Path, train_texts: Sequence[str] = ()):
        from .baseline import BaselineClassifier

        self.cfg, self.task_labels, self.out_dir = cfg, list(labels), Path(out_dir)
        self.preprocess = cfg.data.preprocess
        self.classifier = BaselineClassifier(cfg.model.baseline)
        self.train_seconds = 0.0

    @property
    def labels(self) -> list[str]:
        """Column order of predict_proba: the classifier's (only labels seen in training)."""
        return list(self.classifier.labels)

    def fit(self, train: Sequence[dict], dev: Sequence[dict], resume: bool = False, callbacks: Sequence = ()):
        texts = preprocess_cached([e["text"] for e in train], self.preprocess)
        dev_texts = preprocess_cached([e["text"] for e in dev], self.preprocess)
        start = time.time()
        labels, dev_labels = [e["label"] for e in train], [e["label"] for e in dev]
        self.classifier.fit(texts, labels, dev_texts=dev_texts, dev_labels=dev_labels)
        self.train_seconds = time.time() - start
        return self

    def predict_proba(self, examples: Sequence[dict], name: str = "") -> np.ndarray:
        if not examples:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        texts = preprocess_cached([e["text"] for e in examples], self.preprocess)
        return np.asarray(self.classifier.predict_proba(texts), dtype=np.float32)

    def num_parameters(self) -> int:
        return self.classifier.num_parameters()

    def size_bytes(self) -> int | None:
        # Measured on the saved checkpoint instead: serialising a 200k-term vocabulary just to
        # count its bytes costs minutes on UIT-VSFC.
        return None

    def save(self, directory: Path, meta: ckpt.CheckpointMeta) -> None:
        ckpt.save_baseline(directory, self.classifier, meta)

    def cleanup(self) -> None:
        pass


def make_learner(cfg: Config, labels: Sequence[str], out_dir: str | Path, train: Sequence[dict]):
    """The model of ``cfg.model.kind``, ready to fit (``train`` is needed up front to learn the tiny vocabulary)."""
    cls = BaselineLearner if cfg.model.kind == "baseline" else TransformerLearner
    return cls(cfg, labels, out_dir, [e["text"] for e in train])


# --------------------------------------------------------------------------- evaluation and outputs


@dataclass
class Evaluation:
    dev: dict
    test: dict
    predictions: list[dict]
    """One row per test example: id, text, gold, pred, probs {label: p}."""


def evaluate(learner, split: Split, labels: Sequence[str]) -> Evaluation:
    """Dev and test metrics over the task's labels, and the test predictions."""
    result = {}
    rows: list[dict] = []
    for name, part in (("dev", split.dev), ("test", split.test)):
        probs = learner.predict_proba(part, name)
        outputs = learner.labels
        pred = [outputs[i] for i in probs.argmax(-1)] if len(part) else []
        result[name] = classification_metrics([e["label"] for e in part], pred, labels)
        if name == "test":
            rows = [
                {"id": e["id"], "text": e["text"], "gold": e["label"], "pred": p,
                 "probs": {lab: round(float(v), 6) for lab, v in zip(outputs, row)}}
                for e, p, row in zip(part, pred, probs)
            ]
    return Evaluation(result["dev"], result["test"], rows)


def save_outputs(
    out_dir: str | Path,
    learner,
    evaluation: Evaluation,
    cfg: Config,
    task: str,
    labels: Sequence[str],
    data_info: dict,
    save_checkpoint: bool = True,
) -> dict:
    """``metrics.json``, ``predictions.jsonl`` and (optionally) ``checkpoint/`` with its model card."""
    from .modelcard import write_model_card

    out_dir = Path(out_dir)
    metrics = {
        "task": task,
        "labels": list(labels),
        "kind": cfg.model.kind,
        "dev": evaluation.dev,
        "test": evaluation.test,
        "train_seconds": round(learner.train_seconds, 2),
        "num_parameters": learner.num_parameters(),
        "model_size_bytes": learner.size_bytes(),
    }
    write_jsonl(out_dir / "predictions.jsonl", evaluation.predictions)
    if save_checkpoint:
        meta = ckpt.CheckpointMeta(
            kind=cfg.model.kind,
            task=task,
            labels=learner.labels,
            preprocess=cfg.data.preprocess.to_dict(),
            max_length=cfg.model.max_length,
            base_model=cfg.model.name_or_path if cfg.model.kind == "transformer" else None,
        )
        directory = out_dir / "checkpoint"
        learner.save(directory, meta)
        if metrics["model_size_bytes"] is None:
            metrics["model_size_bytes"] = ckpt.checkpoint_size_bytes(directory)
        write_model_card(directory, cfg, meta, metrics, data_info)
    write_json(out_dir / "metrics.json", metrics)
    learner.cleanup()
    return metrics


def summarize_folds(fold_metrics: Sequence[dict], task: str, labels: Sequence[str]) -> dict:
    """Top-level metrics.json of a --cv run: per-fold dev/test and mean ± std (population std) of the test scores."""
    summary = fold_mean_std([f["test"] for f in fold_metrics], SUMMARY_METRICS)
    return {
        "task": task,
        "labels": list(labels),
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
    return "test: " + "  ".join(f"{k}={t[k]:.4f}" for k in SUMMARY_METRICS if k in t) + f"  (n={t['n']})"


