"""Comparing runs: differing config only, intervals, paired bootstrap vs the best, test-set groups."""

import json
import re

import numpy as np
import pytest
from test_evaluation import GOLD, LABELS, PROBS, make_run

from vistance.reports.comparison import (
    compare_runs,
    differing_config_keys,
    write_comparison,
)

GOLD40 = GOLD * 5
PERFECT = np.eye(4)[[LABELS.index(g) for g in GOLD40]] * 0.7 + 0.075  # right on every sentence
HAND = np.concatenate([PROBS] * 5)  # the hand example: macro-F1 2/3


@pytest.fixture
def runs(tmp_path):
    good = make_run(
        tmp_path / "phobert" / "20260101-000000", gold=GOLD40, probs=PERFECT, config={"training.learning_rate": 2e-5}
    )
    weak = make_run(
        tmp_path / "phobert" / "20260102-000000",
        gold=GOLD40,
        probs=HAND,
        config={"training.learning_rate": 1e-3},
        train_seconds=4000,
        model_size_bytes=None,
    )
    # the baseline reads no learning rate and no epochs: neither may show up as a difference because of it
    other = make_run(
        tmp_path / "baseline" / "20260103-000000",
        gold=GOLD,
        probs=PROBS,
        prefix="t",
        config={"model.kind": "baseline", "training.learning_rate": 1e-3, "training.num_train_epochs": 99},
    )
    running = make_run(tmp_path / "phobert" / "20260104-000000", gold=GOLD40, probs=PERFECT, status="running")
    return good, weak, other, running


def test_compare_ranks_tests_and_flags(runs, tmp_path):
    good, weak, other, running = runs
    with pytest.warns(UserWarning, match=r"skipping .*20260104-000000: status is 'running'"):
        cmp = compare_runs([weak, other, running, good])
    assert [s["run"] for s in cmp.skipped] == [str(running)]
    names = [(r.group, r.rank, r.path) for r in cmp.runs]
    assert names == [("A", 1, good), ("A", 2, weak), ("B", 1, other)]
    best, second, lone = cmp.runs
    assert best.vs_best is None and lone.vs_best is None  # another test set: not ranked against A
    vs = second.vs_best["macro_f1"]
    assert vs["delta"] == pytest.approx(1 - 2 / 3)
    assert 0 < vs["low"] <= vs["delta"] <= vs["high"] and vs["p"] < 0.05
    assert second.vs_best["f_avg"]["delta"] == pytest.approx(0.5)
    assert set(cmp.differing_keys) == {"training.learning_rate", "model.kind"}
    assert second.evaluation.ci["macro_f1"]["low"] < 2 / 3 < second.evaluation.ci["macro_f1"]["high"]

    paths = write_comparison(cmp, tmp_path / "cmp")
    md = paths["markdown"].read_text(encoding="utf-8")
    header = next(line for line in md.splitlines() if line.startswith("| set"))
    assert "model size |" in header and "training." not in header and "model.kind" not in header
    row = next(line for line in md.splitlines() if "20260102-000000" in line and line.startswith("| A"))
    assert "| 0.667 [" in row and "-0.333 [" in row and "66.7 min" in row
    # the settings that differ, transposed: a row per key, a column per run, n/a where a kind does not read it
    settings = md.split("## Settings that differ", 1)[1]
    assert settings.splitlines()[2] == (
        "| setting | A1 phobert/20260101-000000 | A2 phobert/20260102-000000 | B1 baseline/20260103-000000 |"
    )
    assert "| model.kind | tiny | tiny | baseline |" in settings
    assert "| training.learning_rate | 2e-05 | 0.001 | n/a |" in settings
    assert "num_train_epochs" not in md and "max_length" not in md
    assert "different test sets" in md and "Skipped" in md and "20260104-000000" in md

    page = paths["html"].read_text(encoding="utf-8")
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 2
    assert not re.search(r'(src|href)="(https?:|/|\.\.?/)', page)
    assert page.count('class="warn"') == 2
    data = json.loads(paths["json"].read_text())
    assert [r["rank"] for r in data["runs"]] == [1, 2, 1]
    assert data["runs"][1]["config"]["training.learning_rate"] == 0.001
    assert data["runs"][2]["config"] == {"model.kind": "baseline"}
    runs_header = re.search(r'<table class="runs">.*?</thead>', page, re.DOTALL).group(0)
    assert "model size" in runs_header and "training." not in runs_header
    assert re.search(r'<table class="settings">.*learning_rate.*</table>', page, re.DOTALL)


def test_same_sentences_in_another_order_are_the_same_test_set(tmp_path):
    a = make_run(tmp_path / "a" / "1", gold=GOLD, probs=PROBS)
    b = make_run(tmp_path / "b" / "1", gold=GOLD, probs=PROBS)
    rows = [json.loads(line) for line in (b / "predictions.jsonl").read_text().splitlines()][::-1]
    (b / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cmp = compare_runs([a, b])
    assert [r.group for r in cmp.runs] == ["A", "A"]
    assert cmp.runs[1].vs_best["macro_f1"]["delta"] == 0 and cmp.runs[1].vs_best["macro_f1"]["p"] == 1.0


def test_cv_run_in_comparison(tmp_path):
    cv = make_run(tmp_path / "cv" / "1", gold=GOLD40, probs=HAND, folds=4)
    single = make_run(tmp_path / "single" / "1", gold=GOLD40, probs=PERFECT)
    cmp = compare_runs([cv, single])
    # pooled fold predictions cover the same 40 sentences: same group, ranked together
    assert [(r.path, r.rank) for r in cmp.runs] == [(single, 1), (cv, 2)]
    ev = cmp.runs[1].evaluation
    assert ev.metrics["macro_f1"] == pytest.approx(2 / 3)  # pooled
    assert ev.fold_summary["mean"]["macro_f1"] == pytest.approx(np.mean([f["macro_f1"] for f in ev.folds]))
    assert "(CV 4)" in write_comparison(cmp, tmp_path / "out")["markdown"].read_text()


def test_differing_config_keys():
    assert differing_config_keys([{"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3]}, {"a": 1, "b": [1, 2], "c": 0}]) == [
        "b",
        "c",
    ]


def test_differing_config_keys_count_only_the_runs_that_read_a_key():
    configs = [{"k": "tiny", "lr": 1e-3, "ep": 3}, {"k": "tiny", "lr": 1e-3, "ep": 5}, {"k": "baseline", "lr": 2e-5}]
    uses = [None, frozenset({"k", "lr", "ep"}), frozenset({"k"})]
    assert differing_config_keys(configs, uses) == ["k", "ep"]
    assert differing_config_keys(configs) == ["k", "lr", "ep"]


def test_a_config_that_cannot_be_rebuilt_shows_every_key(tmp_path):
    a = make_run(tmp_path / "a" / "1", gold=GOLD, probs=PROBS, config={"model.kind": "gone", "model.x": 1})
    b = make_run(tmp_path / "b" / "1", gold=GOLD, probs=PROBS, config={"model.kind": "tiny", "model.x": 2})
    cmp = compare_runs([a, b])
    assert cmp.runs[0].uses is None and set(cmp.differing_keys) == {"model.kind", "model.x"}


def test_a_run_with_unusable_predictions_is_skipped_with_the_reason(tmp_path):
    good = make_run(tmp_path / "a" / "1", gold=GOLD, probs=PROBS)
    bad = make_run(tmp_path / "b" / "1", gold=GOLD, probs=PROBS)
    rows = [json.loads(line) for line in (bad / "predictions.jsonl").read_text().splitlines()]
    del rows[2]["id"]
    (bad / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.warns(UserWarning, match=r"predictions.jsonl: row 3 lacks 'id'"):
        cmp = compare_runs([good, bad])
    assert [r.path for r in cmp.runs] == [good] and cmp.skipped[0]["run"] == str(bad)
