"""The architecture's promises: a model kind is one registered module, labels have one order, bad config
values fail at load time before a run folder exists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, read_json, tiny_overrides

from vistance.config import load_config
from vistance.errors import ConfigError
from vistance.models import ModelKind, get_kind, register
from vistance.models.base import Learner, Predictor

JOINT = ["not_claim", "favor", "against", "neutral"]


# --------------------------------------------------------------------------- a toy kind, defined here alone


@dataclass
class MajorityOptions:
    smoothing: float = 0.0
    """Added to every class count before normalising."""

    def __post_init__(self) -> None:
        if self.smoothing < 0:
            raise ValueError(f"model.majority.smoothing must be >= 0, not {self.smoothing}")


class MajorityLearner(Learner):
    """Predicts the training label distribution for every sentence."""

    def fit(self, train, dev, resume=False, callbacks=()):
        counts = np.array([sum(e["label"] == lab for e in train) for lab in self.labels], dtype=float)
        counts += self.cfg.model.majority.smoothing
        self.dist = counts / counts.sum()
        return self

    def predict_proba(self, examples):
        return np.tile(self.dist, (len(examples), 1)).astype(np.float32)

    def save(self, directory, meta):
        from vistance.checkpoint import write_meta

        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / "majority.json").write_text(json.dumps(self.dist.tolist()), encoding="utf-8")
        write_meta(directory, meta)


class MajorityPredictor(Predictor):
    def __init__(self, path, meta):
        super().__init__(path, meta)
        self.dist = np.array(json.loads((Path(path) / "majority.json").read_text(encoding="utf-8")))

    def _predict_proba(self, texts, batch_size, progress):
        return np.tile(self.dist, (len(texts), 1)).astype(np.float32)


@pytest.fixture(scope="module")
def majority_kind():
    return register(
        ModelKind(
            "majority",
            MajorityLearner,
            MajorityPredictor,
            options=MajorityOptions,
            description="the training label distribution (a test's toy kind)",
            small_checkpoint=True,
        )
    )


def test_a_kind_registered_from_a_test_file_trains_saves_loads_and_predicts(
    majority_kind, train_script, small_corpus, tmp_path
):
    from vistance import StanceClassifier

    assert get_kind("majority") is majority_kind
    run = tmp_path / "majority"
    train_script.main(
        [
            "--config",
            str(ROOT / "configs/baseline.yaml"),
            "--run-dir",
            str(run),
            "--set",
            f"data.files=[{small_corpus}]",
            "--set",
            "model.kind=majority",
            "--set",
            "model.majority.smoothing=1",
        ]
    )
    assert read_json(run / "status.json")["status"] == "complete"
    assert read_json(run / "checkpoint" / "vistance.json")["kind"] == "majority"
    clf = StanceClassifier.from_pretrained(run)
    results = clf.predict(["Nga sẵn sàng đàm phán.", "Giá xăng tăng."])
    # Every sentence gets the same answer: the training distribution, decoded like any other kind's.
    keys = ("claim", "claim_score", "stance", "stance_scores")
    assert [results[0][k] for k in keys] == [results[1][k] for k in keys]
    counts = read_json(run / "data.json")["label_counts"]["train"]
    expected = np.array([[(counts[lab] + 1) / (sum(counts.values()) + 4) for lab in JOINT]])
    # ... through the decision fitted on dev and saved with the checkpoint (temperature, claim threshold).
    decision = read_json(run / "checkpoint" / "vistance.json")["decision"]
    assert decision["temperature"] > 0 and decision["fitted_on"]["split"] == "dev"
    calibrated = clf.predictor.decision.calibrate(expected)[0]
    assert results[0]["claim_score"] == pytest.approx(1 - calibrated[0], abs=1e-5)
    assert results[0]["claim"] == ("claim" if 1 - calibrated[0] >= decision["claim_threshold"] else "not_claim")
    with pytest.raises(ConfigError, match="model.majority.smoothing must be >= 0"):
        load_config(ROOT / "configs/baseline.yaml", ["model.kind=majority", "model.majority.smoothing=-1"])


# --------------------------------------------------------------------------- one label order


@pytest.mark.parametrize("run_name", ["baseline_run", "tiny_run"])
def test_labels_appear_in_the_task_order_everywhere(run_name, request):
    run = request.getfixturevalue(run_name)
    assert read_json(run / "metrics.json")["labels"] == JOINT
    assert read_json(run / "data.json")["labels"] == JOINT
    assert read_json(run / "checkpoint" / "vistance.json")["labels"] == JOINT
    first = json.loads((run / "predictions.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert list(first["probs"]) == JOINT
    config = run / "checkpoint" / "config.json"
    if config.is_file():  # transformers: what plain `transformers` decodes with
        id2label = read_json(config)["id2label"]
        assert [id2label[str(i)] for i in range(4)] == JOINT
    else:
        assert read_json(run / "checkpoint" / "baseline.json")["labels"] == JOINT


# --------------------------------------------------------------------------- config values fail at load time


@pytest.mark.parametrize(
    "override, key",
    [
        ("model.baseline.min_df=0", "model.baseline.min_df"),
        ("model.baseline.C=-1", "model.baseline.C"),
        ("model.tiny.hidden_size=0", "model.tiny.hidden_size"),
        ("model.tiny.num_attention_heads=3", "model.tiny.hidden_size"),
        ("data.test_size=1.5", "data.test_size"),
        ("data.dev_size=0", "data.dev_size"),
        ("data.preprocess.segmenter=jieba", "data.preprocess.segmenter"),
        ("training.per_device_train_batch_size=0", "training.per_device_train_batch_size"),
        ("training.learning_rate=-1e-5", "training.learning_rate"),
        ("model.max_length=4", "model.max_length"),
        ("model.kind=gpt", "model.kind"),
        ("model.transformer.freeze_layers=-2", "model.transformer.freeze_layers"),
    ],
)
def test_invalid_values_fail_at_load_naming_the_key(override, key):
    with pytest.raises(ConfigError) as e:
        load_config(ROOT / "configs/tiny.yaml", [override])
    assert key in str(e.value) and "\n" not in str(e.value)


@pytest.mark.subprocess
def test_bad_values_stop_train_before_a_run_folder_exists(tmp_path):
    import subprocess
    import sys

    run = tmp_path / "never"
    proc = subprocess.run(
        [
            sys.executable,
            "train.py",
            "--config",
            "configs/baseline.yaml",
            "--run-dir",
            str(run),
            "--set",
            "model.baseline.min_df=0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and not run.exists()
    assert proc.stderr.strip().count("\n") == 0 and "model.baseline.min_df" in proc.stderr


def test_list_values_without_brackets_and_broken_yaml(tmp_path, small_corpus):
    cfg = load_config(ROOT / "configs/baseline.yaml", [f"data.files={small_corpus}"])
    assert cfg.data.files == [str(small_corpus)]
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  kind: baseline\n training: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        load_config(bad)


def test_the_test_suites_tiny_overrides_are_a_valid_config():
    cfg = load_config(ROOT / "configs/tiny.yaml", tiny_overrides(Path("x.jsonl")))
    assert cfg.model.tiny.bpe_merges == 300 and cfg.data.files == ["x.jsonl"]
