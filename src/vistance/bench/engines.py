"""Every inference engine × precision on a trained checkpoint: ``vistance bench predict --model RUN``.

For each of torch fp32 / bf16 / int8 (dynamic) and OpenVINO fp32 / bf16 / int8 (the checkpoint's
``vistance export``), over the same sentences, in interleaved rounds (so a noisy neighbour hurts
every engine alike; the median round counts):

* sentences/s from raw text to calibrated probabilities, and the ratio to torch fp32;
* the encoder's useful work per second (2 × Linear weights × tokens, plus attention's 4 × layers × tokens² ×
  hidden per sentence; padding not counted) as a share of this CPU's measured matrix-multiply peak **in that
  precision** (torch fp32 / bf16 matmul, ``torch._int_mm`` for int8, 1024³, same threads);
* label agreement with torch fp32 (the shipped decision's labels).

bf16 rows appear only where the CPU has native bf16 (AVX512-BF16 / AMX). The sentences default to the run's
test split; ``--input`` takes any table with a ``text`` column or a folder of articles.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

TARGETS = {"int8": (3.5, 0.99), "bf16": (1.9, 0.995)}
"""Issue 20's targets for the benchmark: speed-up over torch fp32 and label agreement."""


def matmul_peaks(threads: int, n: int = 1024, repeats: int = 20) -> dict[str, float]:
    """Measured GFLOP/s (GOP/s for int8) of an n×n×n matrix product per precision on ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    out = {}
    a32, b32 = torch.randn(n, n), torch.randn(n, n)
    cases = {
        "fp32": lambda: a32 @ b32,
        "int8": (lambda a, b: lambda: torch._int_mm(a, b))(
            torch.randint(-128, 127, (n, n), dtype=torch.int8), torch.randint(-128, 127, (n, n), dtype=torch.int8)
        ),
    }
    from ..inference.engines import cpu_has_bf16

    if cpu_has_bf16():
        a16, b16 = a32.bfloat16(), b32.bfloat16()
        cases["bf16"] = lambda: a16 @ b16
    for name, f in cases.items():
        f()
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(repeats):
                f()
            best = min(best, time.perf_counter() - start)
        out[name] = 2 * n**3 * repeats / best / 1e9
    return out


def encoder_flops(model, lengths: Sequence[int]) -> float:
    """Useful floating-point work of ``model`` (a transformers encoder) on sentences of ``lengths`` tokens."""
    import torch

    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    cfg = model.config
    layers, hidden = cfg.num_hidden_layers, cfg.hidden_size
    return float(sum(2 * linear * n + 4 * layers * n * n * hidden for n in lengths))


def _model_lengths(predictor, texts: Sequence[str]) -> tuple[object, list[int]]:
    """The first encoder module and the token count of each text as it reads them."""
    from ..inference.engines import slots

    slot = slots(predictor)[0]
    ids = slot.owner.tokenizer(predictor.prepare(list(texts)), truncation=True, max_length=predictor.max_length)[
        "input_ids"
    ]
    return slot.module, [len(x) for x in ids]


def run(
    model: str | Path, texts: Sequence[str], *, rounds: int = 3, batch_size: int = 32, threads: int | None = None
) -> dict:
    import torch

    from ..checkpoint import load_predictor
    from ..inference import engines as eng

    threads = threads or max(1, len(os.sched_getaffinity(0)))
    torch.set_num_threads(threads)
    base = load_predictor(model)
    if not eng.slots(base):
        raise SystemExit(f"error: {model}: a {base.kind!r} checkpoint has no encoder; nothing to compare")
    module, lengths = _model_lengths(base, texts)
    flops = encoder_flops(module, lengths) * len(eng.slots(base))
    from ..inference.export import combinations

    exported = (base.path / eng.EXPORT_DIR).is_dir()
    combos = [("torch", "fp32")] + [c for c in combinations() if exported or c[0] == "torch"]
    predictors = {}
    for engine, precision in combos:
        p = load_predictor(model)
        eng.apply(p, eng.Choice(engine, precision, "bench"))
        p.predict_proba(list(texts[:8]), batch_size=batch_size)  # warm up (OpenVINO compiles lazily)
        predictors[(engine, precision)] = p
    times: dict = {c: [] for c in combos}
    labels: dict = {}
    load_before = os.getloadavg()[0]
    for _ in range(rounds):
        for c, p in predictors.items():
            start = time.perf_counter()
            probs = p.predict_proba(list(texts), batch_size=batch_size)
            times[c].append(time.perf_counter() - start)
            labels[c] = p.decision.labels(probs, p.task)
    peaks = matmul_peaks(threads)
    ref = labels[("torch", "fp32")]
    ref_speed = len(texts) / statistics.median(times[("torch", "fp32")])
    rows = []
    for (engine, precision), ts in times.items():
        sec = statistics.median(ts)
        speed = len(texts) / sec
        achieved = flops / sec / 1e9
        rows.append(
            {
                "engine": engine,
                "precision": precision,
                "sentences_per_s": speed,
                "vs_torch_fp32": speed / ref_speed,
                "gflops": achieved,
                "peak_gflops": peaks.get(precision),
                "share_of_peak": achieved / peaks[precision] if precision in peaks else None,
                "label_agreement": float(np.mean([a == b for a, b in zip(labels[(engine, precision)], ref)])),
                "seconds_by_round": ts,
            }
        )
    return {
        "model": str(model),
        "sentences": len(texts),
        "tokens_mean": float(np.mean(lengths)),
        "threads": threads,
        "rounds": rounds,
        "batch_size": batch_size,
        "peaks_gflops": peaks,
        "rows": rows,
        "exported": exported,
        "default": str(eng.choose(base)),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "cpu_bf16": eng.cpu_has_bf16(),
    }


def report(r: dict) -> str:
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in r["peaks_gflops"].items())
    lines = [
        f"{r['sentences']} sentences ({r['tokens_mean']:.1f} tokens on average), {r['threads']} threads, batch "
        f"{r['batch_size']}, median of {r['rounds']} interleaved rounds; matmul peaks (GFLOP/s): {peaks}",
        "",
        "| engine | precision | sentences/s | vs torch fp32 | GFLOP/s | % of peak | label agreement | target |",
        "|---|---|--:|--:|--:|--:|--:|---|",
    ]
    for row in r["rows"]:
        share = "–" if row["share_of_peak"] is None else f"{row['share_of_peak']:.0%}"
        t = TARGETS.get(row["precision"])
        target = (
            "–"
            if t is None or row["engine"] == "torch"
            else (
                ("meets" if row["vs_torch_fp32"] >= t[0] and row["label_agreement"] >= t[1] else "misses")
                + f" {t[0]}x / {t[1]:.1%}"
            )
        )
        lines.append(
            f"| {row['engine']} | {row['precision']} | {row['sentences_per_s']:.1f} | "
            f"{row['vs_torch_fp32']:.2f}x | {row['gflops']:.0f} | {share} | {row['label_agreement']:.1%} | "
            f"{target} |"
        )
    lines += ["", f"default engine for this checkpoint: {r['default']}"]
    if not r["exported"]:
        lines.append(f"no OpenVINO export: run `vistance export {r['model']}` to add the openvino rows")
    busy = max(r["load_average_before"], r["load_average_after"])
    if busy > (os.cpu_count() or 1):
        lines.append(
            f"WARNING: load average {busy:.1f} on {os.cpu_count()} cores: other processes shared the CPU; "
            "the ratios hold better than the absolute figures"
        )
    return "\n".join(lines)


def plot(r: dict, path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = r["rows"]
    names = [f"{x['engine']} {x['precision']}" for x in rows]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.2))
    colours = ["#9ecae1" if x["engine"] == "torch" else "#08519c" for x in rows]
    ax.barh(names, [x["sentences_per_s"] for x in rows], color=colours)
    for i, x in enumerate(rows):
        ax.text(
            x["sentences_per_s"],
            i,
            f"  {x['vs_torch_fp32']:.2f}x, {x['label_agreement']:.1%} labels kept",
            va="center",
            fontsize=8,
        )
    ax.invert_yaxis()
    ax.set_xlabel("sentences / s (raw text to probabilities)")
    ax.set_title(f"{Path(r['model']).name}: {r['sentences']} sentences, {r['threads']} threads", fontsize=10)
    ax.set_xlim(0, max(x["sentences_per_s"] for x in rows) * 1.6)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def sentences_for(model: str | Path, input_path: str | None, n: int, seed: int = 0) -> list[str]:
    """``n`` sentences: from ``input_path`` (a table with ``text`` or a folder of articles), else the run's test
    split (then its dev split) — never text the model trained on, unless a user passes it."""
    import random

    from ..checkpoint import resolve_checkpoint
    from ..data.tables import read_table

    if input_path:
        src = Path(input_path)
        if src.is_dir():
            from ..data.articles import parse_folder

            texts = [s.text for a in parse_folder(src) for s in a.sentences]
        else:
            texts = [r["text"] for _, r in read_table(src).rows if isinstance(r.get("text"), str)]
    else:
        ckpt = resolve_checkpoint(model)
        texts = []
        for split in ("test", "dev"):
            f = ckpt.parent / "splits" / f"{split}.jsonl"
            if f.is_file():
                texts += [r["text"] for _, r in read_table(f).rows]
    texts = [t for t in dict.fromkeys(texts) if t.strip()]
    if not texts:
        raise SystemExit("error: no sentences to time: pass --input FILE")
    random.Random(seed).shuffle(texts)
    return texts[:n]
