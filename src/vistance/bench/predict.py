"""How fast is prediction on this CPU? ``python -m vistance.bench predict``.

With ``--model RUN`` it times a trained checkpoint on every inference engine and precision instead
(:mod:`vistance.bench.engines`). Without, it times the following on a random model of PhoBERT-base's shape.

The model is a randomly initialised RoBERTa of PhoBERT-base's shape (hidden 768, 12 layers, 12
heads, 64k vocabulary, 258 positions): the same compute per token as the real PhoBERT, without
needing its weights. It is saved as an ordinary vistance checkpoint with the tiny PhoBERT-format
tokenizer learnt from the corpus, so every mode below loads the same folder. The sentences are the
corpus's own (``data/annotated/*.jsonl`` and ``data/raw`` articles), never the held-out set.

Modes, all end to end from raw text (NFC + pyvi word segmentation included):

* ``pipeline loop``: ``transformers.pipeline("text-classification")`` called once per sentence, the
  way a first script usually does it;
* ``vistance``: ``StanceClassifier.predict``: batches sorted by length, dynamic padding,
  ``torch.inference_mode``;
* ``vistance int8``: the same after dynamic int8 quantisation of the Linear layers, and
  ``vistance bf16``: the same in bfloat16; their labels are compared with fp32's on the same
  sentences.

Labels here come from random weights, so "agreement" measures how often quantisation noise flips
an argmax whose margins are typically smaller than a trained model's: a pessimistic estimate.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import numpy as np

from ..models.transformer import PHOBERT_MAX_TOKENS, PHOBERT_POSITIONS
from ..tasks import JOINT

# PhoBERT-base (vinai/phobert-base-v2): 64001 tokens, 258 positions (256 + the two RoBERTa offsets).
PHOBERT_BASE_SHAPE = {
    "vocab_size": 64001,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": PHOBERT_POSITIONS,
    "type_vocab_size": 1,
}


def corpus_sentences(root: str | Path = ".") -> list[str]:
    """Distinct sentences of the annotated corpus and the raw articles, in a stable order."""
    from ..data import read_jsonl
    from ..data.articles import parse_folder

    root = Path(root)
    texts = []
    for f in sorted((root / "data" / "annotated").glob("*.jsonl")):
        texts += [r["text"] for r in read_jsonl(f) if r.get("text")]
    raw = root / "data" / "raw"
    if raw.is_dir() and any(raw.glob("*.txt")):
        texts += [s.text for a in parse_folder(raw) for s in a.sentences]
    return list(dict.fromkeys(t for t in texts if t.strip()))


def sample(texts: list[str], n: int, seed: int) -> list[str]:
    """``n`` sentences drawn without replacement; cycled when the corpus has fewer."""
    rng = random.Random(seed)
    pool = texts[:]
    rng.shuffle(pool)
    return [pool[i % len(pool)] for i in range(n)]


def build_checkpoint(
    directory: Path,
    sentences: list[str],
    seed: int = 0,
    shape: dict = PHOBERT_BASE_SHAPE,
    shape_name: str = "PhoBERT-base",
) -> Path:
    """A random joint classifier of ``shape`` (default PhoBERT-base's), saved as a vistance checkpoint in
    ``directory``."""
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    from ..checkpoint import CheckpointMeta
    from ..models import tokenization
    from ..models.tokenization import build_tiny_tokenizer
    from ..models.transformer import save_transformer
    from ..text import PreprocessConfig, preprocess

    labels = list(JOINT.labels)
    pre = PreprocessConfig()
    # PhoBERT's 64k vocabulary makes nearly every segmented word of news one token. A vocabulary learnt
    # from a few hundred sentences with the usual "pair seen twice" rule leaves rare words in pieces
    # (about 2 tokens a word), which would overstate the compute per sentence; merging pairs seen
    # once brings the count back to about one token a word.
    with mock.patch.object(tokenization, "MIN_PAIR_FREQUENCY", 1):
        tokenizer = build_tiny_tokenizer(preprocess(sentences, pre), directory, num_merges=30_000)
    torch.manual_seed(seed)
    config = RobertaConfig(
        **shape,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        layer_norm_eps=1e-5,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={k: i for i, k in enumerate(labels)},
    )
    model = RobertaForSequenceClassification(config).eval()
    meta = CheckpointMeta(
        kind="transformer",
        task="joint",
        labels=labels,
        preprocess=pre.to_dict(),
        max_length=PHOBERT_MAX_TOKENS,
        base_model=f"random-init ({shape_name} shape)",
    )
    return save_transformer(directory, model, tokenizer, meta)


def _timed(fn, warmup):
    """(result, wall seconds, CPU seconds of this process)."""
    warmup()
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - start, time.process_time() - cpu


def _speed(n: int, seconds: float, cpu_seconds: float) -> dict:
    # Wall time is what a user waits; CPU time of a one-thread run is what stays comparable when
    # other processes share the machine (it does not count the time spent waiting for a core).
    return {
        "seconds": seconds,
        "sentences_per_second": n / seconds,
        "cpu_seconds": cpu_seconds,
        "sentences_per_cpu_second": n / cpu_seconds,
    }


REDUCED_MODES = ("int8", "bf16")


def run(
    sentences: list[str],
    checkpoint: Path,
    batch_size: int = 32,
    reduced: Sequence[str] = REDUCED_MODES,
    loop: bool = True,
) -> dict:
    """Time each mode over ``sentences``; returns sentences/second, ratios and agreement with fp32."""
    import torch

    from ..inference import StanceClassifier
    from ..tasks import outcome
    from ..text import Preprocessor

    results: dict = {
        "sentences": len(sentences),
        "threads": torch.get_num_threads(),
        "batch_size": batch_size,
        "load_average_before": os.getloadavg()[0],
    }
    warm = sentences[:4]

    clf = StanceClassifier.from_pretrained(checkpoint, batch_size=batch_size)
    fp32, *took = _timed(lambda: clf.predict(sentences), lambda: clf.predict(warm))
    results["vistance"] = _speed(len(sentences), *took)
    lengths = [
        len(ids)
        for ids in clf.predictor.tokenizer(
            Preprocessor(clf.predictor.preprocess)(sentences), truncation=True, max_length=PHOBERT_MAX_TOKENS
        )["input_ids"]
    ]
    results["tokens_per_sentence"] = {"mean": float(np.mean(lengths)), "max": int(np.max(lengths))}

    if loop:
        from transformers import pipeline

        pre = Preprocessor(clf.predictor.preprocess)
        pipe = pipeline(
            "text-classification", model=str(checkpoint), tokenizer=str(checkpoint), device="cpu", top_k=None
        )

        def one_by_one(texts):
            return [pipe(pre(t), truncation=True, max_length=PHOBERT_MAX_TOKENS) for t in texts]

        outs, *took = _timed(lambda: one_by_one(sentences), lambda: one_by_one(warm))
        # One string in, all scores out (top_k=None); some versions nest it in a one-element list.
        outs = [o[0] if o and isinstance(o[0], list) else o for o in outs]
        pipe_labels = [max(o, key=lambda d: d["score"])["label"] for o in outs]
        joint = [r["stance"] or r["claim"] for r in fp32]
        results["pipeline_loop"] = {
            **_speed(len(sentences), *took),
            # Same weights, so the labels must agree (up to float noise from padding).
            "label_agreement_with_vistance": float(np.mean([a == b for a, b in zip(pipe_labels, joint)])),
        }
        results["speedup_vistance_vs_loop"] = (
            results["vistance"]["sentences_per_second"] / (results["pipeline_loop"]["sentences_per_second"])
        )
        del pipe

    if reduced:
        p32 = clf.predictor.predict_proba(sentences, batch_size=batch_size)
    for mode in reduced:
        q = StanceClassifier.from_pretrained(checkpoint, batch_size=batch_size, quantize=mode)
        qr, *took = _timed(lambda q=q: q.predict(sentences), lambda q=q: q.predict(warm))
        pq = q.predictor.predict_proba(sentences, batch_size=batch_size)
        key = f"vistance_{mode}"
        results[key] = {
            **_speed(len(sentences), *took),
            "label_agreement_with_fp32": float(np.mean([outcome(a) == outcome(b) for a, b in zip(fp32, qr)])),
            "argmax_agreement_with_fp32": float(np.mean(p32.argmax(1) == pq.argmax(1))),
            "max_abs_prob_diff": float(np.abs(p32 - pq).max()),
        }
        results[f"speedup_{mode}_vs_fp32"] = (
            results[key]["sentences_per_second"] / (results["vistance"]["sentences_per_second"])
        )
        if loop:
            results[f"speedup_{mode}_vs_loop"] = (
                results[key]["sentences_per_second"] / (results["pipeline_loop"]["sentences_per_second"])
            )
        del q
    results["load_average_after"] = os.getloadavg()[0]
    return results


def report(r: dict) -> str:
    tokens = r["tokens_per_sentence"]
    head = (
        f"{r['sentences']} sentences, {tokens['mean']:.1f} tokens on average (max {tokens['max']}), "
        f"{r['threads']} torch thread(s), batch size {r['batch_size']}"
    )
    lines = [head]
    names = [("pipeline_loop", "pipeline loop (1 sentence/call)"), ("vistance", "vistance predict (fp32)")]
    names += [(f"vistance_{m}", f"vistance predict ({m})") for m in REDUCED_MODES]
    for key, name in names:
        if key in r:
            m = r[key]
            lines.append(
                f"  {name:34s} {m['sentences_per_second']:7.1f} sentences/s  ({m['seconds']:.1f} s wall, "
                f"{m['cpu_seconds']:.1f} s CPU: {m['sentences_per_cpu_second']:.1f} sentences/CPU-s)"
            )
    if "speedup_vistance_vs_loop" in r:
        ok = "meets" if r["speedup_vistance_vs_loop"] >= 3 else "MISSES"
        lines.append(
            f"  vistance / loop: {r['speedup_vistance_vs_loop']:.2f}x ({ok} the 3x target); labels agree "
            f"{r['pipeline_loop']['label_agreement_with_vistance']:.1%}"
        )
    for mode in REDUCED_MODES:
        if f"speedup_{mode}_vs_fp32" not in r:
            continue
        q, speedup = r[f"vistance_{mode}"], r[f"speedup_{mode}_vs_fp32"]
        ok = "meets" if speedup >= 1.5 and q["label_agreement_with_fp32"] >= 0.99 else "MISSES"
        vs_loop = f"; {r[f'speedup_{mode}_vs_loop']:.2f}x the loop" if f"speedup_{mode}_vs_loop" in r else ""
        lines.append(
            f"  {mode} / fp32: {speedup:.2f}x, label agreement {q['label_agreement_with_fp32']:.1%} ({ok} the "
            f"1.5x / 99% target); max |dp| {q['max_abs_prob_diff']:.3f}{vs_loop}"
        )
    busy = max(r["load_average_before"], r["load_average_after"])
    if busy > (os.cpu_count() or 1):
        lines.append(
            f"  WARNING: load average {busy:.1f} on {os.cpu_count()} cores: other processes shared the CPU, "
            "so these figures are pessimistic and noisy; rerun on a quiet machine"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vistance.bench predict", description=__doc__.split("\n")[0])
    p.add_argument("-n", "--sentences", type=int, default=200, help="sentences to time (default 200)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: one per core)")
    p.add_argument(
        "--reduced",
        nargs="*",
        choices=REDUCED_MODES,
        default=list(REDUCED_MODES),
        help="reduced-precision modes to time against fp32 (default: int8 bf16; none: --reduced)",
    )
    p.add_argument("--no-loop", action="store_true", help="skip the (slow) per-sentence pipeline loop")
    p.add_argument("--checkpoint", help="reuse (or create) the random checkpoint here instead of a temp folder")
    p.add_argument("--root", default=".", help="project root holding data/ (default: .)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", help="also write the figures as JSON here")
    p.add_argument(
        "--model",
        help="a trained run or checkpoint: time every engine x precision on it instead "
        "(sentences/s, ratio to torch fp32, share of the matmul peak, label agreement; "
        "vistance.bench.engines)",
    )
    p.add_argument(
        "--input",
        help="with --model: sentences to time (a table with 'text', or a folder of articles; "
        "default: the run's test split)",
    )
    p.add_argument("--rounds", type=int, default=3, help="with --model: interleaved rounds (default 3; median counts)")
    p.add_argument("--plot", help="with --model: also draw the figures into this PNG")
    args = p.parse_args(argv)
    if args.model:
        from . import engines

        texts = engines.sentences_for(args.model, args.input, args.sentences, args.seed)
        print(f"timing {len(texts)} sentences on every engine of {args.model}", file=sys.stderr)
        r = engines.run(args.model, texts, rounds=args.rounds, batch_size=args.batch_size, threads=args.threads)
        print(engines.report(r))
        if args.plot:
            print(f"plot: {engines.plot(r, args.plot)}", file=sys.stderr)
        if args.output:
            Path(args.output).write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
        return 0

    import torch

    torch.set_num_threads(args.threads or max(1, len(os.sched_getaffinity(0))))
    corpus = corpus_sentences(args.root)
    if not corpus:
        print(f"error: no sentences under {args.root}/data (annotated/*.jsonl or raw/*.txt)", file=sys.stderr)
        return 1
    sentences = sample(corpus, args.sentences, args.seed)
    note = "" if len(corpus) >= args.sentences else f" (cycled: the corpus has {len(corpus)} distinct sentences)"
    print(f"timing {len(sentences)} corpus sentences{note}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="vistance-bench-") as tmp:
        ckpt = Path(args.checkpoint or Path(tmp) / "checkpoint")
        if not (ckpt / "vistance.json").is_file():
            print(f"building a random PhoBERT-base-sized checkpoint in {ckpt} ...", file=sys.stderr)
            build_checkpoint(ckpt, corpus, seed=args.seed)
        results = run(sentences, ckpt, batch_size=args.batch_size, reduced=args.reduced, loop=not args.no_loop)
    results["corpus_sentences"] = len(corpus)
    results["torch"] = torch.__version__
    results["cpu_count"] = os.cpu_count()
    print(report(results))
    if args.output:
        Path(args.output).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
