"""Every file in configs/ loads, validates, and says only what differs from the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from omegaconf import OmegaConf

from vistance.config import Config, ConfigError, flatten, load_config

CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))


def test_the_shipped_configs_are_there():
    names = {p.stem for p in CONFIGS}
    assert {"phobert-base-v2", "phobert-large", "tiny", "baseline", "uit-vsfc-baseline", "uit-vsfc-tiny"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_loads(path: Path):
    cfg = load_config(path)
    assert isinstance(cfg, Config) and cfg.name == path.stem
    assert cfg.model.max_length <= 256
    # A config file holds only what differs from the defaults.
    defaults = flatten(Config().to_dict())
    written = flatten(OmegaConf.to_container(OmegaConf.load(path)))
    same = [k for k, v in written.items() if k in defaults and defaults[k] == v and k != "model.name_or_path"]
    assert not same, f"{path.name} repeats default values: {same}"


def test_kinds_and_weights():
    assert load_config(ROOT / "configs/phobert-base-v2.yaml").model.name_or_path == "vinai/phobert-base-v2"
    large = load_config(ROOT / "configs/phobert-large.yaml")
    assert large.model.name_or_path == "vinai/phobert-large" and large.model.kind == "transformer"
    assert load_config(ROOT / "configs/tiny.yaml").model.kind == "tiny"
    assert load_config(ROOT / "configs/baseline.yaml").model.kind == "baseline"


@pytest.mark.parametrize("name", ["uit-vsfc-baseline", "uit-vsfc-tiny"])
def test_uit_vsfc_configs_point_at_the_official_splits(name):
    cfg = load_config(ROOT / f"configs/{name}.yaml")
    d = cfg.data
    assert (d.text_column, d.label_column) == ("sentence", "sentiment")
    assert [Path(f).name for f in (d.train_file, d.dev_file, d.test_file)] == ["train.csv", "dev.csv", "test.csv"]
    assert all(Path(f).parent == Path("../shared/benchmarks/uit-vsfc") for f in (d.train_file, d.dev_file, d.test_file))


def test_overrides_and_errors():
    cfg = load_config(ROOT / "configs/tiny.yaml", ["training.seed=7", "model.tiny.hidden_size=32"])
    assert cfg.training.seed == 7 and cfg.model.tiny.hidden_size == 32
    with pytest.raises(ConfigError):
        load_config(ROOT / "configs/tiny.yaml", ["training.sed=7"])
    with pytest.raises(ConfigError):
        load_config(ROOT / "configs/tiny.yaml", ["model.max_length=513"])


def test_relevant_keys_follow_the_kind():
    baseline = set(load_config(ROOT / "configs" / "baseline.yaml").relevant_keys())
    assert {
        "data.task",
        "data.preprocess.segmenter",
        "model.kind",
        "model.baseline.C",
        "training.seed",
        "training.cv",
    } <= baseline
    assert (
        not {"training.learning_rate", "training.num_train_epochs", "model.max_length", "model.tiny.hidden_size"}
        & baseline
    )
    e5 = set(load_config(ROOT / "configs" / "e5-small-frozen.yaml").relevant_keys())
    assert "model.max_length" in e5 and "training.learning_rate" not in e5
    tiny = set(load_config(ROOT / "configs" / "tiny.yaml").relevant_keys())
    assert {"training.learning_rate", "training.num_train_epochs", "model.tiny.hidden_size"} <= tiny
    assert "model.baseline.C" not in tiny


def test_warmup_ratio_must_be_a_fraction():
    import pytest

    from vistance.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="warmup_ratio"):
        load_config(None, ["training.warmup_ratio=10"])
