"""load_predictor: what it accepts, what it refuses, and how predict_proba behaves on awkward input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from vistance import runs
from vistance.checkpoint import (
    CheckpointError,
    CheckpointMeta,
    load_predictor,
    read_meta,
    resolve_checkpoint,
)

SENTENCES = [
    "Ông Yury Ushakov nói Nga đang nhận được nhiều tín hiệu từ Mỹ.",
    "Trợ lý Điện Kremlin Yury Ushakov (Ảnh: Tass).",
    "Tổng thống Ukraine bác bỏ kế hoạch hòa bình.",
]


def test_run_folder_and_checkpoint_folder_give_the_same_predictor(tiny_run):
    a, b = load_predictor(tiny_run), load_predictor(tiny_run / "checkpoint")
    assert a.path == b.path == tiny_run / "checkpoint"
    assert (a.labels, a.task.name, a.kind, a.max_length) == (
        ["not_claim", "favor", "against", "neutral"],
        "joint",
        "tiny",
        256,
    )
    assert a.preprocess.segmenter == "pyvi"
    assert np.array_equal(a.predict_proba(SENTENCES), b.predict_proba(SENTENCES))


def test_predict_proba_shapes_and_order(tiny_run):
    p = load_predictor(tiny_run)
    probs = p.predict_proba(SENTENCES, batch_size=2)
    assert probs.shape == (3, 4) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    # Sorting by length inside must not change which row belongs to which sentence.
    singles = np.vstack([p.predict_proba([s]) for s in SENTENCES])
    assert np.allclose(probs, singles, atol=1e-5)
    assert p.predict_proba([]).shape == (0, 4)


def test_long_and_odd_input_never_crashes(tiny_run):
    p = load_predictor(tiny_run)
    long = " ".join(["Tổng thống Nga Vladimir Putin nói về hòa bình ở Ukraine."] * 200)  # far over 256 tokens
    probs = p.predict_proba([long, "", "🙂 ☮", "x"])
    assert probs.shape == (4, 4) and np.isfinite(probs).all()


def test_baseline_predictor(baseline_run):
    p = load_predictor(baseline_run)
    assert p.kind == "baseline" and p.task.name == "joint"
    assert p.labels == ["not_claim", "favor", "against", "neutral"]  # the task's order, not the learner's
    probs = p.predict_proba(SENTENCES)
    assert probs.shape == (3, len(p.labels)) and np.allclose(probs.sum(axis=1), 1)
    assert p.predict_proba([]).shape == (0, len(p.labels))


def test_refuses_what_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_predictor(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="neither a checkpoint folder"):
        load_predictor(tmp_path)
    for content in (b"{not json", b"[]", b"\xff\xfe"):  # broken, JSON but not an object, not UTF-8
        (tmp_path / "vistance.json").write_bytes(content)
        with pytest.raises(CheckpointError, match="unreadable"):
            load_predictor(tmp_path)


def test_refuses_incomplete_runs(tiny_run, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(tiny_run, run)
    runs.set_status(run, "running")
    with pytest.raises(CheckpointError, match="'running', not complete"):
        resolve_checkpoint(run)
    runs.set_status(run, "complete")
    assert resolve_checkpoint(run) == run / "checkpoint"


def test_meta_round_trip_and_validation(tmp_path):
    meta = CheckpointMeta(kind="tiny", task="claim", labels=["not_claim", "claim"], max_length=128)
    (tmp_path / "vistance.json").write_text(json.dumps(meta.to_dict()), encoding="utf-8")
    assert read_meta(tmp_path) == meta
    with pytest.raises(CheckpointError, match="unknown checkpoint kind"):
        CheckpointMeta(kind="bert", task="joint", labels=["a"])


def test_label_mismatch_is_refused(tiny_run, tmp_path):
    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_run / "checkpoint", ckpt)
    meta = json.loads((ckpt / "vistance.json").read_text(encoding="utf-8"))
    meta["labels"] = list(reversed(meta["labels"]))
    (ckpt / "vistance.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(CheckpointError, match="disagrees"):
        load_predictor(ckpt)


def test_run_status_bookkeeping(tmp_path):
    run = runs.new_run_dir("demo", root=tmp_path)
    assert run.parent == tmp_path / "demo" and len(run.name) == 15  # YYYYmmdd-HHMMSS
    assert runs.new_run_dir("demo", root=tmp_path) != run  # same second: a suffix, never a shared folder
    with runs.track(run):
        assert runs.read_status(run)["status"] == "running" and not runs.is_complete(run)
    assert runs.is_complete(run)
    failed = runs.new_run_dir("demo", root=tmp_path)
    with pytest.raises(ValueError), runs.track(failed):
        raise ValueError("bad")
    assert runs.read_status(failed)["status"] == "failed"
    assert runs.read_status(failed)["error"] == "ValueError: bad"
    interrupted = runs.new_run_dir("demo", root=tmp_path)
    with pytest.raises(KeyboardInterrupt), runs.track(interrupted):
        raise KeyboardInterrupt
    assert runs.read_status(interrupted)["status"] == "interrupted"
    assert runs.find_runs(tmp_path) == [run]
    # The folder made without track() has no status.json: not a run at all.
    assert runs.find_runs(tmp_path, "demo", complete_only=False) == sorted([run, failed, interrupted])
