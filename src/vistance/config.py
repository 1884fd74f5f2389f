"""Run configuration: one dataclass per concern, filled from a YAML file plus ``--set`` overrides.

A file in ``configs/`` holds only what differs from the defaults below; OmegaConf merges it onto
the typed schema (so a misspelt key or a string where a number belongs fails at load time) and
each dataclass validates its values in ``__post_init__``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .data import TASKS
from .text import PreprocessConfig

MODEL_KINDS = ("transformer", "tiny", "baseline")


@dataclass
class DataConfig:
    files: List[str] = field(default_factory=lambda: ["data/annotated/*.jsonl"])
    """Labelled files or globs in the corpus format (data/GUIDELINES.md); all are concatenated."""
    task: str = "joint"
    """joint (not_claim/favor/against/neutral), claim (binary) or stance (3-way, claims only)."""
    train_file: Optional[str] = None
    """Any CSV/JSONL with a text and a label column. When set, files/task are ignored."""
    dev_file: Optional[str] = None
    test_file: Optional[str] = None
    text_column: str = "text"
    label_column: str = "label"
    dev_size: float = 0.15
    test_size: float = 0.15
    split_seed: int = 42
    """Seed of the grouped, stratified split (kept apart from the training seed on purpose)."""
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"data.task must be one of {', '.join(TASKS)}, not {self.task!r}")
        if not (0 < self.dev_size < 0.5 and 0 < self.test_size < 0.5):
            raise ValueError("data.dev_size and data.test_size must be between 0 and 0.5")
        if self.train_file is None and not self.files:
            raise ValueError("give data.files (corpus format) or data.train_file (CSV/JSONL)")
        if isinstance(self.preprocess, dict):
            self.preprocess = PreprocessConfig.from_dict(self.preprocess)


@dataclass
class BaselineConfig:
    word_ngrams: List[int] = field(default_factory=lambda: [1, 3])
    char_ngrams: List[int] = field(default_factory=lambda: [2, 5])
    min_df: int = 1
    max_features: Optional[int] = 200_000
    C: float = 10.0
    """Inverse regularisation of the logistic regression."""
    class_weight: Optional[str] = "balanced"
    sublinear_tf: bool = True
    C_grid: List[float] = field(default_factory=list)
    """C values tried on the dev set when one is given (best dev macro-F1 wins); empty: always use C."""


@dataclass
class TinyConfig:
    """A randomly initialised RoBERTa small enough to train on CPU in seconds (tests, quickstart)."""

    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 128
    bpe_merges: int = 2000
    """Merges learnt for the tiny PhoBERT-format tokenizer (bpe.codes) from the training sentences."""


@dataclass
class ModelConfig:
    kind: str = "transformer"
    """transformer (PhoBERT or any local/hub checkpoint), tiny (random RoBERTa) or baseline (TF-IDF + LR)."""
    name_or_path: str = "vinai/phobert-base-v2"
    """Hub id or local directory with PhoBERT weights (config.json, model weights, vocab.txt, bpe.codes)."""
    max_length: int = 256
    """PhoBERT has 258 positions: 256 tokens is the hard limit, longer input is truncated."""
    dropout: Optional[float] = None
    """Override the classifier/hidden dropout of the pre-trained config."""
    tiny: TinyConfig = field(default_factory=TinyConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"model.kind must be one of {', '.join(MODEL_KINDS)}, not {self.kind!r}")
        if not 8 <= self.max_length <= 256:
            raise ValueError("model.max_length must be between 8 and 256 (PhoBERT's position limit)")


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

    def __post_init__(self) -> None:
        if self.learning_rate <= 0 or self.num_train_epochs <= 0:
            raise ValueError("training.learning_rate and training.num_train_epochs must be positive")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError("training.warmup_ratio is a fraction of the training steps, in [0, 1)")
        if self.cv == 1 or self.cv < 0:
            raise ValueError("training.cv must be 0 (single split) or at least 2")
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


class ConfigError(ValueError):
    pass


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> Config:
    """Defaults, then the YAML file, then ``section.key=value`` overrides; validated."""
    schema = OmegaConf.structured(Config)
    layers = [schema]
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        layers.append(OmegaConf.load(path))
        if "name" not in layers[-1]:
            layers.append(OmegaConf.create({"name": path.stem}))
    bad = [o for o in overrides if "=" not in o]
    if bad:
        raise ConfigError(f"--set expects section.key=value, got {bad[0]!r}")
    layers.append(OmegaConf.from_dotlist(list(overrides)))
    try:
        merged = OmegaConf.merge(*layers)
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as e:
        raise ConfigError(f"{path or 'config'}: {str(e).splitlines()[0]}") from None
    except ValueError as e:
        raise ConfigError(f"{path or 'config'}: {e}") from None


def config_from_dict(d: dict) -> Config:
    """Rebuild a Config from its saved form (run folder config.yaml)."""
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.create(d)))


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
