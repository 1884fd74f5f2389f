"""``--engine local``: shards one after another in a worker process from a fork server, replaced when it dies."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from ..data import atomic_write_text
from ..errors import VistanceError
from .manifest import RunProgress
from .scorer import ShardScorer
from .shards import Shard, attempts_file, failed_record, read_attempts


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
FORKSERVER_PRELOAD = [
    "vistance.batch.local_engine",
    "vistance.models.baseline",
    "torch",
    "transformers",
    "pyvi.ViTokenizer",
    "pyarrow.parquet",
]


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

    def score(self, shard: Shard, out: Path, progress: RunProgress) -> str | None:
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


def run_local(todo: Sequence[Shard], out: Path, scorer_kwargs: dict, progress: RunProgress) -> None:
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
                print(
                    f"warning: {shard.input}: the worker died ({died}); retrying with a new worker "
                    f"(attempt {deaths + 1} of {max_attempts})",
                    file=sys.stderr,
                )
    finally:
        if worker is not None:
            worker.close()
