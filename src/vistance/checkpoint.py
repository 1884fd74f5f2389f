"""Self-describing checkpoints: how they are written and how any of them is loaded for prediction.

A checkpoint folder holds the model, its tokenizer (or the baseline's arrays), a generated model
card and ``vistance.json``, which records what a loader must replay: the task, the labels in the
order the model outputs them, the preprocessing (segmenter, normal form) and the max length.
Inference reads these instead of re-choosing them, so train-time and predict-time input match.

``load_predictor(path)`` accepts a checkpoint folder or a run folder (``<run>/checkpoint``) and
returns a :class:`Predictor` whose ``predict_proba`` takes raw sentences.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .text import PreprocessConfig, Preprocessor

META_FILE = "vistance.json"
CARD_FILE = "README.md"
KINDS = ("transformer", "tiny", "baseline")


class CheckpointError(ValueError):
    """A path is not a loadable checkpoint (or the run that should hold one did not finish)."""


@dataclass
class CheckpointMeta:
    """The contents of ``vistance.json``."""

    kind: str
    """transformer, tiny or baseline: which predictor class loads the folder."""
    task: str
    """joint, claim, stance, or custom (a CSV/JSONL with its own labels)."""
    labels: list[str]
    """Label names in the order of the model's outputs (== config.id2label for transformers)."""
    preprocess: dict = field(default_factory=lambda: PreprocessConfig().to_dict())
    """PreprocessConfig.to_dict(): replayed on raw text before tokenisation."""
    max_length: int = 256
    """Token limit; longer input is truncated, never rejected."""
    base_model: str | None = None
    """model.name_or_path the weights were fine-tuned from (None for the baseline and tiny)."""
    vistance_version: str = __version__

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CheckpointError(f"unknown checkpoint kind {self.kind!r} (expected one of {', '.join(KINDS)})")
        if not self.labels:
            raise CheckpointError("a checkpoint needs at least one label")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CheckpointMeta:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def write_meta(directory: str | Path, meta: CheckpointMeta) -> Path:
    path = Path(directory) / META_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def read_meta(directory: str | Path) -> CheckpointMeta:
    path = Path(directory) / META_FILE
    try:
        return CheckpointMeta.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise CheckpointError(f"{directory}: no {META_FILE}; not a vistance checkpoint") from None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, AttributeError) as e:  # JSON but not an object
        raise CheckpointError(f"{path}: unreadable ({e})") from None


# --------------------------------------------------------------------------- saving


def save_transformer(directory: str | Path, model, tokenizer, meta: CheckpointMeta, card: str | None = None) -> Path:
    """``save_pretrained`` model and tokenizer, then ``vistance.json`` and the model card.

    The model's ``config.id2label`` must already list ``meta.labels`` in order: that is what lets
    plain ``transformers`` (``pipeline``) decode the outputs without vistance.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    if [id2label[i] for i in range(len(id2label))] != list(meta.labels):
        raise CheckpointError(f"model id2label {id2label} does not match labels {meta.labels}")
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    write_meta(directory, meta)
    if card is not None:
        (directory / CARD_FILE).write_text(card, encoding="utf-8")
    return directory


def save_baseline(directory: str | Path, classifier, meta: CheckpointMeta, card: str | None = None) -> Path:
    """The baseline writes its own files (``model.skops`` ...); we add ``vistance.json`` and the card."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if list(classifier.labels) != list(meta.labels):
        raise CheckpointError(f"baseline labels {list(classifier.labels)} do not match {meta.labels}")
    classifier.save(directory)
    write_meta(directory, meta)
    if card is not None:
        (directory / CARD_FILE).write_text(card, encoding="utf-8")
    return directory


def checkpoint_size_bytes(directory: str | Path) -> int:
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())


# --------------------------------------------------------------------------- loading


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder itself, or ``<run>/checkpoint`` of a complete run folder."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such file or directory")
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


class Predictor:
    """Raw sentences in, class probabilities out; preprocessing replayed from ``vistance.json``."""

    def __init__(self, path: Path, meta: CheckpointMeta):
        self.path = Path(path)
        self.meta = meta
        self.labels: list[str] = list(meta.labels)
        self.task: str = meta.task
        self.kind: str = meta.kind
        self.max_length: int = int(meta.max_length)
        self.preprocess: PreprocessConfig = PreprocessConfig.from_dict(meta.preprocess)
        self._preprocessor = Preprocessor(self.preprocess)

    def prepare(self, texts: Sequence[str]) -> list[str]:
        """Raw sentences -> this checkpoint's model input (the saved NFC + segmentation settings)."""
        return self._preprocessor(list(texts))

    def predict_proba(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False, prepared: bool = False
    ) -> np.ndarray:
        """Probabilities (n, len(labels)) for raw ``texts``; ``prepared=True``: texts already went through
        :meth:`prepare` (lets a cascade of checkpoints with the same settings segment once)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return self._predict_proba(texts if prepared else self.prepare(texts), batch_size, progress)

    def _predict_proba(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={str(self.path)!r}, task={self.task!r}, labels={self.labels})"


class TransformerPredictor(Predictor):
    """A ``save_pretrained`` sequence classifier (PhoBERT, any hub model, or the tiny RoBERTa)."""

    def __init__(self, path: Path, meta: CheckpointMeta, device: str | None = None):
        super().__init__(path, meta)
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForSequenceClassification.from_pretrained(path).to(self.device).eval()
        id2label = {int(k): v for k, v in self.model.config.id2label.items()}
        if [id2label.get(i) for i in range(len(self.labels))] != self.labels:
            raise CheckpointError(f"{path}: config.id2label {id2label} disagrees with {META_FILE} labels {self.labels}")

    def _predict_proba(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        return classifier_proba(self.model, self.tokenizer, texts, self.max_length, batch_size, progress)


def length_batches(lengths: Sequence[int], batch_size: int, max_padding: float = 0.2) -> list[np.ndarray]:
    """Indices of ``lengths`` grouped into batches of similar length, shortest first.

    Sorted batches of a fixed size still pad badly at the tail: one 256-token paragraph among
    30-token sentences pads its whole batch to 256 (on the corpus sentences a third of the
    compute went to padding). So a batch also closes when the next, longer, item would make
    padding exceed ``max_padding`` of its real tokens; a batch never holds more than ``batch_size``.
    """
    order = np.argsort(np.asarray(lengths), kind="stable")
    batches, start, real = [], 0, 0
    for k, i in enumerate(order):
        n = k - start
        if n and (n >= batch_size or (n + 1) * lengths[i] > (1 + max_padding) * (real + lengths[i])):
            batches.append(order[start:k])
            start, real = k, 0
        real += lengths[i]
    if len(order):
        batches.append(order[start:])
    return batches


def classifier_proba(model, tokenizer, texts: Sequence[str], max_length: int, batch_size: int = 32,
                     progress: bool = False) -> np.ndarray:
    """Softmax outputs of a sequence classifier for already-preprocessed ``texts``, in input order.

    Shared by the predictor and by training's dev/test evaluation, so the reported metrics come
    from the code path that serves the checkpoint.
    """
    import torch
    from tqdm.auto import tqdm

    n_labels = model.config.num_labels
    if not texts:
        return np.zeros((0, n_labels), dtype=np.float32)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    enc = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    # Batches of similar length pad little: far less wasted compute.
    batches = length_batches([len(ids) for ids in enc], batch_size)
    out = np.zeros((len(enc), n_labels), dtype=np.float32)
    try:
        with torch.inference_mode():
            for idx in tqdm(batches, desc="predict", disable=not progress, unit="batch"):
                batch = tokenizer.pad({"input_ids": [enc[i] for i in idx]}, return_tensors="pt")
                batch = {k: v.to(device) for k, v in batch.items()}
                logits = model(**batch).logits.float()
                out[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
    finally:
        model.train(was_training)
    return out


class BaselinePredictor(Predictor):
    """The TF-IDF + logistic-regression baseline (``vistance.baseline.BaselineClassifier``)."""

    def __init__(self, path: Path, meta: CheckpointMeta):
        super().__init__(path, meta)
        from .baseline import BaselineClassifier

        self.classifier = BaselineClassifier.load(path)
        if list(self.classifier.labels) != self.labels:
            raise CheckpointError(f"{path}: baseline labels {list(self.classifier.labels)} != {self.labels}")

    def _predict_proba(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        return np.asarray(self.classifier.predict_proba(texts), dtype=np.float32)


def load_predictor(path: str | Path, device: str | None = None) -> Predictor:
    """Load a checkpoint folder or a complete run folder for prediction on raw text."""
    directory = resolve_checkpoint(path)
    meta = read_meta(directory)
    if meta.kind == "baseline":
        return BaselinePredictor(directory, meta)
    return TransformerPredictor(directory, meta, device=device)
