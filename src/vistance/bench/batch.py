"""How fast does ``vistance.batch`` score an archive? ``python -m vistance.bench batch [--n N]``.

The archive is ``N`` corpus sentences (``data/annotated`` and ``data/raw``, cycled when N is larger)
in ``--shards`` JSONL shards. Each model scores it with the local engine and with Ray at each
``--workers`` count, every run into a fresh output folder. Models:

* ``baseline``: the newest complete ``runs/baseline`` run (or ``--baseline``);
* ``tiny``: the newest complete ``runs/tiny`` run (or ``--tiny``), a 2-layer RoBERTa;
* ``e5-small``: a random RoBERTa of multilingual-e5-small's shape (hidden 384, 12 layers, 12 heads):
  e5-small's compute per token without its weights, built on the fly.

Two figures per run: **end to end** is N over the wall time of the whole command (reading,
segmentation, the model, writing, and the fixed costs: loading the model, starting Ray's actors),
which is what a small archive costs; **steady** is what a large archive approaches, from the
manifest's per-shard times (workers x sentences / shard-seconds, fixed costs left out). Ray's own
start (once per machine or cluster) is timed separately.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .predict import (
    PHOBERT_BASE_SHAPE,
    build_checkpoint,
    corpus_sentences,
    sample,
)

E5_SMALL_SHAPE = {**PHOBERT_BASE_SHAPE, "hidden_size": 384, "intermediate_size": 1536}


def write_archive(folder: Path, sentences: Sequence[str], shards: int) -> Path:
    """``sentences`` as ``shards`` JSONL files of (nearly) equal length."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(shards):
        with open(folder / f"part-{k:03d}.jsonl", "w", encoding="utf-8") as f:
            f.writelines(
                json.dumps({"id": f"{k}-{i}", "text": sentences[i]}, ensure_ascii=False) + "\n"
                for i in range(k, len(sentences), shards)
            )
    return folder


def latest_run(name: str) -> Path | None:
    from ..runs import find_runs

    found = find_runs("runs", name)
    return found[-1] if found else None


def time_one(model: Path, archive: Path, out: Path, **engine) -> dict:
    from ..batch import run_batch

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    manifest = run_batch(model, str(archive), out, progress=False, **engine)
    wall = time.perf_counter() - start
    shards = manifest["shards"].values()
    n, busy = sum(s["sentences"] for s in shards), sum(s["seconds"] for s in shards)
    return {
        "sentences": n,
        "seconds": round(wall, 2),
        "end_to_end": n / wall,
        "steady": engine.get("workers", 1) * n / busy,
    }


def run(models: dict[str, Path], archive: Path, out: Path, workers: Sequence[int], batch_size: int) -> dict:
    """Times every model with the local engine, then on one local Ray instance at each worker count."""
    import torch

    results: dict = {"threads_local": torch.get_num_threads(), "load_average_before": os.getloadavg()[0], "runs": {}}
    for name, model in models.items():
        results["runs"][name] = {"local": time_one(model, archive, out / f"{name}-local", batch_size=batch_size)}
        print(f"  {name} local: {results['runs'][name]['local']['end_to_end']:.1f} sentences/s", file=sys.stderr)

    from ..batch import LOCAL_RAY_ENV

    for key, value in LOCAL_RAY_ENV.items():
        os.environ.setdefault(key, value)
    import ray

    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    start = time.perf_counter()
    ray.init(address="local", _temp_dir=temp, include_dashboard=False, logging_level="ERROR")
    results["ray_start_seconds"] = round(time.perf_counter() - start, 2)
    cpus = ray.cluster_resources()["CPU"]
    try:
        for w in workers:
            # One CPU (one torch thread) per actor while they fit, else an equal share: two actors at
            # one CPU each would leave nothing for the driver on a two-core machine.
            share = min(1.0, (cpus - 0.5) / w)
            for name, model in models.items():
                r = time_one(
                    model,
                    archive,
                    out / f"{name}-ray{w}",
                    engine="ray",
                    workers=w,
                    cpus_per_worker=share,
                    batch_size=batch_size,
                )
                results["runs"][name][f"ray{w}"] = r | {"cpus_per_worker": share}
                print(f"  {name} ray x{w}: {r['end_to_end']:.1f} sentences/s", file=sys.stderr)
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
    results["load_average_after"] = os.getloadavg()[0]
    return results


def report(r: dict, workers: Sequence[int]) -> str:
    first = next(iter(r["runs"].values()))["local"]
    lines = [
        (
            f"{first['sentences']} sentences in {r['shards']} shards, {r['cpu_count']} CPU(s); local engine "
            f"{r['threads_local']} torch thread(s); Ray start {r['ray_start_seconds']:.1f} s (not counted below)"
        ),
        "sentences/s end to end (steady)",
    ]
    keys = ["local", *(f"ray{w}" for w in workers)]
    head = ["model", "local"] + [f"ray, {w} worker{'s' if w > 1 else ''}" for w in workers]
    rows = [
        [name] + [f"{m[k]['end_to_end']:.1f} ({m[k]['steady']:.1f})" for k in keys] for name, m in r["runs"].items()
    ]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    for row in [head, ["-" * w for w in widths], *rows]:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    # Only the load before the runs says something about other processes: afterwards it is mostly ours.
    if r["load_average_before"] > 0.5:
        lines.append(
            f"load average {r['load_average_before']:.1f} on {r['cpu_count']} cores before the runs: other "
            "processes shared the CPU, so these figures are pessimistic and noisy"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vistance.bench batch", description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=2000, help="sentences in the archive (default 2000)")
    p.add_argument("--shards", type=int, default=8, help="shards they are split into (default 8)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray worker counts (default 1 2)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--baseline", help="baseline run (default: the newest complete runs/baseline/*)")
    p.add_argument("--tiny", help="tiny run (default: the newest complete runs/tiny/*)")
    p.add_argument("--no-e5", action="store_true", help="skip the random e5-small-sized model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)
    try:
        import ray  # noqa: F401
    except ImportError:
        print('error: the batch benchmark runs Ray: pip install -e ".[scale]"', file=sys.stderr)
        return 2

    corpus = corpus_sentences(".")
    with tempfile.TemporaryDirectory(prefix="vistance-bench-batch-") as tmp:
        models = {}
        for name, given in (("baseline", args.baseline), ("tiny", args.tiny)):
            run_dir = Path(given) if given else latest_run(name)
            if run_dir is None:
                print(
                    f"skipping {name}: no complete runs/{name}/* (python train.py --config configs/{name}.yaml)",
                    file=sys.stderr,
                )
                continue
            models[name] = run_dir
        if not args.no_e5:
            print("building a random e5-small-sized checkpoint ...", file=sys.stderr)
            models["e5-small"] = build_checkpoint(
                Path(tmp) / "e5-small", corpus, args.seed, E5_SMALL_SHAPE, "multilingual-e5-small"
            )
        if not models:
            print("error: no model to time", file=sys.stderr)
            return 2
        archive = write_archive(Path(tmp) / "archive", sample(corpus, args.n, args.seed), args.shards)
        results = run(models, archive, Path(tmp) / "out", args.workers, args.batch_size)
    results |= {
        "shards": args.shards,
        "cpu_count": os.cpu_count(),
        "models": {k: str(v) for k, v in models.items() if k != "e5-small"},
    }
    print(report(results, args.workers))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
