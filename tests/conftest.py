"""Shared fixtures. Tests run offline (HF_HUB_OFFLINE=1) on CPU; other test files may append fixtures below.

The training fixtures shrink the real configs (``configs/tiny.yaml``, ``configs/baseline.yaml``)
with ``--set`` overrides, the way a user would, and train on a slice of the labelled corpus.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED_CORPUS = ROOT / "data" / "annotated" / "seed.jsonl"

# Before anything imports transformers / huggingface_hub: they read these once.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session", autouse=True)
def _offline_cpu(tmp_path_factory):
    """Offline, a private preprocessing cache, and one torch thread.

    One thread: on a busy 2-core machine, two spinning threads per process make a tiny model
    ten times slower, and a fixed thread count keeps CPU results bit-identical between runs.
    """
    os.environ["VISTANCE_CACHE_DIR"] = str(tmp_path_factory.mktemp("vistance-cache"))
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    yield


def load_train_script():
    """The top-level ``train.py`` as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("vistance_train_script", ROOT / "train.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def train_script():
    return load_train_script()


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """The first 90 labelled seed sentences (real labels), enough for a 3-way split with every joint label."""
    lines = [line for line in SEED_CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path_factory.mktemp("corpus") / "small.jsonl"
    path.write_text("\n".join(lines[:90]) + "\n", encoding="utf-8")
    return path


def tiny_overrides(corpus: Path, epochs: int = 6) -> list[str]:
    """configs/tiny.yaml shrunk to a few seconds on one CPU thread (64 training sentences, 8 steps an epoch).

    The learning rate is raised so that six epochs move the random model away from uniform
    outputs; otherwise "same predictions" would hold trivially.
    """
    return [
        f"data.files=[{corpus}]",
        f"training.num_train_epochs={epochs}",
        "training.learning_rate=2e-3",
        "training.per_device_train_batch_size=8",
        "training.logging_steps=2",
        "model.tiny.bpe_merges=300",
    ]


def set_args(overrides: list[str]) -> list[str]:
    return [a for o in overrides for a in ("--set", o)]


@pytest.fixture(scope="session")
def tiny_run(train_script, small_corpus, tmp_path_factory) -> Path:
    """One complete tiny-transformer run folder, trained once and inspected by many tests."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    overrides = set_args(tiny_overrides(small_corpus))
    argv = ["--config", str(ROOT / "configs/tiny.yaml"), "--run-dir", str(run_dir), *overrides]
    train_script.main(argv)
    return run_dir


@pytest.fixture(scope="session")
def baseline_run(train_script, small_corpus, tmp_path_factory) -> Path:
    """One complete baseline run folder."""
    run_dir = tmp_path_factory.mktemp("runs") / "baseline"
    argv = [
        "--config",
        str(ROOT / "configs/baseline.yaml"),
        "--run-dir",
        str(run_dir),
        "--set",
        f"data.files=[{small_corpus}]",
    ]
    train_script.main(argv)
    return run_dir


def read_json(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- inference (predict/serve tests)


def _baseline_task_run(train_script, corpus: Path, root: Path, task: str) -> Path:
    run_dir = root / f"baseline-{task}"
    argv = [
        "--config",
        str(ROOT / "configs/baseline.yaml"),
        "--run-dir",
        str(run_dir),
        "--set",
        f"data.files=[{corpus}]",
        "--set",
        f"data.task={task}",
    ]
    train_script.main(argv)
    return run_dir


@pytest.fixture(scope="session")
def baseline_claim_run(train_script, small_corpus, tmp_path_factory) -> Path:
    """A complete claim-task baseline run: the first stage of a claim -> stance cascade."""
    return _baseline_task_run(train_script, small_corpus, tmp_path_factory.mktemp("runs"), "claim")


@pytest.fixture(scope="session")
def baseline_stance_run(train_script, small_corpus, tmp_path_factory) -> Path:
    """A complete stance-task baseline run (claims only): the second stage of a cascade."""
    return _baseline_task_run(train_script, small_corpus, tmp_path_factory.mktemp("runs"), "stance")
