"""train.py on real data at scale: UIT-VSFC sentiment, official splits (slow; needs ../shared/benchmarks)."""

from __future__ import annotations

import pytest
from conftest import ROOT, read_json

from vistance import runs

UIT_VSFC = ROOT.parent / "shared" / "benchmarks" / "uit-vsfc"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (UIT_VSFC / "train.csv").is_file(), reason="UIT-VSFC not in ../shared/benchmarks"),
]


def _train(train_script, name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the configs' data paths are relative to the repository root
    # The repository's segmentation cache (content-addressed): pyvi on 16k sentences takes minutes.
    monkeypatch.setenv("VISTANCE_CACHE_DIR", str(ROOT / ".cache" / "vistance"))
    run_dir = tmp_path / name
    train_script.main(["--config", f"configs/{name}.yaml", "--run-dir", str(run_dir)])
    assert runs.is_complete(run_dir)
    metrics = read_json(run_dir / "metrics.json")
    assert metrics["task"] == "custom" and metrics["labels"] == ["0", "1", "2"]
    assert read_json(run_dir / "data.json")["splits"] == {"train": 11426, "dev": 1583, "test": 3166}
    return metrics["test"]


def test_baseline_config_reaches_the_reference(train_script, tmp_path, monkeypatch):
    test = _train(train_script, "uit-vsfc-baseline", tmp_path, monkeypatch)
    assert test["accuracy"] >= 0.89 and test["macro_f1"] >= 0.74


def test_tiny_transformer_learns_the_task(train_script, tmp_path, monkeypatch):
    test = _train(train_script, "uit-vsfc-tiny", tmp_path, monkeypatch)
    assert test["accuracy"] >= 0.84 and test["macro_f1"] >= 0.68
