"""``_manifest.json`` and resuming: what a finished shard recorded, which shards are left to score, one run per
output folder at a time, and the progress of a run (its bar, and the manifest rewritten as shards finish)."""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .. import __version__
from ..data import file_sha256
from ..logs import progress
from ..runs import now_iso, write_json
from .shards import BatchError, Shard, attempts_file

MANIFEST = "_manifest.json"
LOCK = ".vistance-batch.lock"
# The manifest is rewritten after a finished shard at most this often: with thousands of shards,
# rewriting it after every one would cost more than the shards. Losing the last few entries in a
# crash only means those shards are scored again.
MANIFEST_INTERVAL_S = 2.0


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
        raise BatchError(
            f"{out}: not empty and has no {MANIFEST}, so it is not a vistance.batch output; "
            "choose a new folder (or pass --overwrite to write into it anyway)"
        )
    if old is not None and (
        old.get("checkpoint", {}).get("sha256") != checkpoint["sha256"] or old.get("options") != options
    ):
        if not overwrite:
            what = "checkpoint" if old.get("options") == options else "options (--articles / --text-field)"
            raise BatchError(
                f"{out} was written with another {what} ({old['checkpoint']['path']}, "
                f"{old['options']}); pass --overwrite to score every shard again, or choose another "
                "--output"
            )
        for name in old["shards"]:
            (out / name).unlink(missing_ok=True)
        old = None
    done = {} if old is None else old["shards"]
    by_input = {e["input"]: name for name, e in done.items()}
    todo, changed = [], []
    for shard in shards:
        other = by_input.get(shard.input)
        if other is not None and other != shard.name and (out / other).is_file():
            raise BatchError(
                f"{shard.input} was written to {out / other} by an earlier run and would now go to "
                f"{out / shard.name} (the --input glob's base folder changed); rerun with the earlier "
                "--input, or choose another --output"
            )
        entry = done.get(shard.name)
        if entry is None or not (out / shard.name).is_file():
            todo.append(shard)
        elif not _same_input(shard, entry):
            changed.append(shard)
    if changed and not overwrite:
        more = f" and {len(changed) - 1} other shard(s)" if len(changed) > 1 else ""
        raise BatchError(
            f"{changed[0].input}{more} changed since {out / changed[0].name} was written; pass "
            "--overwrite to score the changed shard(s) again"
        )
    redo = {s.name for s in changed}
    todo = sorted(todo + changed, key=lambda s: s.name)
    for shard in todo:  # shards that failed before, or were cut short by a crash, get a fresh retry budget
        target = out / shard.name
        attempts_file(target).unlink(missing_ok=True)
        for partial in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):  # a killed worker's write
            partial.unlink(missing_ok=True)
    manifest = {
        "vistance_version": __version__,
        "status": "running",
        "started": now_iso(),
        "updated": now_iso(),
        "finished": None,
        "checkpoint": checkpoint,
        "options": options,
        "engine": None,
        "workers": None,
        "counts": {},
        "timings": {},
        "shards": {n: e for n, e in done.items() if n not in redo},
        "failed": {},
    }
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
def output_lock(out: Path) -> Iterator[None]:
    """One run per output folder at a time: two would race on the manifest and the same shards."""
    with open(out / LOCK, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"{out}: another vistance.batch run is writing this folder") from None
        yield


class RunProgress:
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
        self.bar = progress(
            total=sum(s.size for s in todo),
            disable=not (show and todo),
            mininterval=0.5,
            bar_format="batch: {percentage:3.0f}%|{bar}| {desc} [{elapsed}<{remaining}]",
        )
        self._describe()

    def _describe(self) -> None:
        rate = self.sentences / max(time.perf_counter() - self.start, 1e-9)
        failed = f" ({self.shards_failed} failed)" if self.shards_failed else ""
        self.bar.set_description_str(
            f"{self.shards_done}/{self.shards_total} shards{failed}, {self.sentences:,} "
            f"sentences, {rate:,.0f} sentences/s",
            refresh=False,
        )

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
        self.manifest.update(
            status=status,
            updated=now_iso(),
            counts=totals(self.manifest["shards"]),
            timings={
                "seconds": round(elapsed, 3),
                "shards": self.shards_done,
                "shards_failed": self.shards_failed,
                "shards_already_done": self.already_done,
                "sentences": self.sentences,
                "sentences_per_second": round(self.sentences / max(elapsed, 1e-9), 2),
            },
        )
        if status in ("complete", "partial"):
            self.manifest["finished"] = now_iso()
        write_json(self.out / MANIFEST, self.manifest)
        self.last_write = time.perf_counter()

    def close(self) -> None:
        self.bar.close()
