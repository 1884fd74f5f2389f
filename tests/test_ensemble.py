"""The seed ensemble kind: N members of one kind, probabilities averaged, each member a checkpoint of its own."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT, read_json, set_args, tiny_overrides

from vistance.checkpoint import load_predictor
from vistance.config import load_config
from vistance.errors import ConfigError


@pytest.mark.extended
def test_a_tiny_seed_ensemble_trains_saves_and_averages_its_members(train_script, small_corpus, tmp_path):
    run = tmp_path / "ens"
    overrides = set_args(tiny_overrides(small_corpus, epochs=2))
    train_script.main(
        [
            "--config",
            str(ROOT / "configs/tiny.yaml"),
            "--run-dir",
            str(run),
            *overrides,
            "--set",
            "model.kind=ensemble",
            "--set",
            "model.ensemble.base=tiny",
            "--set",
            "model.ensemble.members=2",
        ]
    )
    ckpt = run / "checkpoint"
    assert read_json(ckpt / "vistance.json")["kind"] == "ensemble"
    assert [read_json(ckpt / f"member-{k}" / "vistance.json")["kind"] for k in (1, 2)] == ["tiny", "tiny"]
    ens = load_predictor(run)
    members = [load_predictor(ckpt / f"member-{k}") for k in (1, 2)]
    texts = ["Nga sẵn sàng đàm phán với Ukraine.", "Giá xăng tăng."]
    raw = ens.predict_proba(texts, calibrated=False)
    expected = np.mean([m.predict_proba(texts, calibrated=False) for m in members], axis=0)
    assert raw == pytest.approx(expected, abs=1e-6)
    # the members were trained with different seeds: their outputs differ
    assert not np.allclose(members[0].predict_proba(texts), members[1].predict_proba(texts))
    assert ens.predict_proba(texts) == pytest.approx(ens.decision.calibrate(raw), abs=1e-6)


def test_ensemble_options_are_checked():
    with pytest.raises(ConfigError, match="members must be at least 1"):
        load_config(ROOT / "configs/tiny.yaml", ["model.kind=ensemble", "model.ensemble.members=0"])
