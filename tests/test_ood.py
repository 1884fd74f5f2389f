"""Out-of-domain splits (vistance.data.splits): train on older or other sources, test on what is new."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, read_json

from vistance.config import load_config
from vistance.data.splits import leave_one_source_out, source_split, temporal_split
from vistance.errors import ConfigError

WORDS = (
    "Nga",
    "Ukraine",
    "đàm phán",
    "ngừng bắn",
    "Kiev",
    "Moscow",
    "hòa bình",
    "Mỹ",
    "châu Âu",
    "NATO",
    "viện trợ",
    "lãnh thổ",
    "tù binh",
    "UAV",
    "tên lửa",
    "Zelensky",
    "Putin",
    "Trump",
    "kinh tế",
    "năng lượng",
)


def _ex(i, date, source="a", label="neutral", text=None):
    import random

    rng = random.Random(f"{source}-{i}")  # distinct sentences: no two are near-copies
    return {
        "id": f"{source}-{i}",
        "date": date,
        "source": source,
        "label": label,
        "text": text or " ".join(rng.sample(WORDS, 8)) + f" {source}{i * 7919}",
    }


def test_temporal_split_tests_on_the_newest_months_and_keeps_near_copies_out_of_training():
    labels = ["neutral", "favor", "against", "not_claim"]
    ex = [_ex(i, f"2025-{1 + i % 12:02d}-01", label=labels[i % 4]) for i in range(120)]
    ex.append(_ex(999, None))  # undated: trains
    copy = dict(_ex(1000, "2025-01-01"), text=ex[10]["text"] + " .")  # a near-copy of a test sentence (November)
    split = temporal_split(ex + [copy], test_from="2025-11-01", dev_size=0.15)
    assert all(e["date"] >= "2025-11-01" for e in split.test) and len(split.test) == 20
    assert max(e["date"] for e in split.train if e["date"]) < min(e["date"] for e in split.dev)
    assert max(e["date"] for e in split.dev) < "2025-11-01"
    train_ids = {e["id"] for e in split.train}
    assert "a-999" in train_ids and "a-1000" not in train_ids  # the near-copy of a test sentence never trains
    assert not train_ids & {e["id"] for e in split.dev}


def test_source_split_and_leave_one_source_out():
    ex = [
        _ex(i, "2024-01-01", source=s, label=["neutral", "favor", "not_claim"][i % 3])
        for s in ("x", "y", "z")
        for i in range(30)
    ]
    split = source_split(ex, ["y"], dev_size=0.2)
    assert {e["source"] for e in split.test} == {"y"} and len(split.test) == 30
    assert {e["source"] for e in split.train + split.dev} == {"x", "z"}
    folds = leave_one_source_out(ex)
    assert [sorted({e["source"] for e in f.test}) for f in folds] == [["x"], ["y"], ["z"]]

    # Another file holding sentences of a test article (a later batch of the same pool): they never train.
    for e in ex:
        e["article"] = f"{e['source']}-art{int(e['id'].split('-')[1]) // 5}"
    later = [dict(_ex(100 + i, "2024-01-01", source="w"), article="y-art0" if i < 4 else "w-art") for i in range(12)]
    split = source_split(ex + later, ["y"], dev_size=0.2)
    kept = {e["id"] for e in split.train + split.dev}
    assert len(split.test) == 30 and not {f"w-{100 + i}" for i in range(4)} & kept
    assert {f"w-{100 + i}" for i in range(4, 12)} <= kept


def test_config_rejects_incomplete_ood_settings():
    with pytest.raises(ConfigError, match="test_from"):
        load_config(ROOT / "configs/baseline.yaml", ["data.split=temporal"])
    with pytest.raises(ConfigError, match="data.split must be one of"):
        load_config(ROOT / "configs/baseline.yaml", ["data.split=future"])
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        load_config(ROOT / "configs/baseline.yaml", ["data.split=temporal", "data.test_from=soon"])


def test_a_temporal_run_reports_the_held_out_source_and_the_decision(train_script, tmp_path):
    """A baseline run on two small corpus files: test on the newest dates, the other file as a further test."""
    seed = [json.loads(line) for line in (ROOT / "data/annotated/seed.jsonl").read_text(encoding="utf-8").splitlines()]
    dated = [dict(r, date=f"2025-{1 + i % 10:02d}-15") for i, r in enumerate(seed[:90])]
    (tmp_path / "older.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in dated), encoding="utf-8"
    )
    (tmp_path / "other.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in seed[90:]), encoding="utf-8"
    )
    run = tmp_path / "run"
    train_script.main(
        [
            "--config",
            str(ROOT / "configs/baseline.yaml"),
            "--run-dir",
            str(run),
            "--set",
            f"data.files=[{tmp_path / 'older.jsonl'},{tmp_path / 'other.jsonl'}]",
            "--set",
            "data.split=temporal",
            "--set",
            "data.test_from=2025-09-01",
            "--set",
            "data.extra_test=[other]",
        ]
    )
    metrics = read_json(run / "metrics.json")
    assert metrics["test"]["n"] == sum(r["date"] >= "2025-09-01" for r in dated)
    assert set(metrics["extra_tests"]) == {"other"} and metrics["extra_tests"]["other"]["n"] == len(seed) - 90
    assert (run / "splits" / "extra-other.jsonl").is_file()
    meta = read_json(run / "checkpoint" / "vistance.json")
    assert meta["decision"] == metrics["decision"] and 0 < meta["decision"]["claim_threshold"] < 1
    rows = [json.loads(line) for line in (run / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["source"] for r in rows} == {"older"} and all("raw_probs" in r for r in rows)
