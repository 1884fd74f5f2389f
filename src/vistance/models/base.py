"""What every model kind provides: a learner that trains and saves, and a predictor that loads.

A **learner** is built as ``Learner(cfg, task, out_dir, train_examples)`` and has

* ``fit(train, dev, resume=False, callbacks=())`` on example dicts (``text``, ``label``),
* ``predict_proba(examples) -> ndarray (n, len(task.labels))``, columns in the task's label order,
* ``train_seconds``, ``num_parameters()``, ``size_bytes()`` (None: measured on the saved checkpoint),
* ``save(directory, meta)`` writing the model files plus ``vistance.json``, and ``cleanup()``.

A **predictor** (subclass :class:`Predictor`) is built as ``Predictor(path, meta)`` from a saved
checkpoint and turns raw sentences into probabilities in the same order, replaying the
checkpoint's preprocessing. :class:`Learner` holds the parts every learner shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..decision import Decision
from ..tasks import Task, get_task
from ..text import PreprocessConfig, Preprocessor, preprocess_cached


class Learner:
    """Shared parts of a learner: task labels, preprocessing, timing; kinds override the rest."""

    def __init__(self, cfg, task: Task, out_dir: str | Path, train: Sequence[dict] = ()):
        self.cfg, self.task, self.out_dir = cfg, task, Path(out_dir)
        self.labels: list[str] = list(task.labels)
        self.preprocess: PreprocessConfig = cfg.data.preprocess
        self.train_seconds = 0.0

    def texts(self, examples: Sequence[dict]) -> list[str]:
        """Model input for ``examples``: the one shared preprocessing, cached across runs."""
        return preprocess_cached([e["text"] for e in examples], self.preprocess)

    def context_texts(self, examples: Sequence[dict]) -> list[str]:
        """The examples' article context (``context``, vistance.data.context) through the same preprocessing;
        "" where there is none."""
        raw = [e.get("context") or "" for e in examples]
        done = preprocess_cached([c for c in raw if c], self.preprocess)
        it = iter(done)
        return [next(it) if c else "" for c in raw]

    def fit(self, train: Sequence[dict], dev: Sequence[dict], resume: bool = False, callbacks: Sequence = ()):
        raise NotImplementedError

    def predict_proba(self, examples: Sequence[dict]) -> np.ndarray:
        raise NotImplementedError

    def num_parameters(self) -> int:
        return 0

    def size_bytes(self) -> int | None:
        return None

    def save(self, directory: Path, meta) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        """Drop what only served training or --resume once the checkpoint is saved."""


class Predictor:
    """Raw sentences in, class probabilities out; preprocessing replayed from ``vistance.json``."""

    def __init__(self, path: Path, meta):
        self.path = Path(path)
        self.meta = meta
        self.labels: list[str] = list(meta.labels)
        self.task: Task = get_task(meta.task, meta.labels)
        self.kind: str = meta.kind
        self.max_length: int = int(meta.max_length)
        self.preprocess: PreprocessConfig = PreprocessConfig.from_dict(meta.preprocess)
        self._preprocessor = Preprocessor(self.preprocess)
        extras = getattr(meta, "extras", None) or {}
        decision = dict(getattr(meta, "decision", None) or {})
        if "claim_threshold" not in decision and "claim_threshold" in extras:  # checkpoints before vistance.decision
            decision["claim_threshold"] = extras["claim_threshold"]
        self.decision: Decision = Decision.from_dict(decision)
        """The shipped decision: predict_proba returns probabilities calibrated by its temperature."""
        self.reads_context: bool = False
        """True for checkpoints that read each sentence's article context beside it (vistance.data.context)."""

    def prepare(self, texts: Sequence[str]) -> list[str]:
        """Raw sentences -> this checkpoint's model input (the saved NFC + segmentation settings)."""
        return self._preprocessor(list(texts))

    def predict_proba(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: bool = False,
        prepared: bool = False,
        calibrated: bool = True,
        contexts: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Probabilities (n, len(labels)) for raw ``texts``, calibrated by the checkpoint's temperature
        (``calibrated=False``: the model's own); ``prepared=True``: texts already went through
        :meth:`prepare` (lets a cascade of checkpoints with the same settings segment once). ``contexts``:
        each text's raw article context ("" or None: none); read only by checkpoints that read context."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        model_input = texts if prepared else self.prepare(texts)
        if self.reads_context:
            raw = [c or "" for c in (contexts or [""] * len(texts))]
            if len(raw) != len(texts):
                raise ValueError(f"{len(texts)} texts but {len(raw)} contexts")
            done = iter(self.prepare([c for c in raw if c]))
            probs = self._predict_proba_context(
                model_input, [next(done) if c else "" for c in raw], batch_size, progress
            )
        else:
            probs = self._predict_proba(model_input, batch_size, progress)
        return self.decision.calibrate(probs) if calibrated else probs

    def _predict_proba(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        raise NotImplementedError

    def _predict_proba_context(
        self, texts: list[str], contexts: list[str], batch_size: int, progress: bool
    ) -> np.ndarray:
        """Kinds that read context (``reads_context``) implement this; ``contexts`` are prepared, "" for none."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={str(self.path)!r}, task={self.task.name!r}, labels={self.labels})"
