"""The per-shard worker that both engines run: load a checkpoint once, then read, score and write whole shards."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ..data import atomic_write_text
from ..errors import CheckpointError, InputError
from ..inference import StanceClassifier
from ..inference.classifier import stance_counts
from .shards import attempts_file, failed_record, output_table, read_attempts, shard_sentences, write_atomic_parquet

FAULT_ENV = "VISTANCE_FAULT_SHARD"
"""Fault injection for tests: the worker that is about to score the input shard of this file name
exits at once with status 137, as a worker killed for running out of memory does."""
# Sentences per predict call inside a shard: enough batches that sorting by length still pads little,
# few enough that progress moves every few seconds even for a transformer on a CPU.
BATCHES_PER_CHUNK = 16


class ShardScorer:
    """Loads a checkpoint once, then reads, scores and writes whole shards.

    The local engine calls :meth:`score` in-process; Ray Data constructs one per actor and calls it
    through ``__call__``. :meth:`score` yields progress events after each chunk of sentences and a
    last event whose ``record`` is the shard's manifest entry (JSON); every event has the same keys,
    because Ray Data turns each into a one-row block.
    """

    def __init__(
        self,
        checkpoint: str,
        *,
        articles: bool,
        text_field: str,
        batch_size: int,
        num_threads: int | None = None,
        max_attempts: int = 3,
        fault_shard: str | None = None,
        date_field: str | None = None,
        model_engine: str = "auto",
        precision: str = "auto",
        attributor: str | None = None,
    ):
        self.articles = articles
        self.text_field = text_field
        self.max_attempts = max_attempts
        self.fault_shard = fault_shard
        self.date_field = date_field
        self.load_error = None
        try:
            self.clf = StanceClassifier.from_pretrained(
                checkpoint,
                batch_size=batch_size,
                num_threads=num_threads,
                engine=model_engine,
                precision=precision,
                attributor=attributor,
            )
        except (ValueError, OSError) as e:
            # Raised from the first shard instead of here: Ray reports an exception from an actor's
            # __init__ only as text inside ActorDiedError, but passes one from a call back intact.
            self.load_error = CheckpointError(f"{checkpoint}: cannot load the checkpoint ({e})")

    def score(self, input: str, output: str) -> Iterator[dict]:
        if self.load_error is not None:
            raise self.load_error
        # Counted before the work, so a worker that dies on this shard has counted itself: after
        # max_attempts the shard is given up instead of killing worker after worker.
        tries = read_attempts(output)
        attempts = int(tries.get("attempts", 0))
        if attempts >= self.max_attempts:
            reason = tries.get("last") or "killed: out of memory, a crash or kill -9"
            record = failed_record(input, attempts, reason)
            yield {"input": input, "done": 0, "total": 0, "record": json.dumps(record)}
            return
        atomic_write_text(attempts_file(output), json.dumps({"attempts": attempts + 1, "last": tries.get("last")}))
        start = time.perf_counter()
        path = Path(input)
        try:
            with path.open("rb") as f:
                data = f.read()
                stat = os.fstat(f.fileno())
        except OSError as e:
            raise InputError(f"{path}: cannot read ({e.strerror})") from None
        sentences, info = shard_sentences(
            path, data, articles=self.articles, text_field=self.text_field, date_field=self.date_field
        )
        if self.fault_shard is not None and path.name == self.fault_shard:
            os._exit(137)  # fault injection (VISTANCE_FAULT_SHARD): die as an OOM-killed worker does
        chunk = BATCHES_PER_CHUNK * self.clf.batch_size
        results: list[dict] = []
        contexts = self.clf.contexts(sentences)  # the whole shard at once: articles cut by a chunk keep theirs
        for i in range(0, len(sentences), chunk):
            results += self.clf.scores(
                [s["text"] for s in sentences[i : i + chunk]],
                contexts=None if contexts is None else contexts[i : i + chunk],
            )
            yield {"input": input, "done": len(results), "total": len(sentences), "record": ""}
        # Headings and title rows are never claims; then speakers once per shard, after scoring: an article
        # cut by a chunk boundary keeps its context.
        self.clf.apply_structure(results, sentences)
        self.clf.attribute(results, sentences)
        write_atomic_parquet(output_table(sentences, results), Path(output))
        attempts_file(output).unlink(missing_ok=True)
        record = {
            "input": input,
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": hashlib.sha256(data).hexdigest(),
            "sentences": len(sentences),
            **info,
            "counts": stance_counts(results),
            "seconds": round(time.perf_counter() - start, 3),
        }
        yield {"input": input, "done": len(results), "total": len(sentences), "record": json.dumps(record)}

    def __call__(self, batch: dict) -> Iterator[dict]:
        for input, output in zip(batch["input"], batch["output"]):
            for event in self.score(str(input), str(output)):
                yield {k: [v] for k, v in event.items()}
