"""Evaluation of runs (single split, --data, --cv) and the reports written from it.

Run folders are fabricated to the training contract (config.yaml, status.json, data.json,
splits/, predictions.jsonl, metrics.json) and scored by a fake predictor, so these tests do not
depend on training; test_evaluation_e2e.py runs the real thing on a tiny trained model.
"""

import csv
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from vistance.data import write_jsonl
from vistance.evaluation import (
    EvaluationError,
    default_out_dir,
    evaluate_run,
    run_test_evaluation,
)
from vistance.metrics import classification_metrics
from vistance.reports.evaluation import write_report

ROOT = Path(__file__).resolve().parents[1]
OFFLINE_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1"}
LABELS = ["not_claim", "favor", "against", "neutral"]
NC, F, A, N = LABELS
# The hand example of test_metrics.py: accuracy 5/8, macro-F1 2/3, F_avg 1/2, claim-F1 0.8, ECE 0.2375.
GOLD = [NC, NC, NC, F, F, A, A, N]
PRED = [NC, NC, F, F, A, A, NC, N]
PROBS = np.array(
    [
        [0.85, 0.05, 0.05, 0.05],
        [0.75, 0.10, 0.10, 0.05],
        [0.15, 0.65, 0.10, 0.10],
        [0.05, 0.85, 0.05, 0.05],
        [0.10, 0.10, 0.75, 0.05],
        [0.10, 0.10, 0.75, 0.05],
        [0.95, 0.02, 0.02, 0.01],
        [0.10, 0.10, 0.05, 0.75],
    ]
)


def examples(gold, prefix="s", article="art"):
    return [
        {
            "id": f"{prefix}{i}",
            "text": f"Câu {prefix}{i} về đàm phán hòa bình Nga - Ukraine.",
            "label": g,
            "article": f"{article}{i // 4}",
        }
        for i, g in enumerate(gold)
    ]


def make_run(
    path: Path,
    gold=GOLD,
    probs=PROBS,
    status="complete",
    config=None,
    prefix="s",
    labels=LABELS,
    task="joint",
    train_seconds=12.5,
    model_size_bytes=2_500_000,
    num_parameters=600_000,
    folds=0,
) -> Path:
    """A run folder as train.py leaves it (``folds`` > 0: a --cv run with fold-1..K)."""
    path.mkdir(parents=True)
    cfg = {
        "name": path.parent.name,
        "data": {"task": task, "files": ["data/annotated/seed.jsonl"]},
        "model": {"kind": "tiny", "max_length": 64},
        "training": {"learning_rate": 1e-3, "seed": 42, "cv": folds},
    }
    for key, value in (config or {}).items():
        section, name = key.split(".")
        cfg[section][name] = value
    (path / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    (path / "data.json").write_text(json.dumps({"task": task, "labels": labels}), encoding="utf-8")
    status_d = {"status": status, "started_at": "2026-01-01T00:00:00"}
    if status == "complete":
        status_d.update(finished_at="2026-01-01T00:01:00", train_seconds=train_seconds)
    (path / "status.json").write_text(json.dumps(status_d), encoding="utf-8")
    exs = examples(gold, prefix)
    probs = np.asarray(probs)
    parts = (
        [(path, exs, probs)]
        if not folds
        else [(path / f"fold-{k + 1}", exs[k::folds], probs[k::folds]) for k in range(folds)]
    )
    for folder, part, pr in parts:
        write_jsonl(folder / "splits" / "test.jsonl", part)
        write_jsonl(folder / "splits" / "dev.jsonl", part[:2])
        rows = [
            {
                "id": e["id"],
                "text": e["text"],
                "gold": e["label"],
                "pred": labels[int(np.argmax(p))],
                "probs": dict(zip(labels, map(float, p))),
            }
            for e, p in zip(part, pr)
        ]
        write_jsonl(folder / "predictions.jsonl", rows)
        test = classification_metrics([r["gold"] for r in rows], [r["pred"] for r in rows], labels)
        (folder / "metrics.json").write_text(
            json.dumps(
                {
                    "task": task,
                    "labels": labels,
                    "dev": test,
                    "test": test,
                    "train_seconds": train_seconds,
                    "num_parameters": num_parameters,
                    "model_size_bytes": model_size_bytes,
                }
            ),
            encoding="utf-8",
        )
    if folds:
        (path / "metrics.json").write_text(json.dumps({"task": task, "labels": labels, "cv": folds}), encoding="utf-8")
    return path


class FakePredictor:
    """The Predictor contract: labels, task, kind, path, predict_proba(raw texts)."""

    def __init__(self, table: dict, labels=LABELS, task="joint"):
        self.table, self.labels, self.task, self.kind, self.path = table, list(labels), task, "fake", Path("fake")
        self.seen: list[str] = []

    def predict_proba(self, texts, batch_size=32, progress=False):
        self.seen += list(texts)
        uniform = np.full(len(self.labels), 1 / len(self.labels))
        return np.array([self.table.get(t, uniform) for t in texts]).reshape(len(texts), len(self.labels))


def fake_for(run: Path) -> FakePredictor:
    return FakePredictor({e["text"]: p for e, p in zip(examples(GOLD), PROBS)})


def test_evaluate_run_on_test_split_gives_hand_computed_numbers(tmp_path):
    run = make_run(tmp_path / "tiny" / "20260101-000000")
    fake = fake_for(run)
    ev = evaluate_run(run, predictor=fake)
    assert len(fake.seen) == 8
    assert ev.metrics["accuracy"] == pytest.approx(5 / 8)
    assert ev.metrics["macro_f1"] == pytest.approx(2 / 3)
    assert ev.metrics["f_avg"] == pytest.approx(0.5)
    assert ev.metrics["claim_f1"] == pytest.approx(0.8)
    assert ev.metrics["confusion_matrix"] == [[2, 1, 0, 0], [0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 0, 1]]
    assert ev.calibration["ece"] == pytest.approx(0.2375)
    for k in ("macro_f1", "f_avg"):
        assert ev.ci[k]["estimate"] == pytest.approx(ev.metrics[k])
        assert ev.ci[k]["low"] <= ev.ci[k]["estimate"] <= ev.ci[k]["high"]
    # errors: the three misclassified sentences, most confident first
    assert [(e["id"], e["gold"], e["pred"]) for e in ev.errors] == [("s6", A, NC), ("s4", F, A), ("s2", NC, F)]
    assert [e["confidence"] for e in ev.errors] == pytest.approx([0.95, 0.75, 0.65])
    assert [e["p_gold"] for e in ev.errors] == pytest.approx([0.02, 0.10, 0.15])
    assert ev.source["split"] == "test"


def test_dev_split_and_default_out_dirs(tmp_path):
    run = make_run(tmp_path / "r")
    ev = evaluate_run(run, split="dev", predictor=fake_for(run))
    assert ev.n == 2 and ev.metrics["accuracy"] == 1.0
    assert default_out_dir(run, "dev") == run / "eval-dev"
    assert default_out_dir(run, "test", "new/batch-2.jsonl") == run / "eval-batch-2"
    (run / "checkpoint").mkdir()
    (run / "checkpoint" / "vistance.json").write_text("{}")
    assert default_out_dir(run / "checkpoint", data="b.jsonl") == run / "eval-b"  # never inside the model
    alone = tmp_path / "models" / "phobert-stance"
    alone.mkdir(parents=True)
    (alone / "vistance.json").write_text("{}")
    assert default_out_dir(alone, data="b.jsonl") == tmp_path / "models" / "phobert-stance-eval-b"


def test_evaluate_on_a_corpus_file_uses_the_checkpoint_task(tmp_path):
    run = make_run(tmp_path / "r")
    corpus = tmp_path / "batch.jsonl"
    rows = [
        {
            "id": "b1",
            "article": "x",
            "date": None,
            "text": "Nga muốn hòa bình.",
            "claim": "claim",
            "stance": "favor",
            "speaker": "Putin",
        },
        {
            "id": "b2",
            "article": "x",
            "date": None,
            "text": "Ảnh: Tass.",
            "claim": "not_claim",
            "stance": None,
            "speaker": None,
        },
        {
            "id": "b3",
            "article": "x",
            "date": None,
            "text": "Kyiv bác bỏ.",
            "claim": "claim",
            "stance": "against",
            "speaker": None,
        },
    ]
    write_jsonl(corpus, rows)
    table = {
        "Nga muốn hòa bình.": [0.1, 0.7, 0.1, 0.1],
        "Ảnh: Tass.": [0.9, 0.05, 0.03, 0.02],
        "Kyiv bác bỏ.": [0.1, 0.6, 0.2, 0.1],
    }
    ev = evaluate_run(run, data=corpus, predictor=FakePredictor(table))
    assert ev.gold == [F, NC, A] and ev.pred == [F, NC, F]
    assert ev.source["data_sha256"] and ev.source["data"] == str(corpus)
    # a stance-task checkpoint drops the non-claim sentence
    ev = evaluate_run(
        run, data=corpus, predictor=FakePredictor({k: v[1:] for k, v in table.items()}, labels=[F, A, N], task="stance")
    )
    assert ev.ids == ["b1", "b3"] and ev.labels == [F, A, N]


def test_clear_errors(tmp_path):
    running = make_run(tmp_path / "running", status="running")
    with pytest.raises(EvaluationError, match="'running', not complete"):
        evaluate_run(running, predictor=fake_for(running))
    with pytest.raises(EvaluationError, match="no such"):
        evaluate_run(tmp_path / "nowhere")
    run = make_run(tmp_path / "r")
    (run / "splits" / "dev.jsonl").unlink()
    with pytest.raises(EvaluationError, match="dev.jsonl: missing"):
        evaluate_run(run, split="dev", predictor=fake_for(run))
    other = FakePredictor({}, labels=["not_claim", "claim"], task="claim")
    with pytest.raises(EvaluationError, match="not among the model's labels"):
        evaluate_run(run, predictor=other)


def test_cv_run_pools_folds(tmp_path):
    gold, probs = GOLD * 3, np.concatenate([PROBS] * 3)
    run = make_run(tmp_path / "cv" / "20260101-000000", gold=gold, probs=probs, folds=3)
    ev = evaluate_run(run)  # no predictor: a CV run is scored from its saved fold predictions
    assert ev.n == 24 and len(ev.folds) == 3
    assert ev.metrics["confusion_matrix"] == [[6, 3, 0, 0], [0, 3, 3, 0], [3, 0, 3, 0], [0, 0, 0, 3]]
    assert ev.metrics["macro_f1"] == pytest.approx(2 / 3)
    fold_f1 = [f["macro_f1"] for f in ev.folds]
    assert ev.fold_summary["mean"]["macro_f1"] == pytest.approx(np.mean(fold_f1))
    assert ev.fold_summary["std"]["macro_f1"] == pytest.approx(np.std(fold_f1))
    with pytest.raises(EvaluationError, match="--cv run"):
        evaluate_run(run, split="dev")


def test_report_files(tmp_path):
    run = make_run(tmp_path / "tiny" / "20260101-000000")
    ev = evaluate_run(run, predictor=fake_for(run))
    paths = write_report(ev, tmp_path / "out")
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["metrics"]["macro_f1"] == pytest.approx(2 / 3)
    assert metrics["ci"]["f_avg"]["low"] <= 0.5 <= metrics["ci"]["f_avg"]["high"]
    assert metrics["calibration"]["ece"] == pytest.approx(0.2375)
    assert metrics["n_errors"] == 3 and metrics["bootstrap"]["n_resamples"] == 1000

    with paths["errors"].open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["s6", "s4", "s2"]
    assert float(rows[0]["p_not_claim"]) == pytest.approx(0.95) and rows[0]["text"].startswith("Câu s6")

    md = paths["markdown"].read_text(encoding="utf-8")
    assert "| macro-F1 | 0.667 | [" in md and "| claim-detection F1 | 0.800 |" in md
    assert "| against | 1 | 0 | 1 | 0 |" in md  # confusion row
    assert "## Errors (3 of 8" in md

    page = paths["html"].read_text(encoding="utf-8")
    # self-contained: three embedded PNGs, no external resources
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 3
    assert not re.search(r'(src|href)="(https?:|/|\.\.?/)', page)
    errors = page[page.index('<table class="errors"') :]
    assert errors.index("<td>s6</td>") < errors.index("<td>s4</td>") < errors.index("<td>s2</td>")
    assert "Câu s6" in errors
    for name in ("confusion", "per_class", "reliability"):
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cv_report_shows_mean_std(tmp_path):
    run = make_run(tmp_path / "cv" / "x", gold=GOLD * 2, probs=np.concatenate([PROBS] * 2), folds=2)
    ev = run_test_evaluation(run)
    page = write_report(ev, tmp_path / "out")["html"].read_text(encoding="utf-8")
    assert "Cross-validation (2 folds)" in page and "mean ± std" in page


@pytest.mark.subprocess
def test_cli_help_from_repo_root():
    # evaluate.py shadows the `evaluate` library when run from the repository root; it must still work.
    r = subprocess.run(
        [sys.executable, "evaluate.py", "--help"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert "--compare" in r.stdout and "--data" in r.stdout


def load_cli():
    """The top-level evaluate.py as a module (under another name: `evaluate` is the library)."""
    spec = importlib.util.spec_from_file_location("evaluate_cli", ROOT / "evaluate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_on_cv_run(tmp_path, capsys):
    cli = load_cli()
    run = make_run(tmp_path / "cv" / "x", gold=GOLD * 2, probs=np.concatenate([PROBS] * 2), folds=2)
    assert cli.main([str(run), "--resamples", "200"]) == 0
    out = capsys.readouterr().out
    assert "macro-F1 0.667" in out and str(run / "eval-test" / "report.html") in out
    assert json.loads((run / "eval-test" / "metrics.json").read_text())["cv"]["k"] == 2
    assert cli.main([str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nowhere" in err


@pytest.mark.subprocess
def test_library_import_survives_shadowing_script(tmp_path):
    # `python -m pytest` / `python -c` from the repo root put the root (with evaluate.py) on sys.path.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from vistance.metrics import load_stance_metric; "
        "print(load_stance_metric().compute(predictions=['a'], references=['a'], labels=['a', 'b'])['accuracy'])"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(ROOT)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=OFFLINE_ENV,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("1.0")


def test_reports_use_the_task_label_order(tmp_path):
    # the baseline outputs labels alphabetically; reports show not_claim, favor, against, neutral
    run = make_run(tmp_path / "r")
    alpha = sorted(LABELS)
    table = {e["text"]: p[[LABELS.index(lab) for lab in alpha]] for e, p in zip(examples(GOLD), PROBS)}
    ev = evaluate_run(run, predictor=FakePredictor(table, labels=alpha))
    assert ev.labels == LABELS
    np.testing.assert_allclose(ev.probs, PROBS)
    assert ev.metrics["confusion_matrix"] == [[2, 1, 0, 0], [0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 0, 1]]


def test_custom_model_reads_a_labelled_file_as_training_does(tmp_path):
    # A CSV saved by Excel starts with a BOM, labels may carry spaces and rows may be empty: the file
    # must be read exactly as training's read_table reads it, or the evaluation fails or mislabels.
    run = make_run(
        tmp_path / "r",
        labels=["0", "1"],
        task="custom",
        gold=["0", "1"],
        probs=[[0.9, 0.1], [0.2, 0.8]],
        config={"data.text_column": "sentence", "data.label_column": "sentiment"},
    )
    data = tmp_path / "new.csv"
    data.write_text("\ufeffsentence,sentiment\ntốt lắm,1\n,0\ntệ quá, 0 \n", encoding="utf-8")
    fake = FakePredictor({"tốt lắm": [0.3, 0.7], "tệ quá": [0.6, 0.4]}, labels=["0", "1"], task="custom")
    ev = evaluate_run(run, data=data, predictor=fake)
    assert fake.seen == ["tốt lắm", "tệ quá"] and ev.gold == ["1", "0"] and ev.pred == ["1", "0"]


def test_cli_unwritable_out_is_one_line(tmp_path, capsys):
    cli = load_cli()
    run = make_run(tmp_path / "cv" / "x", gold=GOLD * 2, probs=np.concatenate([PROBS] * 2), folds=2)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main([str(run), "--resamples", "50", "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
