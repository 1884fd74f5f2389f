"""What a training run shows, and what it keeps.

The terminal gets the run folder, one progress bar per phase (on stderr) and a short summary. The run
folder's ``train.log`` gets everything: those lines too, and what the libraries would otherwise print
on their own (transformers' and datasets' messages and warnings, Python warnings, the Trainer's
logging dicts). transformers' and datasets' own progress bars (loading weights, writing shards,
``Dataset.map``) are turned off while a run logs: each phase already has one bar of ours.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

LOG_FILE = "train.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
logger = logging.getLogger("vistance")


def say(line: str) -> None:
    """A line for the terminal (stdout) that the run's log keeps as well."""
    print(line, flush=True)
    logger.info(line)


@contextlib.contextmanager
def run_log(path: str | Path, enabled: bool = True) -> Iterator[None]:
    """For the block: log records at INFO and above, and Python warnings, go to ``path`` (appended, so a
    resumed run keeps its history) instead of the terminal. Everything is put back afterwards."""
    if not enabled:
        yield
        return
    import datasets
    from transformers.utils import logging as hf_logging

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root, ds_root = logging.getLogger(), logging.getLogger("datasets")
    root_level = root.level
    ds_handlers = [
        h for h in ds_root.handlers if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
    ]
    hf_bars, ds_bars = hf_logging.is_progress_bar_enabled(), datasets.is_progress_bar_enabled()

    root.addHandler(handler)
    root.setLevel(logging.INFO)
    hf_logging.disable_default_handler()  # transformers: its records reach the root logger, not stderr
    hf_logging.enable_propagation()
    for h in ds_handlers:  # datasets propagates already; its own stderr handler goes for the block
        ds_root.removeHandler(h)
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    logging.captureWarnings(True)
    try:
        yield
    except KeyboardInterrupt:
        logger.warning("interrupted")
        raise
    except BaseException:
        logger.exception("the run failed")
        raise
    finally:
        logging.captureWarnings(False)
        if hf_bars:
            hf_logging.enable_progress_bar()
        if ds_bars:
            datasets.enable_progress_bars()
        for h in ds_handlers:
            ds_root.addHandler(h)
        hf_logging.disable_propagation()
        hf_logging.enable_default_handler()
        root.setLevel(root_level)
        root.removeHandler(handler)
        handler.close()


def progress(*args, **kwargs):
    """A tqdm bar on stderr: the one bar of a phase. Every bar vistance draws is made here, so they all
    look alike and go to the same stream (``disable=`` and tqdm's other arguments pass through)."""
    from tqdm.auto import tqdm

    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(*args, **kwargs)
