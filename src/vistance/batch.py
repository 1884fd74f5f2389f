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

**Both engines run the same per-shard code** (:class:`ShardScorer`). ``--engine local`` (the
default, which never imports Ray) calls it in this process. ``--engine ray`` hands it to Ray Data
as a callable class: ``map_batches`` over a dataset of shard descriptors, one per block, on a pool
of ``--workers`` actors that each load the model once and then read, score and write whole shards.
Actors write the outputs themselves, so on a multi-node cluster ``--input`` and ``--output`` must
be paths that every node mounts (NFS or similar) and vistance must be installed on every node.
Parallelism is across shards: give at least as many shards as workers.

Output columns are the predict CLI's CSV columns, always all of them so that every shard has one
schema: ``id, text, article, date, position, kind, start, end, claim, claim_score, stance,
stance_favor, stance_against, stance_neutral`` (null where not applicable, full precision), plus
``speaker, speaker_start, speaker_end`` when the classifier's results carry ``speaker`` /
``speaker_span``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .data import atomic_path, atomic_write_text, file_sha256
from .data.articles import article_sentences
from .data.dates import date_columns, missing_date_field, row_date
from .data.tables import count_rows, iter_table, table_format, table_stem
from .errors import CheckpointError, InputError, VistanceError, exit_on_error
from .inference import StanceClassifier
from .inference.classifier import stance_counts
from .inference.cli import format_counts
from .logs import progress
from .runs import now_iso, write_json
from .tasks import STANCE_LABELS
from .text import normalize

MANIFEST = "_manifest.json"
LOCK = ".vistance-batch.lock"
EXIT_PARTIAL = 3
"""Exit status when some shards failed (their workers kept dying) and the others were scored."""
FAULT_ENV = "VISTANCE_FAULT_SHARD"
"""Fault injection for tests: the worker that is about to score the input shard of this file name
exits at once with status 137, as a worker killed for running out of memory does."""
# Sentences per predict call inside a shard: enough batches that sorting by length still pads little,
# few enough that progress moves every few seconds even for a transformer on a CPU.
BATCHES_PER_CHUNK = 16
# The manifest is rewritten after a finished shard at most this often: with thousands of shards,
# rewriting it after every one would cost more than the shards. Losing the last few entries in a
# crash only means those shards are scored again.
MANIFEST_INTERVAL_S = 2.0
# Defaults for a Ray instance that this command starts itself (never when joining a cluster), unless
# already set. Turning off Ray's multi-node support makes it bind 127.0.0.1 instead of the machine's
# address, where machines that allow only loopback traffic hang at start; token authentication
# guards nothing on a single-user local instance.
LOCAL_RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}

# Ray Data's console messages that this command replaces: that its progress bars are off (ours counts
# sentences), when each execution starts and ends, and an actor's exception, logged with Ray's
# traceback (and, raised as the original class, called a Ray bug) before it is raised here, where
# a VistanceError becomes one line and anything else keeps its traceback.
RAY_DATA_QUIET = {
    "ray.data._internal.progress": logging.ERROR,
    "ray.data._internal.execution.streaming_executor": logging.WARNING,
    "ray.data._internal.execution.streaming_executor_state": logging.CRITICAL,
    "ray.data.exceptions": logging.CRITICAL,
}


class BatchError(VistanceError):
    """The output folder, its manifest or the engine cannot be used as asked; the message says why."""


# --------------------------------------------------------------------------- shards


@dataclass(frozen=True)
class Shard:
    input: str
    """Absolute path of the input file."""
    name: str
    """Output file, relative to the output folder: the input's path under its glob's base, as .parquet."""
    size: int


def shard_format(path: str | Path) -> tuple[str, bool] | None:
    """(format, gzipped) of a shard, or None for a file that is not one.

    Any table :mod:`vistance.data.tables` reads, except ``.json`` (a folder of shards may hold manifests).
    """
    kind = table_format(path)
    name = Path(path).name.lower()
    if kind is None or name.endswith((".json", ".json.gz")):
        return None
    return kind




def _glob_base(pattern: str) -> Path | None:
    """The folder part of a glob before its first wildcard (output names are relative to it); None if no glob."""
    parts = Path(pattern).parts
    for i, part in enumerate(parts):
        if any(c in part for c in "*?["):
            return Path(*parts[:i]) if i else Path(".")
    return None


def list_shards(pattern: str, output: str | Path) -> list[Shard]:
    """The input shards for a file, a folder (its shard files) or a glob (``**`` recurses), sorted.

    Files under the output folder are left out, so an output folder inside the archive is never read
    back as input.
    """
    path = Path(pattern)
    out = Path(output).absolute()
    base = _glob_base(pattern)
    if path.is_dir():
        if path.absolute() == out:
            raise InputError(f"{path}: the output folder cannot be the input folder; choose another --output")
        base = path
        files = sorted(p for p in path.iterdir() if p.is_file() and shard_format(p))
        if not files:
            raise InputError(f"{path}: no .jsonl, .csv or .parquet shards in this folder")
    else:
        if base is None:
            base = path.parent
        files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        files = [f for f in files if not f.absolute().is_relative_to(out)]
        if not files:
            raise InputError(f"no input matches {pattern!r}")
        for f in files:
            if not shard_format(f):
                raise InputError(f"{f}: not a shard; give .jsonl, .csv or .parquet files (.jsonl.gz, .csv.gz too)")
    shards, seen = [], {}
    for f in files:
        rel = f.absolute().relative_to(base.absolute())
        shard = Shard(str(f.absolute()), str(rel.with_name(table_stem(rel) + ".parquet")), f.stat().st_size)
        if shard.name in seen:
            raise InputError(f"{seen[shard.name]} and {f} would both be written to {shard.name}; rename one")
        if Path(shard.input) == out / shard.name:
            raise InputError(f"{f}: the output folder would overwrite this input; choose another --output")
        seen[shard.name] = f
        shards.append(shard)
    return shards


# --------------------------------------------------------------------------- reading a shard


def _str_or_none(value) -> str | None:
    return None if value is None or value == "" else str(value)


def shard_sentences(path: str | Path, data: bytes, *, articles: bool, text_field: str,
                    date_field: str | None = None) -> tuple[list[dict], dict]:
    """The sentences of one shard, in input order, and ``{"articles", "skipped"}`` counts.

    Sentence rows keep their ``id`` (else ``<shard>-<line>``, as the predict CLI names them) and pass
    ``article`` and ``date`` through. Article rows are split by :func:`article_sentences`, as the predict
    CLI splits them, so ids, positions, kinds and offsets are the ones ``StanceClassifier.analyze`` gives;
    the row's date wins over a ``date YYYY-MM-DD`` marker in the text, and a ``title`` becomes one more sentence
    (kind ``title``, id ``<article>-title``, no position or offsets, since it is not in the text). The date is
    ``date_field``'s, else the first of ``date``, ``published_at``, ``pubDate``, ``time`` holding one.
    """
    path = Path(path)
    stem = table_stem(path)
    sentences: list[dict] = []
    info = {"articles": 0, "skipped": 0}
    has_date_field, fields = False, ()
    rows = iter_table(path, data, columns=("id", text_field, "article", "title", *date_columns(date_field)),
                      error=InputError)
    for n, row in rows:
        has_date_field = has_date_field or not missing_date_field(row, date_field)
        fields = fields or tuple(map(str, row))
        if text_field not in row:
            raise InputError(f"{path}:{n}: no {text_field!r} field (fields: {', '.join(map(str, row))}); "
                             "name the text column with --text-field")
        raw = "" if row[text_field] is None else str(row[text_field])
        fields = fields or tuple(map(str, row))
        rid = _str_or_none(row.get("id")) or f"{stem}-{n}"
        if not articles:
            text = normalize(raw)
            if not text:
                info["skipped"] += 1
                continue
            sentences.append({"id": rid, "text": text, "article": _str_or_none(row.get("article")),
                              "date": row_date(row, date_field)})
            continue
        found = article_sentences(raw, rid, date=row_date(row, date_field), title=_str_or_none(row.get("title")))
        if not found:
            info["skipped"] += 1
            continue
        info["articles"] += 1
        sentences += found
    if fields and not has_date_field:
        raise InputError(f"{path}: no {date_field!r} field for --date-field (fields: {', '.join(fields)})")
    return sentences, info


# --------------------------------------------------------------------------- writing a shard

SENTENCE_COLUMNS = ("id", "text", "article", "date", "position", "kind", "start", "end")
INT_COLUMNS = frozenset(("position", "start", "end", "speaker_start", "speaker_end"))


def output_table(sentences: Sequence[dict], results: Sequence[dict]):
    """The Parquet table of one shard: sentence fields, then the prediction flattened as in the predict CSV."""
    import pyarrow as pa

    columns = {c: [s.get(c) for s in sentences] for c in SENTENCE_COLUMNS}
    columns["claim"] = [r["claim"] for r in results]
    columns["claim_score"] = [r["claim_score"] for r in results]
    columns["stance"] = [r["stance"] for r in results]
    for label in STANCE_LABELS:
        columns[f"stance_{label}"] = [None if r["stance_scores"] is None else r["stance_scores"][label]
                                      for r in results]
    if any("speaker" in r or "speaker_span" in r for r in results):
        spans = [r.get("speaker_span") or (None, None) for r in results]
        columns["speaker"] = [r.get("speaker") for r in results]
        columns["speaker_start"] = [span[0] for span in spans]
        columns["speaker_end"] = [span[1] for span in spans]
        columns["speaker_confidence"] = [r.get("speaker_confidence") for r in results]
    # An explicit type per column: an all-null column (no article input, a claim-only model) would
    # otherwise get Arrow's null type, and shards would disagree on their schema.
    return pa.table(columns, schema=pa.schema([(c, _arrow_type(c)) for c in columns]))


def _arrow_type(column: str):
    import pyarrow as pa

    if column in INT_COLUMNS:
        return pa.int32()
    if column in ("claim_score", "speaker_confidence") or column.startswith("stance_"):
        return pa.float64()
    return pa.string()


def write_atomic_parquet(table, target: Path) -> None:
    """Write beside the target, fsync, then rename: a reader or a rerun never sees half a shard.

    The temporary name starts with a dot, which Parquet dataset readers skip; a full disk or an
    exception removes it, and a killed worker leaves at most one per attempt, which a rerun deletes.
    """
    import pyarrow.parquet as pq

    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)


# --------------------------------------------------------------------------- attempts and failed shards


def attempts_file(output: str | Path) -> Path:
    """Beside a shard's output: how many workers started on it, and why the last one died.

    Kept in the output folder (which every Ray node mounts), so it survives the worker that dies
    and bounds retries whoever retries: this process's local engine or Ray's restarted actors.
    """
    output = Path(output)
    return output.with_name(f".{output.name}.attempts")


def read_attempts(output: str | Path) -> dict:
    try:
        found = json.loads(attempts_file(output).read_text(encoding="utf-8"))
        return found if isinstance(found, dict) else {}
    except (OSError, ValueError):
        return {}


def failed_record(input: str, attempts: int, reason: str) -> dict:
    """The manifest entry of a shard given up after ``attempts`` workers died on it."""
    size = os.stat(input).st_size if os.path.exists(input) else None
    return {"failed": True, "input": input, "size": size, "rows": count_rows(input), "attempts": attempts,
            "error": f"the worker scoring it died {attempts} time(s) ({reason})", "at": now_iso()}


# --------------------------------------------------------------------------- the per-shard worker


class ShardScorer:
    """Loads a checkpoint once, then reads, scores and writes whole shards.

    The local engine calls :meth:`score` in-process; Ray Data constructs one per actor and calls it
    through ``__call__``. :meth:`score` yields progress events after each chunk of sentences and a
    last event whose ``record`` is the shard's manifest entry (JSON); every event has the same keys,
    because Ray Data turns each into a one-row block.
    """

    def __init__(self, checkpoint: str, *, articles: bool, text_field: str, batch_size: int,
                 num_threads: int | None = None, max_attempts: int = 3, fault_shard: str | None = None,
                 date_field: str | None = None, attributor: str | None = None):
        self.articles = articles
        self.text_field = text_field
        self.max_attempts = max_attempts
        self.fault_shard = fault_shard
        self.date_field = date_field
        self.load_error = None
        try:
            self.clf = StanceClassifier.from_pretrained(checkpoint, batch_size=batch_size, num_threads=num_threads,
                                                        attributor=attributor)
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
        sentences, info = shard_sentences(path, data, articles=self.articles, text_field=self.text_field,
                                          date_field=self.date_field)
        if self.fault_shard is not None and path.name == self.fault_shard:
            os._exit(137)  # fault injection (VISTANCE_FAULT_SHARD): die as an OOM-killed worker does
        chunk = BATCHES_PER_CHUNK * self.clf.batch_size
        results: list[dict] = []
        contexts = self.clf.contexts(sentences)  # the whole shard at once: articles cut by a chunk keep theirs
        for i in range(0, len(sentences), chunk):
            results += self.clf.scores([s["text"] for s in sentences[i : i + chunk]],
                                       contexts=None if contexts is None else contexts[i : i + chunk])
            yield {"input": input, "done": len(results), "total": len(sentences), "record": ""}
        # Headings and title rows are never claims; then speakers once per shard, after scoring: an article
        # cut by a chunk boundary keeps its context.
        self.clf.apply_structure(results, sentences)
        self.clf.attribute(results, sentences)
        write_atomic_parquet(output_table(sentences, results), Path(output))
        attempts_file(output).unlink(missing_ok=True)
        record = {
            "input": input, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "sha256": hashlib.sha256(data).hexdigest(), "sentences": len(sentences), **info,
            "counts": stance_counts(results), "seconds": round(time.perf_counter() - start, 3),
        }
        yield {"input": input, "done": len(results), "total": len(sentences), "record": json.dumps(record)}

    def __call__(self, batch: dict) -> Iterator[dict]:
        for input, output in zip(batch["input"], batch["output"]):
            for event in self.score(str(input), str(output)):
                yield {k: [v] for k, v in event.items()}


# --------------------------------------------------------------------------- manifest and resume


def checkpoint_digest(directory: Path) -> str:
    """sha256 over a checkpoint folder's file names and contents: changes whenever any file does."""
    h = hashlib.sha256()
    for f in sorted(p for p in directory.rglob("*") if p.is_file()):
        h.update(f.relative_to(directory).as_posix().encode() + b"\0" + file_sha256(f).encode() + b"\n")
    return h.hexdigest()


def _read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(manifest, dict) and isinstance(manifest.get("shards"), dict):
            return manifest
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    raise BatchError(f"{path}: unreadable manifest; delete {out} to start again")


def _same_input(shard: Shard, entry: dict) -> bool:
    """Whether the file is still the bytes that were scored: size and mtime first, content when they differ."""
    stat = os.stat(shard.input)
    if entry.get("input") == shard.input and (stat.st_size, stat.st_mtime_ns) == (entry["size"], entry["mtime_ns"]):
        return True
    return stat.st_size == entry["size"] and file_sha256(shard.input) == entry["sha256"]


def plan(out: Path, shards: Sequence[Shard], checkpoint: dict, options: dict, overwrite: bool) -> tuple[dict, list]:
    """The manifest to continue from and the shards still to score; refuses what would mix results.

    A manifest made with another checkpoint or other options, or a finished shard whose input has
    changed, raises :class:`BatchError` unless ``overwrite``; then the affected shards are redone
    (all of them, and the old outputs deleted, when the checkpoint or options differ).
    """
    old = _read_manifest(out)
    if old is None and any(p.name != LOCK for p in out.iterdir()) and not overwrite:
        raise BatchError(f"{out}: not empty and has no {MANIFEST}, so it is not a vistance.batch output; "
                         "choose a new folder (or pass --overwrite to write into it anyway)")
    if old is not None and (old.get("checkpoint", {}).get("sha256") != checkpoint["sha256"]
                            or old.get("options") != options):
        if not overwrite:
            what = "checkpoint" if old.get("options") == options else "options (--articles / --text-field)"
            raise BatchError(f"{out} was written with another {what} ({old['checkpoint']['path']}, "
                             f"{old['options']}); pass --overwrite to score every shard again, or choose another "
                             "--output")
        for name in old["shards"]:
            (out / name).unlink(missing_ok=True)
        old = None
    done = {} if old is None else old["shards"]
    by_input = {e["input"]: name for name, e in done.items()}
    todo, changed = [], []
    for shard in shards:
        other = by_input.get(shard.input)
        if other is not None and other != shard.name and (out / other).is_file():
            raise BatchError(f"{shard.input} was written to {out / other} by an earlier run and would now go to "
                             f"{out / shard.name} (the --input glob's base folder changed); rerun with the earlier "
                             "--input, or choose another --output")
        entry = done.get(shard.name)
        if entry is None or not (out / shard.name).is_file():
            todo.append(shard)
        elif not _same_input(shard, entry):
            changed.append(shard)
    if changed and not overwrite:
        more = f" and {len(changed) - 1} other shard(s)" if len(changed) > 1 else ""
        raise BatchError(f"{changed[0].input}{more} changed since {out / changed[0].name} was written; pass "
                         "--overwrite to score the changed shard(s) again")
    redo = {s.name for s in changed}
    todo = sorted(todo + changed, key=lambda s: s.name)
    for shard in todo:  # shards that failed before, or were cut short by a crash, get a fresh retry budget
        attempts_file(out / shard.name).unlink(missing_ok=True)
    manifest = {"vistance_version": __version__, "status": "running", "started": now_iso(), "updated": now_iso(),
                "finished": None, "checkpoint": checkpoint, "options": options, "engine": None, "workers": None,
                "counts": {}, "timings": {}, "shards": {n: e for n, e in done.items() if n not in redo}, "failed": {}}
    return manifest, todo


def totals(shard_entries: dict) -> dict:
    """Counts over finished shards: shards, articles, sentences, skipped rows and counts by outcome."""
    out = {"shards": len(shard_entries), "articles": 0, "sentences": 0, "skipped": 0, "outcomes": {}}
    for e in shard_entries.values():
        for k in ("articles", "sentences", "skipped"):
            out[k] += e[k]
        for k, v in e["counts"].items():
            out["outcomes"][k] = out["outcomes"].get(k, 0) + v
    return out


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """One run per output folder at a time: two would race on the manifest and the same shards."""
    with open(out / LOCK, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"{out}: another vistance.batch run is writing this folder") from None
        yield


class _Progress:
    """Applies events from either engine: the manifest entry of each finished shard, and the progress bar.

    The bar counts input bytes, which is known for every shard before any is read, so its ETA
    holds for shards of unequal size; shards, sentences and sentences/s are shown beside it.
    """

    def __init__(self, out: Path, manifest: dict, todo: Sequence[Shard], already_done: int, show: bool):
        self.out, self.manifest, self.already_done = out, manifest, already_done
        self.by_input = {s.input: s for s in todo}
        self.shards_total, self.shards_done, self.shards_failed, self.sentences = len(todo), 0, 0, 0
        self.done: dict[str, tuple[int, int]] = {}  # (sentences, bytes) counted so far, per shard
        self.start = self.last_write = time.perf_counter()
        self.bar = progress(total=sum(s.size for s in todo), disable=not (show and todo), mininterval=0.5,
                            bar_format="batch: {percentage:3.0f}%|{bar}| {desc} [{elapsed}<{remaining}]")
        self._describe()

    def _describe(self) -> None:
        rate = self.sentences / max(time.perf_counter() - self.start, 1e-9)
        failed = f" ({self.shards_failed} failed)" if self.shards_failed else ""
        self.bar.set_description_str(f"{self.shards_done}/{self.shards_total} shards{failed}, {self.sentences:,} "
                                     f"sentences, {rate:,.0f} sentences/s", refresh=False)

    def update(self, event: dict) -> None:
        shard = self.by_input[str(event["input"])]
        done, total = int(event["done"]), int(event["total"])
        # An empty shard's only event is its last one: it still moves the bar by its bytes.
        nbytes = shard.size if event["record"] else shard.size * done // max(total, 1)
        previous, previous_bytes = self.done.get(shard.input, (0, 0))
        self.done[shard.input] = done, nbytes
        self.sentences += done - previous
        if event["record"]:
            record = json.loads(str(event["record"]))
            if record.get("failed"):
                self.fail(shard, record)
                return
            self.shards_done += 1
            self.manifest["shards"][shard.name] = record
            if time.perf_counter() - self.last_write >= MANIFEST_INTERVAL_S:
                self.save()
        self._describe()
        self.bar.update(nbytes - previous_bytes)

    def restart(self, shard: Shard) -> None:
        """A worker died on ``shard``: what it had counted is taken back, since the retry counts it again."""
        done, nbytes = self.done.pop(shard.input, (0, 0))
        self.sentences -= done
        self.bar.update(-nbytes)
        self._describe()

    def fail(self, shard: Shard, record: dict) -> None:
        """``shard`` is given up: recorded under ``failed`` (saved at once), and no stale output left behind."""
        self.restart(shard)
        (self.out / shard.name).unlink(missing_ok=True)  # e.g. the output of an input that has since changed
        attempts_file(self.out / shard.name).unlink(missing_ok=True)
        self.shards_failed += 1
        self.manifest["failed"][shard.name] = record
        self.bar.update(shard.size)
        self.save()

    def save(self, status: str = "running") -> None:
        elapsed = time.perf_counter() - self.start
        if status == "complete" and self.manifest["failed"]:
            status = "partial"
        self.manifest.update(status=status, updated=now_iso(), counts=totals(self.manifest["shards"]), timings={
            "seconds": round(elapsed, 3), "shards": self.shards_done, "shards_failed": self.shards_failed,
            "shards_already_done": self.already_done, "sentences": self.sentences,
            "sentences_per_second": round(self.sentences / max(elapsed, 1e-9), 2)})
        if status in ("complete", "partial"):
            self.manifest["finished"] = now_iso()
        write_json(self.out / MANIFEST, self.manifest)
        self.last_write = time.perf_counter()

    def close(self) -> None:
        self.bar.close()


# --------------------------------------------------------------------------- engines


def _local_worker(conn, scorer_kwargs: dict) -> None:
    """The local engine's worker process: loads the model once, then scores the shards it is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's: it stops this process itself
    scorer = ShardScorer(**scorer_kwargs)
    while (job := conn.recv()) is not None:
        try:
            for event in scorer.score(*job):
                conn.send(("event", event))
            conn.send(("done", None))
        except VistanceError as e:
            conn.send(("error", type(e)(str(e))))
        except Exception as e:  # noqa: BLE001 -- a bug: the driver raises it with this traceback
            conn.send(("error", RuntimeError(f"{job[0]}: {type(e).__name__}: {e}\n{traceback.format_exc()}")))


# Imported once by the fork server, so that a new worker only loads the model (best effort: a module
# that is not installed is skipped). Nothing here starts a thread.
FORKSERVER_PRELOAD = ["vistance.batch", "vistance.models.baseline", "torch", "transformers", "pyvi.ViTokenizer",
                      "pyarrow.parquet"]


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


class _LocalWorker:
    """One worker process of the local engine, started fresh after a worker dies.

    Workers come from a fork server: a clean process that forks each worker, so the worker never
    inherits the driver's threads (a process forked after torch ran on several threads hangs in
    its first multi-threaded operation) and a new one starts in a fraction of a second.
    """

    def __init__(self, scorer_kwargs: dict):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_local_worker, args=(child, scorer_kwargs), daemon=True)
        self.proc.start()
        child.close()

    def score(self, shard: Shard, out: Path, progress: _Progress) -> str | None:
        """Score one shard, passing its events to ``progress``: None when done, else why the worker died."""
        self.conn.send((shard.input, str(out / shard.name)))
        while True:
            if not self.conn.poll(0.5):
                if self.proc.is_alive() or self.conn.poll(0):
                    continue
                self.proc.join()
                return _exit_reason(self.proc.exitcode)
            try:
                kind, payload = self.conn.recv()
            except (EOFError, ConnectionError):
                self.proc.join()
                return _exit_reason(self.proc.exitcode)
            if kind == "event":
                progress.update(payload)
            elif kind == "done":
                return None
            else:
                raise payload

    def close(self) -> None:
        if self.proc.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def _run_local(todo: Sequence[Shard], out: Path, scorer_kwargs: dict, progress: _Progress) -> None:
    """Shards one after another in a worker process; a worker that dies is replaced, and its shard retried
    until ``max_attempts`` workers have died on it: then it is recorded as failed and the run goes on."""
    max_attempts = scorer_kwargs["max_attempts"]
    worker = None
    try:
        for shard in todo:
            deaths = 0
            while True:
                if worker is None:
                    worker = _LocalWorker(scorer_kwargs)
                died = worker.score(shard, out, progress)
                if died is None:
                    break
                worker.close()
                worker, deaths = None, deaths + 1
                progress.restart(shard)
                tries = read_attempts(out / shard.name)
                atomic_write_text(attempts_file(out / shard.name), json.dumps(tries | {"last": died}))
                if deaths >= max_attempts:  # also when it died before counting itself (e.g. loading the model)
                    progress.fail(shard, failed_record(shard.input, deaths, died))
                    break
                print(f"warning: {shard.input}: the worker died ({died}); retrying with a new worker "
                      f"(attempt {deaths + 1} of {max_attempts})", file=sys.stderr)
    finally:
        if worker is not None:
            worker.close()


@contextlib.contextmanager
def ray_session(address: str | None, need: dict[str, float]) -> Iterator:
    """Ray, connected: to ``address``, to a session this process already opened, or to a new local instance.

    A local instance gets a private, short temporary folder, removed afterwards (Ray's socket paths
    must fit in 107 bytes, and another user's ``/tmp/ray`` is not writable) unless ``RAY_TMPDIR``
    says where Ray should keep its files; it is shut down at the end. ``need``
    (total CPUs/GPUs of the actor pool) is checked against a local instance, where Ray would
    otherwise wait forever for actors it cannot place.
    """
    if address is None:
        for key, value in LOCAL_RAY_ENV.items():
            os.environ.setdefault(key, value)
    try:
        import ray
    except ImportError:
        raise BatchError('--engine ray needs Ray: pip install -e ".[scale]"') from None
    if ray.is_initialized():
        yield ray
        return
    temp = None
    if address is None:
        if "RAY_TMPDIR" not in os.environ:
            temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
        ray.init(address="local", _temp_dir=temp, include_dashboard=False, logging_level=logging.WARNING)
    else:
        try:
            ray.init(address=address, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise BatchError(f"cannot join the Ray cluster at {address} ({' '.join(str(e).split())})") from None
    try:
        if address is None:
            have = ray.cluster_resources()
            for resource, amount in need.items():
                if amount > have.get(resource, 0):
                    raise BatchError(f"the actors need {amount:g} {resource} in all and this machine's Ray has "
                                     f"{have.get(resource, 0):g}; lower --workers or the per-worker share")
        yield ray
    finally:
        ray.shutdown()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _vistance_cause(err: BaseException | None) -> VistanceError | None:
    """The VistanceError an actor raised, if that is what stopped a Ray run.

    Ray wraps it (the original is ``cause``) and appends its retry advice to the message on new
    lines; a VistanceError message is one line, so the first line is the original message.
    """
    while err is not None:
        cause = getattr(err, "cause", None)
        if isinstance(cause, BaseException):
            err = cause
        elif isinstance(err, VistanceError):
            return type(err)(str(err).split("\n")[0])
        else:
            err = err.__cause__
    return None


def _run_ray(todo: Sequence[Shard], out: Path, scorer_kwargs: dict, progress: _Progress, *, address: str | None,
             workers: int, cpus_per_worker: float, gpus_per_worker: float) -> None:
    workers = min(workers, len(todo))  # an actor without a shard would only load the model
    need = {"CPU": workers * cpus_per_worker, "GPU": workers * gpus_per_worker}
    with ray_session(address, {k: v for k, v in need.items() if v}) as ray:
        from ray.data import ActorPoolStrategy, DataContext

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False  # ours counts sentences; Ray's would count blocks
        ctx.print_on_execution_start = False
        # Each progress event its own block: Ray Data would otherwise gather a task's small outputs
        # into one block and deliver them only when the whole shard is done.
        ctx.target_max_block_size = 1
        for name, level in RAY_DATA_QUIET.items():
            logging.getLogger(name).setLevel(level)
        ctx.raise_original_map_exception = True
        items = [{"input": s.input, "output": str(out / s.name)} for s in todo]
        ds = ray.data.from_items(items, override_num_blocks=len(items))  # one shard per block, so per task
        ds = ds.map_batches(
            ShardScorer, batch_size=1, num_cpus=cpus_per_worker, num_gpus=gpus_per_worker or None,
            # One shard in flight per actor: a shard is long, and one queued behind another on a busy
            # actor would wait while an idle actor has nothing to do.
            compute=ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=1),
            fn_constructor_kwargs={**scorer_kwargs, "num_threads": max(1, int(cpus_per_worker))},
            # Ray forwards actors' output line by line: a model-loading bar would arrive as a garbled
            # line, late, beside ours.
            runtime_env={"env_vars": {"HF_HUB_DISABLE_PROGRESS_BARS": "1"}},
            # Ray Data restarts a dead actor and retries its task on it; ShardScorer counts the
            # attempts per shard (in the output folder) and gives a shard up after max_attempts.
            # This bound on restarts stops an actor that dies before it reaches any shard (e.g.
            # while loading the model) from being restarted forever.
            max_restarts=scorer_kwargs["max_attempts"] * len(todo) + workers,
        )
        try:
            for event in ds.iter_rows():
                progress.update(event)
        except Exception as e:
            cause = _vistance_cause(e)
            if cause is not None:
                raise cause from None
            if isinstance(e, (ray.exceptions.RaySystemError, ConnectionError)):  # the cluster went away
                first = " ".join(str(e).split("\n")[0].split())[:300]
                raise BatchError(f"Ray stopped answering mid-run ({type(e).__name__}: {first}); the "
                                 f"{progress.shards_done} shard(s) finished in this run are kept in {out} and listed "
                                 f"in {MANIFEST}: rerun the same command to score the rest") from None
            raise


# --------------------------------------------------------------------------- the run


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
    from .checkpoint import CheckpointError as LoadError
    from .checkpoint import resolve_checkpoint

    if engine not in ("local", "ray"):
        raise BatchError(f"unknown engine {engine!r}; use local or ray")
    if engine == "local" and (workers != 1 or address is not None or cpus_per_worker != 1 or gpus_per_worker):
        raise BatchError("--workers, --address, --cpus-per-worker and --gpus-per-worker need --engine ray")
    if address is not None and address.startswith("ray://"):
        # Ray Data's streaming execution needs a driver inside the cluster: through Ray Client it fails
        # at the first block (AttributeError: 'Worker' object has no attribute 'core_worker', Ray 2.60).
        raise BatchError(f"Ray Data cannot run through Ray Client ({address}); run the command on a node of the "
                         "cluster with --address auto")
    if workers < 1 or batch_size < 1 or cpus_per_worker <= 0 or gpus_per_worker < 0 or max_attempts < 1:
        raise BatchError("--workers, --batch-size and --max-attempts must be at least 1, --cpus-per-worker above 0, "
                         "--gpus-per-worker at least 0")
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

    with _locked(out):
        manifest, todo = plan(out, shards, checkpoint, options, overwrite)
        manifest.update(engine=engine, workers=workers, batch_size=batch_size)
        bar = _Progress(out, manifest, todo, len(shards) - len(todo), progress)
        bar.save()
        scorer_kwargs = {"checkpoint": str(ckpt), "articles": articles, "text_field": text_field,
                         "batch_size": batch_size, "max_attempts": max_attempts, "date_field": date_field,
                         "attributor": attributor,
                         "fault_shard": os.environ.get(FAULT_ENV) or None}
        status = "failed"
        try:
            if todo and engine == "local":
                _run_local(todo, out, scorer_kwargs, bar)
            elif todo:
                _run_ray(todo, out, scorer_kwargs, bar, address=address, workers=workers,
                         cpus_per_worker=cpus_per_worker, gpus_per_worker=gpus_per_worker)
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
        held = (f"partial: {len(failed)} shard(s) failed ({entry['input']}{more}: {entry['error']}; listed under "
                f"'failed' in {MANIFEST}, rerun the same command to retry them); " + held)
    if not t["shards"] and not failed:
        return held + "nothing left to score"
    resumed = f" ({t['shards_already_done']} were already done)" if t["shards_already_done"] else ""
    return (
        held + f"this run: {t['shards']} shard(s){resumed}, {t['sentences']:,} sentence(s) in {t['seconds']:.1f} s, "
        f"{t['sentences_per_second']:,.1f} sentences/s (engine {manifest['engine']}, {manifest['workers']} "
        "worker(s))"
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vistance.batch",
                                description="Score a news archive (JSONL/CSV/Parquet shards) into Parquet shards.")
    p.add_argument("--model", required=True, help="run folder or checkpoint folder")
    p.add_argument("--input", required=True, help="a shard, a folder of shards, or a quoted glob ('a/**/*.jsonl')")
    p.add_argument("--output", required=True, help="folder for the output shards and _manifest.json")
    p.add_argument("--articles", action="store_true", help="rows are whole articles (id, text, optional date, "
                   "title), split into sentences")
    p.add_argument("--text-field", default="text", help="name of the text column (default: text)")
    p.add_argument("--date-field", metavar="NAME", help="column holding each row's date (default: the first of date, "
                   "published_at, pubDate, time that holds one; ISO datetimes and RSS dates become YYYY-MM-DD)")
    p.add_argument("--attributor", choices=("rules", "learned"),
                   help="how speakers are attributed: the rules, or the learned ranker over their candidates "
                        "(default: the checkpoint's)")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process (default); ray: a pool of actors on a Ray cluster")
    p.add_argument("--address", help="Ray cluster to join, from one of its nodes: auto (the cluster `ray start` "
                   "started here) or HEAD_IP:6379; default: start a private Ray on this machine")
    p.add_argument("--workers", type=int, default=1, help="Ray actors, each with its own copy of the model")
    p.add_argument("--batch-size", type=int, default=32, help="sentences per forward pass (default 32)")
    p.add_argument("--cpus-per-worker", type=float, default=1.0,
                   help="CPUs Ray reserves per actor, also its torch threads (default 1; fractions allowed)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs per actor (e.g. 1, or 0.5 to share)")
    p.add_argument("--max-attempts", type=int, default=3,
                   help="workers that may die on one shard (killed, out of memory) before it is recorded as failed "
                        "and the run goes on without it (default 3)")
    p.add_argument("--overwrite", action="store_true",
                   help="score again what changed (checkpoint, options or input shards) instead of refusing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        manifest = run_batch(
            args.model, args.input, args.output, articles=args.articles, text_field=args.text_field,
            date_field=args.date_field, attributor=args.attributor,
            engine=args.engine, address=args.address, workers=args.workers, batch_size=args.batch_size,
            cpus_per_worker=args.cpus_per_worker, gpus_per_worker=args.gpus_per_worker,
            overwrite=args.overwrite, progress=not args.quiet, max_attempts=args.max_attempts,
        )
    except VistanceError as e:
        return exit_on_error(e)
    except KeyboardInterrupt:
        print(f"interrupted; finished shards are kept in {args.output}: rerun the same command to score the rest",
              file=sys.stderr)
        return 130
    print(summary(manifest, args.output), file=sys.stderr)
    return EXIT_PARTIAL if manifest["status"] == "partial" else 0


if __name__ == "__main__":
    sys.exit(main())
