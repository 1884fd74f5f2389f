"""End to end on real runs: train.py's tiny transformer and baseline runs (tests/conftest.py), evaluated,
reported and compared with the real ``load_predictor``."""

import json

import numpy as np
import pytest
from test_evaluation import load_cli

from vistance.data import read_jsonl
from vistance.errors import VistanceError
from vistance.evaluation import EvaluationError, evaluate_run
from vistance.reports.comparison import compare_runs, write_comparison


def assert_reproduces_saved_predictions(run):
    """Re-running the saved checkpoint on the run's test split gives the run's own predictions and metrics."""
    ev = evaluate_run(run)
    saved = read_jsonl(run / "predictions.jsonl")
    assert ev.ids == [r["id"] for r in saved]
    np.testing.assert_allclose(ev.probs, [[r["probs"][lab] for lab in ev.labels] for r in saved], atol=1e-4)
    assert ev.pred == [r["pred"] for r in saved]
    recorded = json.loads((run / "metrics.json").read_text())["test"]
    for k in ("accuracy", "macro_f1", "f_avg", "claim_f1"):
        assert ev.metrics[k] == pytest.approx(recorded[k]), k
    return ev


def test_baseline_reevaluation_reproduces_the_run(baseline_run):
    ev = assert_reproduces_saved_predictions(baseline_run)
    assert ev.source["kind"] == "baseline"


def test_tiny_reevaluation_reproduces_the_run(tiny_run):
    # Caught a real bug: Trainer.predict length-groups eval batches in transformers 5, so the saved
    # rows once carried other sentences' probabilities.
    assert_reproduces_saved_predictions(tiny_run)


def test_tiny_run_evaluated_with_its_checkpoint(tiny_run):
    from vistance.checkpoint import load_predictor

    ev = evaluate_run(tiny_run)
    split = read_jsonl(tiny_run / "splits" / "test.jsonl")
    probs = load_predictor(tiny_run).predict_proba([e["text"] for e in split])
    np.testing.assert_allclose(ev.probs, probs, atol=1e-6)
    assert ev.gold == [e["label"] for e in split] and ev.source["kind"] == "tiny"
    assert ev.source["checkpoint"].endswith("checkpoint") and ev.calibration["ece"] is not None


def test_cli_dev_split_and_corpus_file(tiny_run, small_corpus, capsys):
    cli = load_cli()
    assert cli.main([str(tiny_run), "--split", "dev", "--resamples", "200"]) == 0
    out_dir = tiny_run / "eval-dev"
    m = json.loads((out_dir / "metrics.json").read_text())
    assert m["n"] == len(read_jsonl(tiny_run / "splits" / "dev.jsonl")) and m["source"]["split"] == "dev"
    assert (out_dir / "report.html").stat().st_size > 10_000 and (out_dir / "errors.csv").is_file()
    # any labelled corpus file, evaluated with the checkpoint's task (joint: every sentence counts)
    assert cli.main([str(tiny_run / "checkpoint"), "--data", str(small_corpus), "--out", str(tiny_run / "x")]) == 0
    m = json.loads((tiny_run / "x" / "metrics.json").read_text())
    assert m["n"] == 90 and m["task"] == "joint" and m["source"]["data_sha256"]


def test_compare_tiny_and_baseline(tiny_run, baseline_run, tmp_path):
    cmp = compare_runs([tiny_run, baseline_run])
    # Both fixtures split the same corpus with the same seed: one test set, so one paired group.
    assert read_jsonl(tiny_run / "splits" / "test.jsonl") == read_jsonl(baseline_run / "splits" / "test.jsonl")
    assert len(cmp.groups) == 1
    best, other = cmp.runs
    assert best.macro_f1 >= other.macro_f1 and 0 <= other.vs_best["macro_f1"]["p"] <= 1
    assert "model.kind" in cmp.differing_keys
    assert all(r.model_size_bytes for r in cmp.runs) and all(r.train_seconds is not None for r in cmp.runs)
    paths = write_comparison(cmp, tmp_path / "cmp")
    assert "model.kind" in paths["markdown"].read_text()


def test_another_runs_split_file_as_data(tiny_run, baseline_run, tmp_path):
    """A run's splits/test.jsonl (corpus records plus the derived label) is a valid --data file, so one
    checkpoint can be scored on another run's split; the result equals evaluating that run's own split."""
    split = tiny_run / "splits" / "test.jsonl"
    own = evaluate_run(tiny_run)
    via_data = evaluate_run(tiny_run / "checkpoint", data=split)
    assert via_data.ids == own.ids and via_data.gold == own.gold and via_data.pred == own.pred
    assert via_data.metrics["macro_f1"] == pytest.approx(own.metrics["macro_f1"])
    other = evaluate_run(baseline_run / "checkpoint", data=split)
    assert other.gold == own.gold and other.source["data"] == str(split)

    bad = tmp_path / "bad.jsonl"
    rows = read_jsonl(split)
    rows[1]["label"] = "maybe"
    bad.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"bad.jsonl:2: label 'maybe' is not one of the joint task's"):
        evaluate_run(tiny_run / "checkpoint", data=bad)
    bad.write_bytes(b"\xff\xfe" + split.read_bytes())  # not UTF-8: the corpus reader's one line, not a traceback
    with pytest.raises(VistanceError, match="not UTF-8"):
        evaluate_run(tiny_run / "checkpoint", data=bad)
