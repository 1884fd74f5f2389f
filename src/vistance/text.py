"""The one preprocessing function that training, evaluation and prediction share.

PhoBERT was pre-trained on NFC text that RDRSegmenter (VnCoreNLP) had word-segmented, so
``Tổng thống`` must reach it as ``Tổng_thống``. Feeding it raw text does not fail: it silently
degrades every prediction. That is why the settings below are saved beside each checkpoint
(``vistance.json``) and replayed at inference instead of being re-chosen by whoever loads it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import overload

SEGMENTERS = ("pyvi", "underthesea", "vncorenlp", "none")

MAX_CHARS = 10_000
"""Longest text the preprocessor segments; a longer one is cut at the last white space before the limit.
PhoBERT and e5 read 256 tokens (about 1,200 characters of news text) and no real sentence comes near 10,000
characters, while pyvi's time grows with the square of the length (0.8M characters: 10 s, 5M: minutes)."""


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
    prefix: str = ""
    """Prepended to every text after segmentation: e5 encoders were trained with ``"query: "``."""

    def __post_init__(self) -> None:
        if self.segmenter not in SEGMENTERS:
            raise ValueError(
                f"data.preprocess.segmenter must be one of {', '.join(SEGMENTERS)}, not {self.segmenter!r}"
            )
        if self.normalization not in ("NFC", "NFKC"):
            raise ValueError(f"data.preprocess.normalization must be NFC or NFKC, not {self.normalization!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        if not d["prefix"]:  # older checkpoints and caches have no prefix key: keep their settings hash
            del d["prefix"]
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> PreprocessConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (d or {}).items() if k in known})


def normalize(text: str, form: str = "NFC") -> str:
    """Unicode-normalise and collapse runs of white space (incl. non-breaking spaces)."""
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    return " ".join(unicodedata.normalize(form, text).split())


def cut_at_space(text: str, max_chars: int) -> int:
    """Where to cut ``text`` so the head keeps at most ``max_chars`` characters: at the last white space that
    allows it, or at ``max_chars`` when there is none."""
    if len(text) <= max_chars:
        return len(text)
    m = _LAST_SPACE.match(text, 0, max_chars + 1)
    return m.end() - 1 if m and m.end() > 1 else max_chars


_LAST_SPACE = re.compile(r".*\s", re.DOTALL)  # greedy: ends at the last white space of the searched range


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

    @overload
    def __call__(self, texts: str) -> str: ...
    @overload
    def __call__(self, texts: Iterable[str]) -> list[str]: ...

    def __call__(self, texts: str | Iterable[str]) -> str | list[str]:
        if isinstance(texts, str):
            return self._one(texts)
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> str:
        text = normalize(text, self.config.normalization)
        if not text:
            return text
        text = text[: cut_at_space(text, MAX_CHARS)].rstrip()
        text = self._segment(text)
        # Segmenters may emit NFD or stray spaces for unusual input; the model sees NFC only.
        text = normalize(text, self.config.normalization)
        text = text.lower() if self.config.lowercase else text
        return self.config.prefix + text


def preprocess(texts: str | Iterable[str], config: PreprocessConfig | dict | None = None) -> str | list[str]:
    """Normalise and word-segment ``texts`` (one string or many) exactly as a checkpoint expects."""
    return Preprocessor(config)(texts)


def desegment(text: str) -> str:
    """Undo word segmentation for display: ``Tổng_thống Nga`` -> ``Tổng thống Nga``."""
    return text.replace("_", " ")


# --------------------------------------------------------------------------- cache


def cache_dir() -> Path:
    """Where derived files are cached across runs (``$VISTANCE_CACHE_DIR`` or ``.cache/vistance``)."""
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
            # split("\\n"), not splitlines(): json.dumps leaves U+2028 and U+0085 unescaped inside a row.
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
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write("".join(json.dumps({"t": t, "p": p}, ensure_ascii=False) + "\n" for t, p in zip(missing, done)))
        except OSError:  # a read-only cache folder costs speed, never the run
            pass
    return [memo[t] for t in texts]
