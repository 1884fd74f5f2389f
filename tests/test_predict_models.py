"""StanceClassifier and ``python -m vistance.predict`` on real checkpoints: tiny transformer and baseline.

The run fixtures (``tests/conftest.py``) train each model once per session on 90 seed sentences.
"""

import json
import subprocess
import sys
import unicodedata

import numpy as np
import pytest

from vistance.errors import InputError
from vistance.inference import StanceClassifier
from vistance.inference.cli import main

LONG = " ".join(["Tổng thống Nga Vladimir Putin tuyên bố đàm phán hòa bình với Ukraine vẫn tiếp tục."] * 60)
OTHER_LANGUAGES = [
    "The Kremlin says peace talks with Ukraine will continue next week.",
    "Кремль заявил, что мирные переговоры с Украиной продолжатся.",
    "克里姆林宫表示与乌克兰的和平谈判将继续。",
    "1234 %%% ???",
]


@pytest.fixture(scope="module", params=["tiny", "baseline"])
def model(request, tiny_run, baseline_run):
    return {"tiny": tiny_run, "baseline": baseline_run}[request.param]


def _check(results, n):
    assert len(results) == n
    for r in results:
        assert r["claim"] in ("claim", "not_claim") and 0.0 <= r["claim_score"] <= 1.0
        assert set(r["stance_scores"]) == {"favor", "against", "neutral"}
        assert sum(r["stance_scores"].values()) == pytest.approx(1.0, abs=1e-5)
        assert (r["stance"] is None) == (r["claim"] == "not_claim")


def test_run_and_checkpoint_folders_load_the_same_model(model):
    a = StanceClassifier.from_pretrained(model)
    b = StanceClassifier.from_pretrained(model / "checkpoint")
    assert a.mode == "joint" and sorted(a.labels) == ["against", "favor", "neutral", "not_claim"]
    assert a.predictor.kind == json.loads((model / "checkpoint" / "vistance.json").read_text())["kind"]
    texts = ["Nga tuyên bố sẵn sàng đàm phán hòa bình.", "Trời hôm nay mưa."]
    assert a.predict(texts) == b.predict(texts)


def test_predictions_reproduce_the_run_and_replay_its_preprocessing(model):
    """Raw test sentences through from_pretrained give the probabilities the run recorded at training time."""
    rows = [json.loads(line) for line in (model / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    clf = StanceClassifier.from_pretrained(model)
    results = clf.predict([r["text"] for r in rows])
    _check(results, len(rows))
    for row, res in zip(rows, results):
        # predictions.jsonl rounds to 6 digits; a preprocessing mismatch would move scores far more.
        assert res["claim_score"] == pytest.approx(1 - row["probs"]["not_claim"], abs=1e-5)
        assert (res["stance"] or res["claim"]) == row["pred"]


def test_long_foreign_and_nfd_text_get_a_prediction_and_empty_text_is_refused(model):
    clf = StanceClassifier.from_pretrained(model)
    if clf.predictor.kind != "baseline":
        assert len(clf.predictor.tokenizer(clf.predictor._preprocessor(LONG))["input_ids"]) > 256
    texts = [LONG, *OTHER_LANGUAGES]
    _check(clf.predict(texts, batch_size=2), len(texts))
    with pytest.raises(InputError, match=rf"texts\[{len(texts)}\] is empty"):
        clf.predict([*texts, " "])
    nfc = "Ông Ushakov khẳng định Nga sẵn sàng đàm phán với Ukraine."
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc and clf.predict([nfd]) == clf.predict([nfc])


def test_long_input_is_truncated_to_the_model_limit(tiny_run):
    """Anything after the 256th token cannot change a transformer's prediction: it was cut off."""
    clf = StanceClassifier.from_pretrained(tiny_run)
    assert clf.predictor.max_length == 256
    a, b = clf.predict([LONG, LONG + " Kiev bác bỏ mọi đề xuất ngừng bắn của Nga."])
    assert a["claim_score"] == pytest.approx(b["claim_score"], abs=1e-6)


def test_batch_size_and_order_do_not_change_results(tiny_run):
    clf = StanceClassifier.from_pretrained(tiny_run)
    texts = [LONG[: 40 * k] or "x" for k in range(12)]
    one = clf.predict(texts, batch_size=1)
    many = clf.predict(texts, batch_size=5)
    rev = clf.predict(texts[::-1], batch_size=32)[::-1]
    for a, b, c in zip(one, many, rev):
        assert a["claim_score"] == pytest.approx(b["claim_score"], abs=1e-5)
        assert a["claim_score"] == pytest.approx(c["claim_score"], abs=1e-5)
        assert a["stance"] == b["stance"] == c["stance"]


def test_int8_and_bf16_versions_of_a_transformer(tiny_run, baseline_run, monkeypatch):
    from vistance.inference.engines import Bf16Autocast

    monkeypatch.setenv("VISTANCE_CPU_BF16", "1")
    fp32 = StanceClassifier.from_pretrained(tiny_run)
    int8 = StanceClassifier.from_pretrained(tiny_run, quantize="int8")
    import torch

    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in int8.predictor.model.modules())
    texts = [json.loads(line)["text"] for line in (tiny_run / "predictions.jsonl").read_text().splitlines()]
    a = np.array([r["claim_score"] for r in fp32.predict(texts)])
    b = np.array([r["claim_score"] for r in int8.predict(texts)])
    assert np.abs(a - b).max() < 0.05
    with pytest.raises(ValueError, match="has no encoder"):
        StanceClassifier.from_pretrained(baseline_run, quantize="int8")

    bf16 = StanceClassifier.from_pretrained(tiny_run, quantize="bf16")
    assert isinstance(bf16.predictor.model, Bf16Autocast)  # autocast: weights stay fp32, products run in bf16
    assert str(bf16.predictor.engine).startswith("torch bf16")
    c = np.array([r["claim_score"] for r in bf16.predict(texts)])
    assert np.abs(a - c).max() < 0.05


def test_cascade_of_claim_and_stance_checkpoints(baseline_claim_run, baseline_stance_run):
    clf = StanceClassifier.from_pretrained(baseline_claim_run, stance_path=baseline_stance_run)
    assert clf.mode == "cascade"
    assert clf.predictor.task == "claim" and clf.stance_predictor.task == "stance"
    texts = ["Nga tuyên bố sẵn sàng đàm phán hòa bình.", "Ảnh: Reuters.", *OTHER_LANGUAGES]
    results = clf.predict(texts)
    _check(results, len(texts))
    claim_p = clf.predictor.predict_proba(texts)
    stance_p = clf.stance_predictor.predict_proba(texts)
    for r, cp, sp in zip(results, claim_p, stance_p):
        assert r["claim_score"] == pytest.approx(cp[clf.predictor.labels.index("claim")])
        assert r["stance_scores"]["against"] == pytest.approx(sp[clf.stance_predictor.labels.index("against")])
    with pytest.raises(ValueError, match="stance-task checkpoint: it cannot tell claims"):
        StanceClassifier.from_pretrained(baseline_stance_run)
    with pytest.raises(ValueError, match="claim-task checkpoint first"):
        StanceClassifier.from_pretrained(baseline_stance_run, stance_path=baseline_stance_run)


def test_analyze_a_real_article(baseline_run):
    from pathlib import Path

    raw = min(Path("data/raw").glob("*.txt"))
    out = StanceClassifier.from_pretrained(baseline_run).analyze(raw.read_text(encoding="utf-8"), raw.stem)
    assert len(out["sentences"]) > 5 and out["sentences"][0]["id"] == f"{raw.stem}-00"
    assert sum(out["counts"].values()) == len(out["sentences"])
    for s in out["sentences"]:
        assert out["text"][s["start"] : s["end"]] == s["text"]


def test_cli_on_a_folder_of_articles(baseline_run, tmp_path, capsys):
    out = tmp_path / "pred.csv"
    assert main(["--model", str(baseline_run), "--input", "data/raw", "--output", str(out), "--quiet"]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,text,article,date,position,kind,start,end,claim,claim_score,stance,")
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    n = len(lines) - 1
    assert summary.startswith(f"{n} sentence(s) from 5 article(s): not_claim=")
    counts = dict(kv.split("=") for kv in summary.split(": ", 1)[1].split(" -> ")[0].split())
    assert sum(map(int, counts.values())) == n


def test_cli_process_fails_with_one_line_on_non_utf8(baseline_run, tmp_path):
    bad = tmp_path / "cp1258.txt"
    bad.write_bytes("Tổng thống Nga".encode("utf-16-le"))
    proc = subprocess.run(
        [sys.executable, "-m", "vistance.predict", "--model", str(baseline_run), "--input", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "cp1258.txt" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.subprocess
def test_cli_process_jsonl_sentences_to_stdout(tiny_run, tmp_path):
    f = tmp_path / "in.jsonl"
    rows = [{"id": "a", "text": "Nga sẵn sàng đàm phán."}, {"id": "b", "text": ""}, {"id": "c", "text": LONG}]
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "vistance.predict", "--model", str(tiny_run), "--input", str(f)],
        capture_output=True,
        text=True,
        check=True,
    )
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in out] == ["a", "c"]
    assert "2 sentence(s), 1 empty skipped" in proc.stderr


def test_cli_plot_of_stance_per_article(baseline_run, tmp_path, capsys):
    from matplotlib.image import imread

    from vistance.inference.cli import per_article_counts, plot_counts

    png = tmp_path / "stance.png"
    out = tmp_path / "pred.jsonl"
    assert (
        main(["--model", str(baseline_run), "--input", "data/raw", "--output", str(out), "--quiet", "--plot", str(png)])
        == 0
    )
    assert f"plot: {png}" in capsys.readouterr().err
    img = imread(png)
    assert img.shape[0] > 200 and img.shape[1] > 800  # a real picture, one bar row per article
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    counts = per_article_counts(rows)
    assert list(counts) == sorted(counts) and len(counts) == 5
    assert sum(sum(c.values()) for c in counts.values()) == len(rows)
    # sentence input has no articles: a warning, no file
    sents = tmp_path / "s.jsonl"
    sents.write_text('{"text": "Nga sẵn sàng đàm phán."}\n', encoding="utf-8")
    assert (
        main(["--model", str(baseline_run), "--input", str(sents), "--quiet", "--plot", str(tmp_path / "x.png")]) == 0
    )
    assert "--plot needs article input" in capsys.readouterr().err and not (tmp_path / "x.png").exists()
    assert plot_counts({"a" * 40: {"favor": 1}}, tmp_path / "long.png").is_file()
