"""train.py end to end on CPU: run folders, metrics, predictions, checkpoints, seeds, failures, resume, CV."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, read_json, set_args, tiny_overrides

from vistance import runs
from vistance.checkpoint import CheckpointError, load_predictor
from vistance.config import config_from_dict
from vistance.data import file_sha256, read_jsonl
from vistance.text import preprocess

JOINT = ["not_claim", "favor", "against", "neutral"]


def _tiny_argv(run_dir, corpus, extra=()):
    return [
        "--config",
        str(ROOT / "configs/tiny.yaml"),
        "--run-dir",
        str(run_dir),
        *set_args(tiny_overrides(corpus)),
        *extra,
    ]


# --------------------------------------------------------------------------- the run folder


def test_tiny_run_folder_records_everything(tiny_run, small_corpus):
    assert runs.is_complete(tiny_run)
    status = read_json(tiny_run / "status.json")
    assert status["status"] == "complete" and status["train_seconds"] > 0
    assert status["started_at"] <= status["finished_at"]

    cfg = config_from_dict(runs.read_yaml(tiny_run / "config.yaml"))
    assert cfg.model.kind == "tiny" and cfg.training.num_train_epochs == 6 and cfg.data.files == [str(small_corpus)]
    assert (tiny_run / "command.txt").read_text().startswith("python train.py --config ")
    env = read_json(tiny_run / "env.json")
    assert env["packages"]["transformers"] and env["python"] and "commit" in env["git"]

    data = read_json(tiny_run / "data.json")
    assert data["files"] == {str(small_corpus): file_sha256(small_corpus)}
    assert data["task"] == "joint" and data["labels"] == JOINT
    splits = runs.read_splits(tiny_run)
    assert data["splits"] == {"train": len(splits.train), "dev": len(splits.dev), "test": len(splits.test)}
    assert sum(data["splits"].values()) == 90
    assert sum(data["label_counts"]["test"].values()) == len(splits.test)
    # No sentence appears in two splits.
    ids = [e["id"] for _, part in splits.items() for e in part]
    assert len(ids) == len(set(ids))
    assert all({"id", "text", "label"} <= set(e) for e in splits.test)
    # TensorBoard events in the run folder; Trainer checkpoints dropped once the run is saved.
    assert list((tiny_run / "logs").glob("events.out.tfevents.*"))
    assert not (tiny_run / "trainer").exists()


def test_tiny_metrics_and_predictions_agree(tiny_run):
    metrics = read_json(tiny_run / "metrics.json")
    assert metrics["task"] == "joint" and metrics["labels"] == JOINT
    assert metrics["num_parameters"] > 10_000 and metrics["model_size_bytes"] > 4 * 10_000
    test = runs.read_splits(tiny_run).test
    assert metrics["test"]["n"] == len(test) and metrics["dev"]["n"] == len(runs.read_splits(tiny_run).dev)
    assert set(metrics["test"]["per_class"]) == set(JOINT)
    assert {"accuracy", "macro_f1", "f_avg", "claim_f1"} <= set(metrics["test"])

    rows = read_jsonl(tiny_run / "predictions.jsonl")
    assert [r["id"] for r in rows] == [e["id"] for e in test]
    assert [r["gold"] for r in rows] == [e["label"] for e in test]
    for r in rows:
        assert set(r["probs"]) == set(JOINT)
        assert abs(sum(r["probs"].values()) - 1) < 1e-4
        assert r["pred"] == max(r["probs"], key=r["probs"].get)
    accuracy = np.mean([r["pred"] == r["gold"] for r in rows])
    assert metrics["test"]["accuracy"] == pytest.approx(accuracy)
    # Row i is test sentence i: the saved checkpoint gives the same probabilities, in the same order.
    probs = load_predictor(tiny_run).predict_proba([e["text"] for e in test])
    assert np.abs(probs - np.array([[r["probs"][lab] for lab in JOINT] for r in rows])).max() < 1e-5
    # The restored best epoch is the one early stopping chose: its dev score is the one reported.
    state = read_json(tiny_run / "trainer_state.json")
    assert metrics["dev"]["macro_f1"] == pytest.approx(state["best_metric"])


def test_tiny_checkpoint_loads_with_plain_transformers(tiny_run):
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        PhobertTokenizer,
        pipeline,
    )

    ckpt = tiny_run / "checkpoint"
    model = AutoModelForSequenceClassification.from_pretrained(ckpt)
    assert model.config.id2label == dict(enumerate(JOINT))
    assert model.config.label2id == {lab: i for i, lab in enumerate(JOINT)}
    assert model.config.max_position_embeddings == 258 and model.config.pad_token_id == 1
    tok = AutoTokenizer.from_pretrained(ckpt)
    assert isinstance(tok, PhobertTokenizer)
    assert (ckpt / "vocab.txt").is_file() and (ckpt / "bpe.codes").read_text(encoding="utf-8").endswith("\n")
    meta = read_json(ckpt / "vistance.json")
    assert meta["kind"] == "tiny" and meta["labels"] == JOINT and meta["max_length"] == 256
    assert meta["preprocess"]["segmenter"] == "pyvi"

    raw = "Tổng thống Nga Vladimir Putin nói Moscow sẵn sàng đàm phán với Ukraine."
    segmented = preprocess(raw)
    clf = pipeline("text-classification", model=str(ckpt), tokenizer=str(ckpt), top_k=None, device="cpu")
    scores = clf(segmented, truncation=True, max_length=256)
    scores = scores[0] if isinstance(scores[0], list) else scores
    assert {s["label"] for s in scores} == set(JOINT)
    assert sum(s["score"] for s in scores) == pytest.approx(1, abs=1e-4)

    # vistance's own loader replays the segmentation, so raw text gives the pipeline's numbers.
    predictor = load_predictor(tiny_run)
    probs = predictor.predict_proba([raw], calibrated=False)[0]
    by_label = {s["label"]: s["score"] for s in scores}
    assert probs == pytest.approx([by_label[lab] for lab in JOINT], abs=1e-5)
    # What users get is the same distribution through the temperature fitted on dev (vistance.decision).
    assert predictor.predict_proba([raw])[0] == pytest.approx(predictor.decision.calibrate([probs])[0], abs=1e-6)


def test_model_card_reports_the_run(tiny_run):
    card = (tiny_run / "checkpoint" / "README.md").read_text(encoding="utf-8")
    metrics = read_json(tiny_run / "metrics.json")
    test = metrics["test"]
    assert f"| test | {test['n']} | {test['accuracy']:.4f} | {test['macro_f1']:.4f} |" in card
    assert "segmentation with `pyvi`" in card and "| 0 | not_claim |" in card


def test_baseline_run_writes_same_format(baseline_run):
    assert runs.is_complete(baseline_run)
    metrics = read_json(baseline_run / "metrics.json")
    assert metrics["kind"] == "baseline" and metrics["labels"] == JOINT
    assert metrics["num_parameters"] > 0 and metrics["model_size_bytes"] > 0
    ckpt = baseline_run / "checkpoint"
    assert (ckpt / "model.skops").is_file() and (ckpt / "README.md").is_file()
    rows = read_jsonl(baseline_run / "predictions.jsonl")
    test = runs.read_splits(baseline_run).test
    predictor = load_predictor(baseline_run)
    probs = predictor.predict_proba([e["text"] for e in test])
    assert probs.shape == (len(test), len(predictor.labels))
    for r, p in zip(rows, probs):
        assert p == pytest.approx([r["probs"][lab] for lab in predictor.labels], abs=1e-5)
    assert metrics["test"]["accuracy"] == pytest.approx(np.mean([r["pred"] == r["gold"] for r in rows]))


# --------------------------------------------------------------------------- what a run prints and logs


def test_the_terminal_gets_a_bar_per_phase_and_a_summary_the_log_gets_everything(
    train_script, small_corpus, tmp_path, capfd
):
    import logging
    import re
    import warnings

    from transformers import TrainerCallback
    from transformers.utils import logging as hf_logging

    class Chatty(TrainerCallback):  # what libraries do on their own during a run
        def on_train_begin(self, args, state, control, **kw):
            warnings.warn("a library's UserWarning", stacklevel=1)
            logging.getLogger("transformers.somewhere").warning("a transformers warning")

    root_handlers = list(logging.getLogger().handlers)
    run_dir = tmp_path / "quiet"
    argv = _tiny_argv(run_dir, small_corpus)
    argv[argv.index("training.num_train_epochs=6")] = "training.num_train_epochs=2"
    train_script.main(argv, callbacks=[Chatty()])
    out, err = capfd.readouterr()

    log = (run_dir / "train.log").read_text(encoding="utf-8")
    lines = out.splitlines()
    assert lines[0] == f"run folder: {run_dir} (log: {run_dir / 'train.log'})"
    assert re.fullmatch(
        r"test \(n=\d+; 95% bootstrap intervals\): macro_f1 0\.\d{3} \[0\.\d{3}, [01]\.\d{3}\]  "
        r"f_avg 0\.\d{3} \[0\.\d{3}, [01]\.\d{3}\]  accuracy 0\.\d{3}  claim_f1 0\.\d{3}",
        lines[1],
    )
    assert re.fullmatch(rf"run folder: {re.escape(str(run_dir))} \(complete, trained in \d+ s\)", lines[2])
    assert len(lines) == 3
    # stderr: the phases' bars (BPE merges, training steps) and the small-test-set caution, nothing else
    shown = {line.split(":")[0] for line in err.replace("\r", "\n").splitlines() if line.strip()}
    assert shown == {"tokenizer", "train", "caution"}, shown
    for noise in ("'loss'", "eval_macro_f1", "Loading weights", "Writing model shards", "tokenize train", "Warning"):
        assert noise not in err and noise not in out
    # train.log: the same summary, every Trainer logging dict, the warnings
    assert lines[1] in log and "started: python train.py --config" in log
    assert len(re.findall(r"step \d+: \{\"loss\": ", log)) == 8 and len(re.findall(r"\"eval_macro_f1\"", log)) == 2
    assert "train_runtime" in log and "a library's UserWarning" in log and "a transformers warning" in log
    # and everything is put back for whatever runs next in this process
    assert logging.getLogger().handlers == root_handlers and hf_logging.is_progress_bar_enabled()
    assert not logging.getLogger("transformers").propagate


def test_summary_line_pools_cv_folds_with_the_evaluate_intervals(tmp_path):
    from vistance.evaluation import BootstrapConfig
    from vistance.metrics.intervals import bootstrap_ci
    from vistance.training import summary_line

    gold = ["favor", "against", "neutral", "not_claim"] * 5
    pred = ["favor", "neutral", "neutral", "not_claim"] * 5
    for k, part in enumerate((slice(0, 8), slice(8, 20))):
        runs.write_json(tmp_path / f"fold-{k + 1}" / "x.json", {})
        rows = [{"id": str(i), "gold": g, "pred": p} for i, (g, p) in enumerate(zip(gold[part], pred[part]))]
        (tmp_path / f"fold-{k + 1}" / "predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    line = summary_line([tmp_path / "fold-1", tmp_path / "fold-2"], JOINT)
    b = BootstrapConfig()
    ci = bootstrap_ci(gold, pred, JOINT, b.n_resamples, b.confidence, b.seed)["macro_f1"]
    assert line.startswith("test (pooled over 2 folds, n=20; 95% bootstrap intervals): macro_f1 ")
    assert f"macro_f1 {ci['estimate']:.3f} [{ci['low']:.3f}, {ci['high']:.3f}]" in line


# --------------------------------------------------------------------------- reproducibility and failures


class InterruptAfter:
    """A Trainer callback that raises after ``n`` optimiser steps, like Ctrl-C would."""

    def __init__(self, n: int, exc: type[BaseException] = KeyboardInterrupt):
        from transformers import TrainerCallback

        outer = self

        class _CB(TrainerCallback):
            def on_step_end(self, args, state, control, **kw):
                if state.global_step == outer.n:
                    raise outer.exc(f"stopped after step {outer.n}")

        self.n, self.exc, self.callback = n, exc, _CB()


def _scores(run_dir):
    m = read_json(run_dir / "metrics.json")
    return {split: {k: m[split][k] for k in ("accuracy", "macro_f1", "per_class")} for split in ("dev", "test")}


def _probs(run_dir):
    return np.array([[r["probs"][lab] for lab in JOINT] for r in read_jsonl(run_dir / "predictions.jsonl")])


@pytest.mark.extended
def test_same_seed_same_metrics_and_resume_matches(train_script, tiny_run, small_corpus, tmp_path):
    # Same seed, same CPU: the same numbers, prediction for prediction.
    again = tmp_path / "again"
    train_script.main(_tiny_argv(again, small_corpus))
    assert _scores(again) == _scores(tiny_run)
    assert np.array_equal(_probs(again), _probs(tiny_run))

    # Interrupt in the middle of epoch 2 (8 steps per epoch), then resume from the epoch-1 checkpoint.
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        train_script.main(_tiny_argv(cut, small_corpus), callbacks=[InterruptAfter(11).callback])
    assert runs.read_status(cut)["status"] == "interrupted" and not runs.is_complete(cut)
    assert not (cut / "metrics.json").exists()
    with pytest.raises(CheckpointError, match="not complete"):
        load_predictor(cut)
    train_script.main(["--resume", str(cut)])
    assert runs.is_complete(cut)
    assert "--resume" in (cut / "command.txt").read_text()
    assert _scores(cut) == _scores(tiny_run)
    assert np.abs(_probs(cut) - _probs(tiny_run)).max() <= 1e-6
    state = read_json(cut / "trainer_state.json")
    assert state["global_step"] == read_json(tiny_run / "trainer_state.json")["global_step"] == 48


@pytest.mark.extended
def test_another_seed_gives_other_probabilities(train_script, tiny_run, small_corpus, tmp_path):
    """What makes "same seed, same numbers" (above) a real check: the seed does reach the outputs."""
    other = tmp_path / "other-seed"
    train_script.main(_tiny_argv(other, small_corpus, ["--set", "training.seed=7"]))
    assert np.abs(_probs(other) - _probs(tiny_run)).max() > 1e-4


def test_failed_run_is_marked_and_never_complete(train_script, small_corpus, tmp_path):
    run_dir = tmp_path / "boom"
    with pytest.raises(RuntimeError, match="stopped after step 2"):
        train_script.main(_tiny_argv(run_dir, small_corpus), callbacks=[InterruptAfter(2, RuntimeError).callback])
    status = runs.read_status(run_dir)
    assert status["status"] == "failed" and "stopped after step 2" in status["error"]
    assert not runs.is_complete(run_dir)
    with pytest.raises(CheckpointError, match="'failed', not complete"):
        load_predictor(run_dir)
    # Written before training, so a failed run still says what it was.
    assert (run_dir / "config.yaml").is_file() and (run_dir / "splits" / "train.jsonl").is_file()


def test_resume_refuses_complete_run(train_script, tiny_run):
    with pytest.raises(runs.RunError, match="already complete"):
        train_script.main(["--resume", str(tiny_run)])
    with pytest.raises(runs.RunError, match="not a run folder"):
        train_script.main(["--resume", str(tiny_run / "checkpoint")])
    with pytest.raises(runs.RunError, match="already holds a run"):
        train_script.main(["--config", str(ROOT / "configs/tiny.yaml"), "--run-dir", str(tiny_run)])


# --------------------------------------------------------------------------- cross-validation


@pytest.mark.extended
@pytest.mark.parametrize("kind", ["tiny", "baseline"])
def test_cv3_reports_mean_and_std(train_script, small_corpus, tmp_path, kind):
    run_dir = tmp_path / f"cv-{kind}"
    if kind == "tiny":
        argv = _tiny_argv(run_dir, small_corpus, ["--cv", "3"])
        argv[argv.index("training.num_train_epochs=6")] = "training.num_train_epochs=1"
    else:
        argv = [
            "--config",
            str(ROOT / "configs/baseline.yaml"),
            "--run-dir",
            str(run_dir),
            "--cv",
            "3",
            "--set",
            f"data.files=[{small_corpus}]",
        ]
    train_script.main(argv)
    assert runs.is_complete(run_dir)
    m = read_json(run_dir / "metrics.json")
    assert m["cv"] == 3 and len(m["folds"]) == 3 and m["labels"] == JOINT
    for key in ("accuracy", "macro_f1", "f_avg", "claim_f1"):
        scores = [f["test"][key] for f in m["folds"]]
        assert m["mean"][key] == pytest.approx(np.mean(scores))
        assert m["std"][key] == pytest.approx(np.std(scores))
    # The three test folds partition the corpus.
    test_ids = [e["id"] for i in (1, 2, 3) for e in runs.read_splits(run_dir / f"fold-{i}").test]
    assert len(test_ids) == len(set(test_ids)) == 90
    for i in (1, 2, 3):
        fold = run_dir / f"fold-{i}"
        assert read_json(fold / "metrics.json")["test"] == m["folds"][i - 1]["test"]
        assert len(read_jsonl(fold / "predictions.jsonl")) == read_json(fold / "data.json")["splits"]["test"]
        assert (fold / "checkpoint").is_dir() == (kind == "baseline")
    assert not (run_dir / "checkpoint").exists()
    with pytest.raises(CheckpointError, match="--cv run"):
        load_predictor(run_dir)


# --------------------------------------------------------------------------- generic CSV data and PhoBERT weights


def test_custom_csv_labels_come_from_the_data(train_script, tmp_path):
    import csv

    records = read_jsonl(ROOT / "data/annotated/seed.jsonl")
    for name, part in (("train", records[:60]), ("dev", records[60:80]), ("test", records[80:100])):
        with open(tmp_path / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["sentence", "is_claim"])
            w.writerows([(r["text"], "yes" if r["claim"] == "claim" else "no") for r in part])
    run_dir = tmp_path / "csv-run"
    train_script.main(
        [
            "--config",
            str(ROOT / "configs/baseline.yaml"),
            "--run-dir",
            str(run_dir),
            *set_args(
                [
                    f"data.train_file={tmp_path / 'train.csv'}",
                    f"data.dev_file={tmp_path / 'dev.csv'}",
                    f"data.test_file={tmp_path / 'test.csv'}",
                    "data.text_column=sentence",
                    "data.label_column=is_claim",
                ]
            ),
        ]
    )
    m = read_json(run_dir / "metrics.json")
    assert m["task"] == "custom" and m["labels"] == ["no", "yes"] and m["test"]["n"] == 20
    assert read_json(run_dir / "data.json")["splits"] == {"train": 60, "dev": 20, "test": 20}
    assert read_json(run_dir / "checkpoint" / "vistance.json")["labels"] == ["no", "yes"]


def test_missing_column_is_one_line_error(train_script, tmp_path):
    from vistance.errors import DataError

    (tmp_path / "t.csv").write_text("text,sentiment\nxin chào,1\n", encoding="utf-8")
    with pytest.raises(DataError, match="no column 'label'.*set data.text_column"):
        train_script.main(
            [
                "--config",
                str(ROOT / "configs/baseline.yaml"),
                "--run-dir",
                str(tmp_path / "r"),
                "--set",
                f"data.train_file={tmp_path / 't.csv'}",
            ]
        )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", b'{"text": "a", "label": "x"}\nnot json\n', r"bad.jsonl:2: malformed JSON"),
        ("array.json", b'[{"text": "a", "label": "x"}]', r"array.json:1: expected a JSON object, got list"),
        ("latin1.csv", "text,label\nhòa bình,1\n".encode("latin-1", "replace") + b"\xff\n", r"latin1.csv: not UTF-8"),
        (
            "one.csv",
            "".join(f"câu {i},a\n" for i in range(20)).join(["text,label\n", ""]).encode(),
            r"one.csv: column 'label' holds one label only",
        ),
        ("three.csv", b"text,label\nx y,a\nz w,b\nu v,a\n", r"three.csv: cannot split 3 examples"),
    ],
)
def test_unusable_training_file_is_one_line_error_before_any_run_folder(train_script, tmp_path, name, content, message):
    from vistance.errors import DataError

    (tmp_path / name).write_bytes(content)
    with pytest.raises(DataError, match=message):
        train_script.main(
            [
                "--config",
                str(ROOT / "configs/baseline.yaml"),
                "--run-dir",
                str(tmp_path / "r"),
                "--set",
                f"data.train_file={tmp_path / name}",
            ]
        )
    assert not (tmp_path / "r").exists()


@pytest.mark.subprocess
def test_offline_phobert_fails_fast_with_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "train.py", "--config", "configs/phobert-base-v2.yaml", "--run-dir", str(tmp_path / "pb")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 2
    err = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "Traceback" not in proc.stderr
    assert "vinai/phobert-base-v2" in err[0] and "--set model.name_or_path=" in err[0] and "hf download" in err[0]
    assert runs.read_status(tmp_path / "pb")["status"] == "failed"


def test_phobert_config_fine_tunes_from_a_local_folder(train_script, tiny_run, small_corpus, tmp_path):
    """The path a user with downloaded weights takes: configs/phobert-base-v2.yaml + a local folder.

    The tiny run's checkpoint stands in for PhoBERT (same format: RobertaForSequenceClassification
    + PhobertTokenizer with vocab.txt/bpe.codes), so the real transformer code path loads it.
    """
    weights = tiny_run / "checkpoint"
    run_dir = tmp_path / "local-phobert"
    train_script.main(
        [
            "--config",
            str(ROOT / "configs/phobert-base-v2.yaml"),
            "--run-dir",
            str(run_dir),
            *set_args(
                [
                    f"data.files=[{small_corpus}]",
                    f"model.name_or_path={weights}",
                    "training.num_train_epochs=1",
                    "training.use_cpu=true",
                    "training.per_device_train_batch_size=16",
                ]
            ),
        ]
    )
    assert runs.is_complete(run_dir)
    meta = read_json(run_dir / "checkpoint" / "vistance.json")
    assert meta["kind"] == "transformer" and meta["base_model"] == str(weights)
    assert meta["labels"] == list(JOINT) and meta["max_length"] == 256
    predictor = load_predictor(run_dir)
    probs = predictor.predict_proba(["Tổng thống Nga nói sẵn sàng đàm phán. " * 80])  # > 256 tokens: truncated
    assert probs.shape == (1, 4) and abs(probs.sum() - 1) < 1e-5


# --------------------------------------------------------------------------- the segmentation cache


def test_preprocess_cache_is_reread_from_disk_whatever_the_text(tmp_path, monkeypatch):
    from vistance.text import PreprocessConfig, Preprocessor

    calls = []

    class Spy(Preprocessor):
        def __call__(self, texts):
            calls.append(list(texts))
            return super().__call__(texts)

    import vistance.text

    texts = ["Nga\u2028sẵn sàng đàm phán.", "Ukraine\x85bác bỏ.", "Tổng thống Nga nói."]
    expected = preprocess(texts)
    monkeypatch.setattr(vistance.text, "Preprocessor", Spy)
    monkeypatch.setenv("VISTANCE_CACHE_DIR", str(tmp_path / "a"))
    assert vistance.text.preprocess_cached(texts, PreprocessConfig()) == expected
    monkeypatch.setattr(vistance.text, "_MEMORY", {})  # a new process: only the file remains
    monkeypatch.setenv("VISTANCE_CACHE_DIR", str(tmp_path / "b"))
    assert vistance.text.preprocess_cached(["Hòa bình."], PreprocessConfig()) == ["Hòa_bình ."]
    monkeypatch.setenv("VISTANCE_CACHE_DIR", str(tmp_path / "a"))
    assert vistance.text.preprocess_cached(texts, PreprocessConfig()) == expected
    # Segmented once; the second time every row (U+2028 and U+0085 included) comes from a's file.
    assert calls == [texts, ["Hòa bình."]]
