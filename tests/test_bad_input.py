"""The bad-input matrix of issue 13: each case answers with one line (or a clear refusal), nothing is lost."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, read_json, set_args, tiny_overrides

from vistance.data import validate_files


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


def test_predict_refuses_to_overwrite_its_input(baseline_run, tmp_path, capsys):
    from vistance.inference.cli import main

    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "Nga sẵn sàng đàm phán."}\n', encoding="utf-8")
    before = src.read_bytes()
    for output in (str(src), str(tmp_path / "." / "in.jsonl")):
        assert main(["--model", str(baseline_run), "--input", str(src), "--output", output]) == 2
        assert "would overwrite the input" in _one_error_line(capsys.readouterr().err)
    assert src.read_bytes() == before


def test_validate_refuses_empty_and_blank_files(tmp_path):
    empty, blank = tmp_path / "empty.jsonl", tmp_path / "blank.jsonl"
    empty.write_text("", encoding="utf-8")
    blank.write_text("\n  \n\n", encoding="utf-8")
    _, errors = validate_files([empty, blank])
    assert errors == [
        f"{empty}: no labelled records (the file is empty or blank)",
        f"{blank}: no labelled records (the file is empty or blank)",
    ]


def test_http_rejects_empty_texts_naming_the_index(baseline_run):
    from fastapi.testclient import TestClient

    from vistance import StanceClassifier
    from vistance.inference.serve import create_app

    client = TestClient(create_app(StanceClassifier.from_pretrained(baseline_run)))
    r = client.post("/predict", json={"texts": ["Nga sẵn sàng đàm phán.", "   "]})
    assert r.status_code == 422 and r.json()["detail"] == "texts[1] is empty or white space only"
    r = client.post("/analyze", json={"text": "\n \n"})
    assert r.status_code == 422 and "empty" in r.json()["detail"]


def test_claim_agrees_with_claim_score_on_real_checkpoints(baseline_run, tiny_run):
    from vistance import StanceClassifier

    for run in (baseline_run, tiny_run):
        clf = StanceClassifier.from_pretrained(run)
        for r in clf.predict(["Nga sẵn sàng đàm phán.", "Giá xăng tăng.", "Kiev bác bỏ đề xuất ngừng bắn."]):
            assert (r["claim"] == "claim") == (r["claim_score"] >= clf.claim_threshold)


@pytest.mark.subprocess
def test_damaged_weights_are_one_line(tiny_run, tmp_path):
    import shutil

    ckpt = tmp_path / "ckpt"
    shutil.copytree(tiny_run / "checkpoint", ckpt)
    weights = ckpt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    src = tmp_path / "s.txt"
    src.write_text("Nga sẵn sàng đàm phán.", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "vistance.predict", "--model", str(ckpt), "--input", str(src)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "damaged" in _one_error_line(proc.stderr)


def test_cv_beyond_the_data_is_one_line(train_script, small_corpus, tmp_path):
    from vistance.errors import DataError

    with pytest.raises(DataError, match=r"--cv 1000: 90 examples allow at most 30 folds"):
        train_script.main(
            [
                "--config",
                str(ROOT / "configs/baseline.yaml"),
                "--run-dir",
                str(tmp_path / "r"),
                "--set",
                f"data.files=[{small_corpus}]",
                "--cv",
                "1000",
            ]
        )
    assert not (tmp_path / "r").exists()


@pytest.mark.subprocess
def test_sigterm_marks_the_run_interrupted_with_a_real_resume_hint(small_corpus, tmp_path):
    run = tmp_path / "run"
    argv = [
        sys.executable,
        "train.py",
        "--config",
        "configs/tiny.yaml",
        "--run-dir",
        str(run),
        *set_args(tiny_overrides(small_corpus, epochs=200)),
    ]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (run / "trainer").is_dir() and time.time() < deadline:  # training has started
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert read_json(run / "status.json")["status"] == "interrupted"
    assert f"python train.py --resume {run}" in err and "RUN_DIR" not in err
