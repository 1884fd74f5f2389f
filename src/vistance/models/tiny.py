"""The tiny model: a randomly initialised RoBERTa in PhoBERT's exact format (``PhobertTokenizer`` over
word-segmented NFC text, PhoBERT's positions and special ids), small enough to train on a CPU in
seconds. It runs PhoBERT's whole code path offline, for tests and the quick start; its vocabulary is
learnt from the training sentences (:mod:`.tokenization`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import ModelKind, register
from .tokenization import VOCAB_FILE, build_tiny_tokenizer, load_phobert_tokenizer
from .transformer import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    PHOBERT_POSITIONS,
    TransformerLearner,
    TransformerPredictor,
    label_maps,
)


@dataclass
class TinyConfig:
    """``model.tiny``: the random RoBERTa's size and its tokenizer's merges."""

    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    intermediate_size: int = 128
    bpe_merges: int = 2000
    """Merges learnt for the tiny PhoBERT-format tokenizer (bpe.codes) from the training sentences."""

    def __post_init__(self) -> None:
        for name in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "bpe_merges"):
            if getattr(self, name) < 1:
                raise ValueError(f"model.tiny.{name} must be positive, not {getattr(self, name)}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"model.tiny.hidden_size ({self.hidden_size}) must be a multiple of "
                f"model.tiny.num_attention_heads ({self.num_attention_heads})"
            )


def tiny_model(tiny: TinyConfig, labels: Sequence[str], vocab_size: int):
    """A randomly initialised RoBERTa with PhoBERT's positions and special ids (seed it beforehand)."""
    from transformers import AutoModelForSequenceClassification, RobertaConfig

    id2label, label2id = label_maps(labels)
    config = RobertaConfig(
        vocab_size=vocab_size,
        hidden_size=tiny.hidden_size,
        num_hidden_layers=tiny.num_hidden_layers,
        num_attention_heads=tiny.num_attention_heads,
        intermediate_size=tiny.intermediate_size,
        max_position_embeddings=PHOBERT_POSITIONS,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=PAD_ID,
        bos_token_id=BOS_ID,
        eos_token_id=EOS_ID,
        tokenizer_class="PhobertTokenizer",
        num_labels=len(labels),
        id2label=id2label,
        label2id=label2id,
    )
    return AutoModelForSequenceClassification.from_config(config)


class TinyLearner(TransformerLearner):
    """The transformer learner, with a vocabulary learnt from this split's training sentences."""

    def build_model(self, train: Sequence[dict]):
        tokenizer_dir = Path(self.out_dir) / "tokenizer"
        max_length = self.cfg.model.max_length
        if (tokenizer_dir / VOCAB_FILE).is_file():  # a resumed run keeps the vocabulary it started with
            tokenizer = load_phobert_tokenizer(tokenizer_dir, max_length)
        else:
            tokenizer = build_tiny_tokenizer(
                self.texts(train), tokenizer_dir, self.cfg.model.tiny.bpe_merges, max_length
            )
        return tiny_model(self.cfg.model.tiny, self.labels, len(tokenizer)), tokenizer


register(
    ModelKind(
        "tiny",
        TinyLearner,
        TransformerPredictor,
        options=TinyConfig,
        uses=("max_length",),
        description="a random tiny RoBERTa in PhoBERT's format (tests, quick start; no pre-training)",
    )
)
