"""Score a whole news archive, shard by shard, on one machine or a Ray cluster: ``python -m vistance.batch``.

::

    python -m vistance.batch --model RUN --input 'archive/*.jsonl' --output scored/
    python -m vistance.batch --model RUN --input 'archive/**/*.parquet' --articles --output scored/ \\
        --engine ray --workers 8 [--address auto] [--gpus-per-worker 1]

**A shard is the unit of work.** Each input file (JSONL, CSV or Parquet; ``.jsonl.gz``/``.csv.gz``
too) becomes exactly one Parquet file in the output folder, written to a temporary name and renamed,
so an output file is either complete or absent. ``_manifest.json`` beside them records the
checkpoint's hash, each finished shard's input fingerprint (size, mtime, sha256 of the bytes that
were scored) and counts, which is what makes a rerun safe: finished shards are skipped, and a
different checkpoint, different options or an edited input shard are refused unless ``--overwrite``.
An output file that the manifest does not list (a crash between the rename and the manifest
update) is simply scored again and replaced, so a rerun never duplicates or drops a row.

**Both engines run the same per-shard code** (:class:`~.scorer.ShardScorer`). ``--engine local`` (the
default, which never imports Ray) calls it in a worker process. ``--engine ray`` hands it to Ray Data
as a callable class: ``map_batches`` over a dataset of shard descriptors, one per block, on a pool
of ``--workers`` actors that each load the model once and then read, score and write whole shards;
the Ray driver is a child process, so that Ray going away mid-run is one line and not a silent exit.
Actors write the outputs themselves, so on a multi-node cluster ``--input`` and ``--output`` must
be paths that every node mounts (NFS or similar) and vistance must be installed on every node.
Parallelism is across shards: give at least as many shards as workers.

Output columns are the predict CLI's CSV columns, always all of them so that every shard has one
schema: ``id, text, article, date, position, kind, start, end, claim, claim_score, stance,
stance_favor, stance_against, stance_neutral`` (null where not applicable, full precision), plus
``speaker, speaker_start, speaker_end`` when the classifier's results carry ``speaker`` /
``speaker_span``.

The package, by concern: :mod:`.shards` (finding, reading and writing shards), :mod:`.scorer` (the per-shard
worker both engines run), :mod:`.manifest` (resume, the output lock, progress), :mod:`.local_engine`,
:mod:`.ray_engine`, :mod:`.run` (:func:`run_batch`) and :mod:`.cli`.
"""

from .cli import build_parser, main
from .local_engine import FORKSERVER_PRELOAD
from .manifest import LOCK, MANIFEST, MANIFEST_INTERVAL_S, RunProgress, checkpoint_digest, output_lock, plan, totals
from .ray_engine import LOCAL_RAY_ENV, RAY_DATA_QUIET, ray_session
from .run import EXIT_PARTIAL, run_batch, summary
from .scorer import BATCHES_PER_CHUNK, FAULT_ENV, ShardScorer
from .shards import (
    INT_COLUMNS,
    SENTENCE_COLUMNS,
    BatchError,
    Shard,
    attempts_file,
    failed_record,
    list_shards,
    output_table,
    read_attempts,
    shard_format,
    shard_sentences,
    write_atomic_parquet,
)

__all__ = [
    "BATCHES_PER_CHUNK",
    "EXIT_PARTIAL",
    "FAULT_ENV",
    "FORKSERVER_PRELOAD",
    "INT_COLUMNS",
    "LOCAL_RAY_ENV",
    "LOCK",
    "MANIFEST",
    "MANIFEST_INTERVAL_S",
    "RAY_DATA_QUIET",
    "SENTENCE_COLUMNS",
    "BatchError",
    "RunProgress",
    "Shard",
    "ShardScorer",
    "attempts_file",
    "build_parser",
    "checkpoint_digest",
    "failed_record",
    "list_shards",
    "main",
    "output_lock",
    "output_table",
    "plan",
    "ray_session",
    "read_attempts",
    "run_batch",
    "shard_format",
    "shard_sentences",
    "summary",
    "totals",
    "write_atomic_parquet",
]
