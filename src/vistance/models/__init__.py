"""Model kinds. A kind is one module in this package that ends with ``register(ModelKind(...))``:
its learner (fit on examples, then save a checkpoint), its predictor (load that checkpoint, return
probabilities for raw sentences), and optionally a dataclass of its own options, which the config
then holds under ``model.<section>`` (``model.baseline.C``, ``model.tiny.hidden_size``, ...).

Adding a kind is one new module here and one file in ``configs/``: ``train.py``, ``evaluate.py``,
``StanceClassifier``, ``serve`` and ``annotate rank`` find it through :func:`get_kind`. Code outside
the package (a test, a plugin) can :func:`register` a kind too.

Kind modules must stay cheap to import (no torch at module level): the config schema imports
every one of them to learn their option sections.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class ModelKind:
    name: str
    learner: type
    """``learner(cfg, task, out_dir, train_examples)``: ``fit``, ``predict_proba``, ``save`` (see :mod:`.base`)."""
    predictor: type
    """``predictor(path, meta)``: a :class:`vistance.models.base.Predictor` for a saved checkpoint."""
    options: type | None = None
    """Dataclass of this kind's own settings, validated in ``__post_init__``; held at ``model.<section>``."""
    section: str | None = None
    """Config section of ``options`` (default: the kind's name)."""
    uses: tuple[str, ...] = ()
    """Shared ``model.*`` keys this kind reads (``name_or_path``, ``max_length``, ``dropout``); comparisons
    show only these and the kind's own section."""
    trainer_keys: bool = True
    """Whether this kind reads the ``training.*`` hyper-parameters (learning rate, epochs, batch size: the
    Trainer kinds). Every kind reads ``training.seed`` and ``training.cv``; comparisons show the rest only here."""
    description: str = ""
    small_checkpoint: bool = False
    """Keep a checkpoint in every CV fold (cheap for small models; K copies of PhoBERT fill a disk)."""

    @property
    def config_section(self) -> str | None:
        return (self.section or self.name) if self.options is not None else None


_KINDS: dict[str, ModelKind] = {}
_discovered = False


def register(kind: ModelKind) -> ModelKind:
    """Make ``kind`` available to configs, training and loading (replaces a kind of the same name)."""
    if kind.config_section and not kind.config_section.isidentifier():
        raise ValueError(f"model kind {kind.name!r}: config section {kind.config_section!r} is not an identifier")
    _KINDS[kind.name] = kind
    return kind


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def kinds() -> dict[str, ModelKind]:
    """Every registered kind, by name (the package's own modules are imported on first call)."""
    _discover()
    return dict(_KINDS)


def get_kind(name: str) -> ModelKind:
    found = kinds().get(name)
    if found is None:
        raise ConfigError(f"model.kind must be one of {', '.join(sorted(_KINDS))}, not {name!r}")
    return found
