"""Benchmarks: ``python -m vistance.bench train``, ``python -m vistance.bench predict`` and ``... batch``.

``train`` times one training step (forward, backward, AdamW) of a randomly initialised RoBERTa of
PhoBERT-base's shape (hidden 768, 12 layers, 64k vocabulary, 258 positions: the real model's
compute per token, without needing its weights) on batches of the corpus's own sentences, padded
two ways:

* dynamic padding with length grouping, as ``train.py`` does (``DataCollatorWithPadding`` +
  ``LengthGroupedSampler``): each batch is padded to its own longest sentence;
* padding every sentence to 256 tokens, as many fine-tuning scripts do.

Lengths come from the corpus sentences, word-segmented and tokenised with the tiny PhoBERT-format
tokenizer learnt from them with every merge seen at least twice, so that frequent words are one
token as in PhoBERT's 64k vocabulary. The same batches are timed in both modes.

The other benchmarks are sibling modules: ``predict`` (prediction throughput), ``batch`` (archive scoring,
local and on Ray), ``e5train`` (e5 fine-tuning, frozen vs trainable embeddings).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..models.transformer import PHOBERT_MAX_TOKENS, PHOBERT_POSITIONS

PHOBERT_BASE = {
    "vocab_size": 64001,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
}


def corpus_lengths(files: Sequence[str], max_length: int = PHOBERT_MAX_TOKENS, merges: int = 50_000) -> list[int]:
    """Token counts (with <s> and </s>) of the corpus sentences, truncated at ``max_length``."""
    from ..data import expand_files, read_jsonl
    from ..models.tokenization import build_tiny_tokenizer
    from ..text import preprocess

    texts = [r["text"] for f in expand_files(files) for r in read_jsonl(f) if r.get("text")]
    if not texts:
        raise ValueError(f"no sentences in {', '.join(files)}")
    segmented = preprocess(texts)
    with tempfile.TemporaryDirectory() as tmp:
        tok = build_tiny_tokenizer(segmented, tmp, num_merges=merges, max_length=max_length)
        return [len(ids) for ids in tok(segmented, truncation=True, max_length=max_length)["input_ids"]]


def length_grouped_batches(lengths: Sequence[int], batch_size: int, seed: int) -> list[list[int]]:
    """The batches of one epoch as the Trainer's ``LengthGroupedSampler`` forms them."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler

    sampler = LengthGroupedSampler(batch_size, lengths=list(lengths), generator=torch.Generator().manual_seed(seed))
    order = list(sampler)
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def time_steps(model, optimizer, batches: Sequence[np.ndarray], warmup: int, device) -> list[float]:
    """Seconds per training step for each of ``batches`` (the first ``warmup`` untimed)."""
    import torch

    times = []
    for i, input_ids in enumerate(batches):
        ids = torch.as_tensor(input_ids, device=device)
        mask = (ids != 1).long()
        labels = torch.zeros(len(ids), dtype=torch.long, device=device)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def make_batch(lengths: Sequence[int], pad_to: int | None, rng: np.random.Generator) -> np.ndarray:
    """Random token ids of the given lengths, padded (id 1) to ``pad_to`` or to the longest."""
    width = pad_to or max(lengths)
    out = np.ones((len(lengths), width), dtype=np.int64)
    for row, n in enumerate(lengths):
        out[row, :n] = rng.integers(4, PHOBERT_BASE["vocab_size"], size=n)
        out[row, 0], out[row, n - 1] = 0, 2
    return out


def bench_train(args: argparse.Namespace) -> dict:
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification, set_seed

    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    lengths = corpus_lengths(args.files, args.max_length)
    batches = length_grouped_batches(lengths, args.batch_size, args.seed)
    # Time a random sample of the epoch's batches (the sampler puts the longest batch first).
    rng = np.random.default_rng(args.seed)
    n = min(len(batches), args.steps + args.warmup)
    picked = [batches[i] for i in rng.choice(len(batches), size=n, replace=False)]
    batch_lengths = [[lengths[i] for i in b] for b in picked]

    set_seed(args.seed)
    config = RobertaConfig(
        **PHOBERT_BASE,
        max_position_embeddings=PHOBERT_POSITIONS,
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        layer_norm_eps=1e-5,
        num_labels=4,
    )
    model = RobertaForSequenceClassification(config).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"PhoBERT-base-sized RoBERTa, random weights: {n_params / 1e6:.1f}M parameters, {device}"
        + (f" ({torch.get_num_threads()} threads)" if device.type == "cpu" else f" ({torch.cuda.get_device_name()})")
    )
    arr = np.array(lengths)
    print(
        f"corpus: {len(lengths)} sentences; tokens per sentence mean {arr.mean():.1f}, median {np.median(arr):.0f}, "
        f"p95 {np.percentile(arr, 95):.0f}, max {arr.max()}"
    )
    print(
        f"batch size {args.batch_size}; {len(picked) - args.warmup} timed steps after {args.warmup} warm-up "
        "(forward + backward + AdamW), the same batches in both modes",
        flush=True,
    )

    results = {}
    for mode, pad_to in (("dynamic", None), ("pad256", args.max_length)):
        data_rng = np.random.default_rng(args.seed)
        inputs = [make_batch(b, pad_to, data_rng) for b in batch_lengths]
        times = time_steps(model, optimizer, inputs, args.warmup, device)
        results[mode] = {
            "seconds_per_step": float(np.mean(times)),
            "step_seconds": [round(t, 4) for t in times],
            "mean_padded_length": float(np.mean([x.shape[1] for x in inputs[args.warmup :]])),
        }
        label = "dynamic padding, length-grouped" if mode == "dynamic" else f"padding to {args.max_length}"
        print(
            f"{label:34s} {results[mode]['seconds_per_step']:.3f} s/step "
            f"(padded length {results[mode]['mean_padded_length']:.0f})",
            flush=True,
        )
    ratio = results["pad256"]["seconds_per_step"] / results["dynamic"]["seconds_per_step"]
    epoch = len(batches)
    dyn, pad = (epoch * results[m]["seconds_per_step"] for m in ("dynamic", "pad256"))
    print(
        f"ratio: dynamic padding is {ratio:.1f}x faster per step; "
        f"one epoch of {epoch} steps: {dyn:.0f} s vs {pad:.0f} s"
    )
    summary = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "parameters": n_params,
        "batch_size": args.batch_size,
        "sentences": len(lengths),
        "mean_tokens": float(arr.mean()),
        "steps_per_epoch": epoch,
        "ratio": ratio,
        **results,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    t = argparse.ArgumentParser(prog="python -m vistance.bench train", description=__doc__.split("\n")[0])
    t.add_argument("--files", nargs="+", default=["data/annotated/*.jsonl"], help="labelled corpus files (globs)")
    t.add_argument("--steps", type=int, default=3, help="timed steps per mode (default 3)")
    t.add_argument("--warmup", type=int, default=1, help="untimed steps first (default 1)")
    t.add_argument("--batch-size", type=int, default=8)
    t.add_argument("--max-length", type=int, default=PHOBERT_MAX_TOKENS)
    t.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    t.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--json", help="also write the figures to this file")
    bench_train(t.parse_args(argv))
    return 0
