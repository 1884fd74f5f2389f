"""The one preprocessing function that training, evaluation and prediction share.

PhoBERT was pre-trained on NFC text that RDRSegmenter (VnCoreNLP) had word-segmented, so
``Tổng thống`` must reach it as ``Tổng_thống``. Feeding it raw text does not fail: it silently
degrades every prediction. That is why the settings below are saved beside each checkpoint
(``vistance.json``) and replayed at inference instead of being re-chosen by whoever loads it.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

SEGMENTERS = ("pyvi", "underthesea", "vncorenlp", "none")


@dataclass
class PreprocessConfig:
    """How raw sentences become model input. Saved with every checkpoint."""

    segmenter: str = "pyvi"
    """Word segmenter: pyvi (fast, default), underthesea, vncorenlp (PhoBERT's own, if installed) or none."""
    normalization: str = "NFC"
    """Unicode normal form. PhoBERT's vocabulary is NFC; NFD input would map to <unk>."""
    lowercase: bool = False
    """PhoBERT is cased; lowercasing only helps bag-of-words models."""
    vncorenlp_dir: str | None = None
    """Folder holding VnCoreNLP's jar and models (py_vncorenlp), when segmenter is vncorenlp."""

    def __post_init__(self) -> None:
        if self.segmenter not in SEGMENTERS:
            raise ValueError(f"unknown segmenter {self.segmenter!r}; choose one of {', '.join(SEGMENTERS)}")
        if self.normalization not in ("NFC", "NFKC"):
            raise ValueError(f"normalization must be NFC or NFKC, not {self.normalization!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> PreprocessConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (d or {}).items() if k in known})


def normalize(text: str, form: str = "NFC") -> str:
    """Unicode-normalise and collapse runs of white space (incl. non-breaking spaces)."""
    return " ".join(unicodedata.normalize(form, text).split())


@functools.cache
def _segment_fn(segmenter: str, vncorenlp_dir: str | None):
    if segmenter == "none":
        return lambda s: s
    if segmenter == "pyvi":
        from pyvi import ViTokenizer

        return ViTokenizer.tokenize
    if segmenter == "underthesea":
        from underthesea import word_tokenize

        return lambda s: word_tokenize(s, format="text")
    try:
        import py_vncorenlp  # type: ignore
    except ImportError as e:  # pragma: no cover - depends on the user's machine
        raise RuntimeError(
            "segmenter 'vncorenlp' needs py_vncorenlp and Java: `pip install py_vncorenlp`, download the models "
            "with py_vncorenlp.download_model(save_dir=DIR) and set preprocess.vncorenlp_dir=DIR"
        ) from e
    if not vncorenlp_dir:  # pragma: no cover
        raise RuntimeError("segmenter 'vncorenlp' needs preprocess.vncorenlp_dir (the folder with VnCoreNLP models)")
    model = py_vncorenlp.VnCoreNLP(annotators=["wseg"], save_dir=vncorenlp_dir)  # pragma: no cover
    return lambda s: " ".join(model.word_segment(s))  # pragma: no cover


class Preprocessor:
    """Callable that turns raw sentences into model input according to a :class:`PreprocessConfig`."""

    def __init__(self, config: PreprocessConfig | dict | None = None):
        if isinstance(config, dict) or config is None:
            config = PreprocessConfig.from_dict(config)
        self.config = config
        self._segment = _segment_fn(config.segmenter, config.vncorenlp_dir)

    def __call__(self, texts: str | Iterable[str]) -> str | list[str]:
        if isinstance(texts, str):
            return self._one(texts)
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> str:
        text = normalize(text, self.config.normalization)
        if not text:
            return text
        text = self._segment(text)
        # Segmenters may emit NFD or stray spaces for unusual input; the model sees NFC only.
        text = normalize(text, self.config.normalization)
        return text.lower() if self.config.lowercase else text


def preprocess(texts: str | Iterable[str], config: PreprocessConfig | dict | None = None) -> str | list[str]:
    """Normalise and word-segment ``texts`` (one string or many) exactly as a checkpoint expects."""
    return Preprocessor(config)(texts)


def desegment(text: str) -> str:
    """Undo word segmentation for display: ``Tổng_thống Nga`` -> ``Tổng thống Nga``."""
    return text.replace("_", " ")
