"""One run: check the options, plan against the manifest, score what is left with the chosen engine, and the line
that sums a run up."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import CheckpointError
from ..inference.cli import format_counts
from .local_engine import run_local
from .manifest import MANIFEST, RunProgress, checkpoint_digest, output_lock, plan
from .ray_engine import run_ray
from .scorer import FAULT_ENV
from .shards import BatchError, list_shards

EXIT_PARTIAL = 3
"""Exit status when some shards failed (their workers kept dying) and the others were scored."""


def run_batch(
    model: str | Path,
    inputs: str,
    output: str | Path,
    *,
    articles: bool = False,
    text_field: str = "text",
    date_field: str | None = None,
    attributor: str | None = None,
    engine: str = "local",
    model_engine: str = "auto",
    precision: str = "auto",
    address: str | None = None,
    workers: int = 1,
    batch_size: int = 32,
    cpus_per_worker: float = 1.0,
    gpus_per_worker: float = 0.0,
    overwrite: bool = False,
    progress: bool = True,
    max_attempts: int = 3,
) -> dict:
    """Score every shard of ``inputs`` not already in ``output``; returns the manifest as written.

    ``timings`` in the result covers this call only; ``counts`` covers every shard in the folder.
    A shard on which ``max_attempts`` workers died is recorded under ``failed`` and the others go on;
    the manifest's status is then ``partial`` (and the command's exit status :data:`EXIT_PARTIAL`).
    """
    from ..checkpoint import CheckpointError as LoadError
    from ..checkpoint import resolve_checkpoint

    if engine not in ("local", "ray"):
        raise BatchError(f"unknown engine {engine!r}; use local or ray")
    if engine == "local" and (workers != 1 or address is not None or cpus_per_worker != 1 or gpus_per_worker):
        raise BatchError("--workers, --address, --cpus-per-worker and --gpus-per-worker need --engine ray")
    if address is not None and address.startswith("ray://"):
        # Ray Data's streaming execution needs a driver inside the cluster: through Ray Client it fails
        # at the first block (AttributeError: 'Worker' object has no attribute 'core_worker', Ray 2.60).
        raise BatchError(
            f"Ray Data cannot run through Ray Client ({address}); run the command on a node of the "
            "cluster with --address auto"
        )
    if workers < 1 or batch_size < 1 or cpus_per_worker <= 0 or gpus_per_worker < 0 or max_attempts < 1:
        raise BatchError(
            "--workers, --batch-size and --max-attempts must be at least 1, --cpus-per-worker above 0, "
            "--gpus-per-worker at least 0"
        )
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise BatchError(f"{out}: exists and is not a folder; --output names the folder for the Parquet shards")
    shards = list_shards(inputs, out)
    try:
        ckpt = resolve_checkpoint(model).absolute()
    except LoadError as e:
        raise CheckpointError(str(e)) from None
    checkpoint = {"path": str(ckpt), "sha256": checkpoint_digest(ckpt)}
    options = {"articles": articles, "text_field": text_field}
    if date_field:  # only when given, so folders scored before the option existed still resume
        options["date_field"] = date_field
    if attributor:  # likewise
        options["attributor"] = attributor
    out.mkdir(parents=True, exist_ok=True)

    with output_lock(out):
        manifest, todo = plan(out, shards, checkpoint, options, overwrite)
        manifest.update(engine=engine, workers=workers, batch_size=batch_size)
        bar = RunProgress(out, manifest, todo, len(shards) - len(todo), progress)
        bar.save()
        scorer_kwargs = {
            "checkpoint": str(ckpt),
            "articles": articles,
            "text_field": text_field,
            "batch_size": batch_size,
            "max_attempts": max_attempts,
            "date_field": date_field,
            "fault_shard": os.environ.get(FAULT_ENV) or None,
            "model_engine": model_engine,
            "attributor": attributor,
            "precision": precision,
        }
        status = "failed"
        try:
            if todo and engine == "local":
                run_local(todo, out, scorer_kwargs, bar)
            elif todo:
                run_ray(
                    todo,
                    out,
                    scorer_kwargs,
                    bar,
                    address=address,
                    workers=workers,
                    cpus_per_worker=cpus_per_worker,
                    gpus_per_worker=gpus_per_worker,
                )
            status = "complete"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            bar.close()
            bar.save(status)
    return manifest


def summary(manifest: dict, out: str | Path) -> str:
    """The one line that ends a run: what the folder holds, and what this run did how fast."""
    c, t = manifest["counts"], manifest["timings"]
    held = f"{out}: {c['shards']} shard(s), {c['sentences']:,} sentence(s): {format_counts(c['outcomes'])}; "
    failed = manifest.get("failed") or {}
    if failed:
        entry = next(iter(failed.values()))
        more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
        held = (
            f"partial: {len(failed)} shard(s) failed ({entry['input']}{more}: {entry['error']}; listed under "
            f"'failed' in {MANIFEST}, rerun the same command to retry them); " + held
        )
    if not t["shards"] and not failed:
        return held + "nothing left to score"
    resumed = f" ({t['shards_already_done']} were already done)" if t["shards_already_done"] else ""
    return (
        held + f"this run: {t['shards']} shard(s){resumed}, {t['sentences']:,} sentence(s) in {t['seconds']:.1f} s, "
        f"{t['sentences_per_second']:,.1f} sentences/s (engine {manifest['engine']}, {manifest['workers']} "
        "worker(s))"
    )
