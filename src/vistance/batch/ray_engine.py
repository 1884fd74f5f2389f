"""``--engine ray``: a Ray Data pool of :class:`~.scorer.ShardScorer` actors, one shard per block; Ray is imported
only here, and only when this engine runs."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import VistanceError
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


def run_ray(todo: Sequence[Shard], out: Path, scorer_kwargs: dict, progress: RunProgress, *, address: str | None,
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
