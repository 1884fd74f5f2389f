"""``--engine ray``: a Ray Data pool of :class:`~.scorer.ShardScorer` actors, one shard per block; Ray is imported
only here, and only when this engine runs.

The Ray driver runs in a child process (:func:`_ray_driver`): Ray ends the process holding its connection
(``_exit``, no exception) when this machine's raylet or object store goes away, and this process, which owns the
manifest, then says so in one line and keeps the finished shards (exit status 2; a rerun scores the rest).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import VistanceError
from .local_engine import _exit_reason
from .manifest import MANIFEST, RunProgress
from .scorer import ShardScorer
from .shards import BatchError, Shard

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


RAY_LOST = ("RaySystemError", "RayActorError", "ObjectLostError", "GetTimeoutError", "NodeDiedError")
"""Ray's exceptions that mean the cluster, a node or the actors went away (an actor's failing ``__init__`` aside)."""
RAY_LOST_HINT = "Ray ends the process connected to it when this machine's raylet or object store goes away"
RAY_STOP_TIMEOUT_S = 30.0


@contextlib.contextmanager
def ray_session(address: str | None, need: dict[str, float], temp: str | None = None) -> Iterator:
    """Ray, connected: to ``address``, to a session this process already opened, or to a new local instance.

    A local instance gets a private, short temporary folder, removed afterwards (Ray's socket paths
    must fit in 107 bytes, and another user's ``/tmp/ray`` is not writable) unless ``RAY_TMPDIR``
    says where Ray should keep its files, or ``temp`` names one that the caller removes; it is shut
    down at the end. ``need`` (total CPUs/GPUs of the actor pool) is checked against a local instance,
    where Ray would otherwise wait forever for actors it cannot place.
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
    owned = None
    if address is None:
        if temp is None and "RAY_TMPDIR" not in os.environ:
            temp = owned = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
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
                    raise BatchError(
                        f"the actors need {amount:g} {resource} in all and this machine's Ray has "
                        f"{have.get(resource, 0):g}; lower --workers or the per-worker share"
                    )
        yield ray
    finally:
        ray.shutdown()
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)


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


def _ray_driver(
    conn,
    stop,
    items: list[dict],
    scorer_kwargs: dict,
    address: str | None,
    temp: str | None,
    workers: int,
    cpus_per_worker: float,
    gpus_per_worker: float,
) -> None:
    """The Ray engine's driver, run in a process of its own (see :func:`run_ray`): sends each event to ``conn``.

    Ends with ``("done", None)``, ``("error", VistanceError or RuntimeError)`` or ``("lost", what)`` when
    Ray itself went away. It stops when ``stop`` is closed: the parent asked, or the parent died.
    """
    import _thread
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it closes ``stop``

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            stop.recv()  # the parent sends nothing: this returns when it closes its end or dies
        _thread.interrupt_main(signal.SIGTERM)  # SystemExit in the main thread (Ray's handler does the same)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    threading.Thread(target=watch, daemon=True).start()
    need = {"CPU": workers * cpus_per_worker, "GPU": workers * gpus_per_worker}
    try:
        with ray_session(address, {k: v for k, v in need.items() if v}, temp) as ray:
            try:
                for event in _ray_events(ray, items, scorer_kwargs, workers, cpus_per_worker, gpus_per_worker):
                    conn.send(("event", event))
            except Exception as e:
                cause = _vistance_cause(e)
                lost = (ConnectionError, *(getattr(ray.exceptions, name) for name in RAY_LOST))
                if cause is not None:
                    conn.send(("error", cause))
                elif isinstance(e, lost) and not getattr(e, "actor_init_failed", False):
                    first = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(e)).split("\n")[0].split())[:300]
                    conn.send(("lost", f"{type(e).__name__}: {first}"))
                else:
                    conn.send(("error", RuntimeError(f"{type(e).__name__}: {e}\n{traceback.format_exc()}")))
                return
        conn.send(("done", None))
    except VistanceError as e:  # from ray_session: cannot join the cluster, too few CPUs
        conn.send(("error", type(e)(str(e))))
    except (BrokenPipeError, SystemExit, KeyboardInterrupt):
        pass  # the parent is gone or asked to stop; ray_session has shut Ray down
    finally:
        if temp is not None:  # the parent's to remove too, but a parent killed with -9 cannot
            shutil.rmtree(temp, ignore_errors=True)


def _ray_events(
    ray, items: list[dict], scorer_kwargs: dict, workers: int, cpus_per_worker: float, gpus_per_worker: float
) -> Iterator[dict]:
    """Ray Data's run over the shards: the actors' progress events, as plain dicts."""
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
    ds = ray.data.from_items(items, override_num_blocks=len(items))  # one shard per block, so per task
    ds = ds.map_batches(
        ShardScorer,
        batch_size=1,
        num_cpus=cpus_per_worker,
        num_gpus=gpus_per_worker or None,
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
        max_restarts=scorer_kwargs["max_attempts"] * len(items) + workers,
    )
    for row in ds.iter_rows():
        yield {k: row[k] for k in ("input", "done", "total", "record")}


def _end_local_ray(temp: str, timeout: float = 10.0) -> list[int]:
    """Kill what is left of a private Ray whose driver died: the processes that name ``temp`` (its folder) on their
    command line or hold a file in it. They outlive the driver by seconds, writing into ``temp``, which could then
    not be removed, and into this process's stderr after its last line. Returns the pids killed."""
    killed: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = []
        for proc in glob.glob("/proc/[0-9]*"):
            pid = int(proc.rsplit("/", 1)[1])
            if pid == os.getpid():
                continue
            try:
                mine = temp.encode() in Path(proc, "cmdline").read_bytes() or any(
                    os.readlink(fd).startswith(temp + "/") for fd in glob.glob(f"{proc}/fd/*")
                )
            except OSError:
                continue
            if mine:
                found.append(pid)
        if not found:
            break
        for pid in found:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.1)
    return killed


def run_ray(
    todo: Sequence[Shard],
    out: Path,
    scorer_kwargs: dict,
    progress: RunProgress,
    *,
    address: str | None,
    workers: int,
    cpus_per_worker: float,
    gpus_per_worker: float,
) -> None:
    """Ray Data over the shards, driven from a child process that sends the actors' events back (module docstring).

    Ray's temporary folder is this process's to remove, for the same reason: the child may end without cleaning up.
    """
    workers = min(workers, len(todo))  # an actor without a shard would only load the model
    if address is None:
        for key, value in LOCAL_RAY_ENV.items():
            os.environ.setdefault(key, value)
    try:
        import ray
    except ImportError:
        raise BatchError('--engine ray needs Ray: pip install -e ".[scale]"') from None
    if address is None and ray.is_initialized():  # a session this process opened: the child joins it
        address = ray.get_runtime_context().gcs_address
    temp = None
    if address is None and "RAY_TMPDIR" not in os.environ:
        temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    ctx = multiprocessing.get_context("spawn")  # a clean process: no inherited threads, locks or Ray state
    conn, child_conn = ctx.Pipe(duplex=False)
    stop_read, stop = ctx.Pipe(duplex=False)
    items = [{"input": s.input, "output": str(out / s.name)} for s in todo]
    proc = ctx.Process(
        target=_ray_driver,
        name="vistance-ray-driver",
        args=(child_conn, stop_read, items, scorer_kwargs, address, temp, workers, cpus_per_worker, gpus_per_worker),
    )
    try:
        proc.start()
        child_conn.close()
        stop_read.close()
        while True:
            payload: Any = None
            if not conn.poll(0.5):
                if proc.is_alive() or conn.poll(0):
                    continue
                kind = "died"
            else:
                try:
                    kind, payload = conn.recv()
                except (EOFError, ConnectionError):
                    kind = "died"
            if kind == "event":
                progress.update(payload)
                continue
            if kind == "done":
                return
            if kind == "error":
                raise payload
            if kind == "died":
                proc.join()
                if temp is not None:  # Ray's actors and services of the private instance outlive its driver
                    _end_local_ray(temp)
                payload = f"the process connected to Ray ended with {_exit_reason(proc.exitcode)}; {RAY_LOST_HINT}"
            raise BatchError(
                f"Ray stopped answering mid-run ({payload}); the {progress.shards_done} shard(s) "
                f"finished in this run are kept in {out} and listed in {MANIFEST}: rerun the same "
                "command to score the rest"
            ) from None
    finally:
        stop.close()  # the child stops Ray and exits (it also does when this process dies)
        proc.join(RAY_STOP_TIMEOUT_S)
        if proc.is_alive():
            proc.kill()
            proc.join()
        conn.close()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
