"""The sequence classifier and its tokenizer: PhoBERT (hub id or local folder) or the tiny random RoBERTa.

Labels go into ``config.id2label``/``label2id`` here, so every saved checkpoint decodes itself.
Pre-trained weights that cannot be reached end the run with one line that says how to provide
them, instead of a minute of retries and a traceback.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from .config import ModelConfig, TinyConfig
from .tokenization import VOCAB_FILE, build_tiny_tokenizer, load_phobert_tokenizer

PHOBERT_POSITIONS = 258
"""PhoBERT's max_position_embeddings: 256 tokens + 2, since RoBERTa positions start after pad id 1."""
PAD_ID, BOS_ID, EOS_ID = 1, 0, 2
"""PhobertTokenizer's fixed ids for <pad>, <s>, </s>."""


class WeightsUnavailableError(RuntimeError):
    """Pre-trained weights could not be loaded; the message is one line with the fix."""


def label_maps(labels: Sequence[str]) -> tuple[dict[int, str], dict[str, int]]:
    id2label = {i: str(lab) for i, lab in enumerate(labels)}
    return id2label, {lab: i for i, lab in id2label.items()}


def weights_help(name_or_path: str, reason: str) -> str:
    hub_id = "vinai/phobert-base-v2"
    if _looks_like_hub_id(name_or_path) and not Path(name_or_path).exists():
        hub_id = name_or_path
    folder = hub_id.split("/")[-1]
    return (
        f"cannot load model weights {name_or_path!r} ({reason}). To provide them: on a machine with internet run "
        f"`hf download {hub_id} --local-dir {folder}` (or `huggingface-cli download`, or "
        f"AutoModelForSequenceClassification/AutoTokenizer.from_pretrained('{hub_id}').save_pretrained('{folder}')), "
        f"copy that folder here and pass --set model.name_or_path=/path/to/{folder}"
    )


def _looks_like_hub_id(name: str) -> bool:
    return not (Path(name).is_absolute() or name.startswith((".", "~")) or name.count("/") > 1)


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP probe, so a machine without internet fails in seconds, not after 5 retries per file."""
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    url = urlparse(endpoint)
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def load_pretrained(model_cfg: ModelConfig, labels: Sequence[str]):
    """(model, tokenizer) from ``model_cfg.name_or_path`` with a fresh classification head for ``labels``."""
    from transformers import (
        AutoConfig,
        AutoModelForSequenceClassification,
        AutoTokenizer,
    )

    name = model_cfg.name_or_path
    local = Path(name).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise WeightsUnavailableError(weights_help(name, "the folder has no config.json"))
        source, kwargs = str(local), {}
    elif not _looks_like_hub_id(name):
        raise WeightsUnavailableError(weights_help(name, "no such local folder"))
    else:
        # The local HF cache first: this works offline if the weights were downloaded before.
        source, kwargs = name, {"local_files_only": True}
    id2label, label2id = label_maps(labels)

    def _load(**kw):
        config = AutoConfig.from_pretrained(source, num_labels=len(labels), id2label=id2label, label2id=label2id, **kw)
        if model_cfg.dropout is not None:
            config.hidden_dropout_prob = model_cfg.dropout
            config.classifier_dropout = model_cfg.dropout
        tokenizer = AutoTokenizer.from_pretrained(source, model_max_length=model_cfg.max_length, **kw)
        model = AutoModelForSequenceClassification.from_pretrained(source, config=config, **kw)
        return model, tokenizer

    try:
        return _load(**kwargs)
    except OSError as e:
        if not kwargs:  # a local folder that lacks files
            raise WeightsUnavailableError(weights_help(name, f"incomplete folder: {str(e).splitlines()[0]}")) from None
    if _offline():
        raise WeightsUnavailableError(weights_help(name, "HF_HUB_OFFLINE=1 and not in the local cache"))
    if not _hub_reachable():
        raise WeightsUnavailableError(weights_help(name, "huggingface.co is unreachable"))
    try:
        return _load()
    except OSError as e:
        raise WeightsUnavailableError(weights_help(name, str(e).splitlines()[0])) from None


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


def load_model(model_cfg: ModelConfig, labels: Sequence[str], train_texts: Sequence[str] = (), tokenizer_dir=None):
    """(model, tokenizer) for a transformer or tiny config.

    For ``tiny`` the tokenizer is learnt from ``train_texts`` (already preprocessed) into
    ``tokenizer_dir``, or reloaded from there when it already exists (a resumed run).
    """
    if model_cfg.kind == "transformer":
        return load_pretrained(model_cfg, labels)
    if model_cfg.kind != "tiny":
        raise ValueError(f"load_model handles transformer and tiny models, not {model_cfg.kind!r}")
    if tokenizer_dir is None:
        raise ValueError("a tiny model needs a folder for its tokenizer")
    if (Path(tokenizer_dir) / VOCAB_FILE).is_file():
        tokenizer = load_phobert_tokenizer(tokenizer_dir, model_cfg.max_length)
    else:
        tokenizer = build_tiny_tokenizer(train_texts, tokenizer_dir, model_cfg.tiny.bpe_merges, model_cfg.max_length)
    return tiny_model(model_cfg.tiny, labels, len(tokenizer)), tokenizer
