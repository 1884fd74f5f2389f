"""StanceClassifier's label logic, article analysis and input reading, with a scripted predictor.

A fake Predictor with known probabilities pins the arithmetic (claim_score, renormalised stance
scores, cascade) exactly; ``test_predict_models.py`` runs the same API on real tiny and baseline
checkpoints.
"""

import json

import numpy as np
import pytest

import vistance
from vistance.errors import InputError
from vistance.inference import StanceClassifier
from vistance.inference import cli as predict_mod
from vistance.inference.classifier import stance_counts
from vistance.inference.cli import read_input
from vistance.text import PreprocessConfig, Preprocessor

ARTICLE = (
    "Trợ lý Điện Kremlin Yury Ushakov (Ảnh: Tass).\n\n"
    "Nga sẵn sàng đàm phán\n\n"
    "Ông Ushakov nói Nga sẵn sàng đàm phán hòa bình. Kiev phản đối đề xuất này.\n"
)


class FakePredictor:
    """Follows the Predictor contract; probabilities come from a table keyed by the NFC text."""

    def __init__(self, labels, table=None, default=None, path="fake", task="joint", kind="tiny"):
        self.labels = list(labels)
        self.task, self.kind, self.path, self.max_length = task, kind, path, 256
        self.preprocess = PreprocessConfig(segmenter="none")
        self._pre = Preprocessor(self.preprocess)
        self.table = table or {}
        self.default = default if default is not None else np.full(len(self.labels), 1 / len(self.labels))
        self.calls = []
        self.prepared_texts = 0

    def prepare(self, texts):
        self.prepared_texts += len(texts)
        return self._pre(list(texts))

    def predict_proba(self, texts, batch_size=32, progress=False, prepared=False):
        texts = list(texts) if prepared else self.prepare(texts)
        self.calls.append((texts, batch_size))
        rows = [np.asarray(self.table.get(t, self.default), dtype=np.float64) for t in texts]
        return np.asarray(rows).reshape(len(texts), len(self.labels))


def test_import_vistance_is_light_and_exports_classifier_lazily():
    import subprocess
    import sys

    code = "import sys, vistance; assert 'torch' not in sys.modules; print(vistance.StanceClassifier.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "StanceClassifier"
    assert vistance.StanceClassifier is StanceClassifier
    with pytest.raises(AttributeError):
        _ = vistance.NoSuchThing


def test_joint_scores_follow_the_contract():
    # Label order deliberately differs from TASK_LABELS: decoding goes by name, never by position.
    labels = ["favor", "not_claim", "neutral", "against"]
    table = {
        "a": [0.30, 0.10, 0.20, 0.40],  # claim, against
        "b": [0.05, 0.85, 0.05, 0.05],  # not a claim
        "c": [0.0, 1.0, 0.0, 0.0],  # certain non-claim: stance mass 0, must not divide by zero
    }
    clf = StanceClassifier(FakePredictor(labels, table))
    a, b, c = clf.predict(["a", "b", "c"])
    assert a["claim"] == "claim" and a["stance"] == "against"
    assert a["claim_score"] == pytest.approx(0.90)
    assert a["stance_scores"] == pytest.approx({"favor": 0.30 / 0.9, "against": 0.40 / 0.9, "neutral": 0.20 / 0.9})
    assert b["claim"] == "not_claim" and b["stance"] is None
    assert b["claim_score"] == pytest.approx(0.15)
    assert sum(b["stance_scores"].values()) == pytest.approx(1.0)
    assert c["stance"] is None and np.isfinite(list(c["stance_scores"].values())).all()
    assert all(isinstance(v, float) for v in a["stance_scores"].values())


def test_claim_agrees_with_claim_score_and_the_threshold():
    labels = ["not_claim", "favor", "against", "neutral"]
    # not_claim is the single most likely label, yet 60 % of the mass is on some stance: p(claim) = 0.6.
    table = {"x": [0.40, 0.25, 0.20, 0.15]}
    (r,) = StanceClassifier(FakePredictor(labels, table)).predict(["x"])
    assert r["claim"] == "claim" and r["claim_score"] == pytest.approx(0.6) and r["stance"] == "favor"
    (r,) = StanceClassifier(FakePredictor(labels, table), claim_threshold=0.7).predict(["x"])
    assert r["claim"] == "not_claim" and r["stance"] is None
    # training and evaluation score the same decision
    from vistance.tasks import JOINT, decide

    assert decide(np.array([table["x"]]), JOINT) == ["favor"]
    assert decide(np.array([table["x"]]), JOINT, claim_threshold=0.7) == ["not_claim"]
    with pytest.raises(ValueError, match="claim_threshold"):
        StanceClassifier(FakePredictor(labels, table), claim_threshold=1.5)


def test_cascade_claim_model_decides_and_stance_model_labels():
    claim = FakePredictor(["not_claim", "claim"], {"a": [0.2, 0.8], "b": [0.9, 0.1]}, task="claim")
    stance = FakePredictor(["neutral", "against", "favor"], {"a": [0.1, 0.2, 0.7], "b": [0.1, 0.8, 0.1]}, task="stance")
    clf = StanceClassifier(claim, stance, batch_size=7)
    a, b = clf.predict(["a", "b"])
    assert (a["claim"], a["stance"]) == ("claim", "favor")
    assert a["claim_score"] == pytest.approx(0.8)
    assert a["stance_scores"] == pytest.approx({"favor": 0.7, "against": 0.2, "neutral": 0.1})
    # A non-claim keeps its stance scores (for ranking) but gets no stance label.
    assert (b["claim"], b["stance"]) == ("not_claim", None)
    assert b["stance_scores"]["against"] == pytest.approx(0.8)
    assert claim.calls[0][1] == 7 and stance.calls[0][1] == 7
    assert clf.mode == "cascade" and clf.labels == ["not_claim", "favor", "against", "neutral"]
    # Same preprocessing settings: each sentence is segmented once for both models.
    assert claim.prepared_texts == 2 and stance.prepared_texts == 0


def test_cascade_with_different_preprocessing_prepares_for_each_model():
    claim = FakePredictor(["not_claim", "claim"], {"a": [0.2, 0.8]}, task="claim")
    stance = FakePredictor(["neutral", "against", "favor"], {"a": [0.1, 0.2, 0.7]}, task="stance")
    stance.preprocess = PreprocessConfig(segmenter="none", lowercase=True)
    (a,) = StanceClassifier(claim, stance).predict(["a"])
    assert a["stance"] == "favor"
    assert claim.prepared_texts == 1 and stance.prepared_texts == 1


def test_claim_only_model_gives_no_stance():
    clf = StanceClassifier(FakePredictor(["not_claim", "claim"], {"a": [0.3, 0.7]}, task="claim"))
    (r,) = clf.predict("a")  # a single string is one text, not a list of characters
    assert r == {"claim": "claim", "claim_score": pytest.approx(0.7), "stance": None, "stance_scores": None}
    assert stance_counts([r]) == {"not_claim": 0, "favor": 0, "against": 0, "neutral": 0, "claim": 1}


def test_wrong_label_sets_are_refused_with_a_reason():
    stance = FakePredictor(["favor", "against", "neutral"], task="stance")
    with pytest.raises(ValueError, match="stance-task checkpoint: it cannot tell claims"):
        StanceClassifier(stance)
    with pytest.raises(ValueError, match="claim-task checkpoint first"):
        StanceClassifier(stance, stance)
    with pytest.raises(ValueError, match="custom-task checkpoint"):
        StanceClassifier(FakePredictor(["pos", "neg"], task="custom"))
    with pytest.raises(ValueError, match="quantize"):
        StanceClassifier.from_pretrained("x", quantize="int4")


def test_empty_input_gives_empty_output_without_calling_the_model():
    fake = FakePredictor(["not_claim", "favor", "against", "neutral"])
    assert StanceClassifier(fake).predict([]) == []
    assert fake.calls == []


def test_nfd_text_gets_the_nfc_prediction():
    import unicodedata

    nfc = "Tổng thống Nga tuyên bố đàm phán."
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    clf = StanceClassifier(FakePredictor(["not_claim", "favor", "against", "neutral"], {nfc: [0.1, 0.1, 0.7, 0.1]}))
    assert clf.predict([nfd]) == clf.predict([nfc])
    assert clf.predict([nfd])[0]["stance"] == "against"


def test_analyze_returns_sentences_with_offsets_kinds_and_predictions():
    labels = ["not_claim", "favor", "against", "neutral"]
    table = {"Kiev phản đối đề xuất này.": [0.1, 0.1, 0.7, 0.1]}
    clf = StanceClassifier(FakePredictor(labels, table, default=[0.7, 0.1, 0.1, 0.1]))
    out = clf.analyze(ARTICLE, article_id="a1")
    sents = out["sentences"]
    assert [s["kind"] for s in sents] == ["caption", "heading", "body", "body"]
    assert [s["id"] for s in sents] == ["a1-00", "a1-01", "a1-02", "a1-03"]
    assert [s["position"] for s in sents] == [0, 1, 2, 3]
    for s in sents:
        assert out["text"][s["start"] : s["end"]] == s["text"]
        assert set(s) >= {"claim", "claim_score", "stance", "stance_scores"}
    assert sents[3]["stance"] == "against" and sents[0]["claim"] == "not_claim"
    assert out["counts"] == {"not_claim": 3, "favor": 0, "against": 1, "neutral": 0}
    for bad, message in (("", "empty"), ("  \n ", "empty"), (None, "must be a string"), (b"Nga", "not bytes")):
        with pytest.raises(InputError, match=message):
            clf.analyze(bad, "empty")
    for bad, message in (([None], r"texts\[0\] is NoneType"), (["a", " "], r"texts\[1\] is empty"), (None, "a string")):
        with pytest.raises(InputError, match=message):
            clf.predict(bad)


# --------------------------------------------------------------------------- input reading


def test_read_input_skips_empty_rows_and_numbers_missing_ids(tmp_path):
    f = tmp_path / "s.jsonl"
    rows = [{"id": "x1", "text": "Một câu."}, {"text": "   "}, {"text": "Hai câu."}, {"text": None}]
    f.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:2])
        + "\n\n"
        + "\n".join(json.dumps(r, ensure_ascii=False) for r in rows[2:])
        + "\n",
        encoding="utf-8",
    )
    sents, info = read_input(f)
    assert [s["id"] for s in sents] == ["x1", "s-4"]  # the 4th line; ids follow line numbers
    assert [s["text"] for s in sents] == ["Một câu.", "Hai câu."]
    assert info["skipped"] == 2


def test_read_input_csv_with_another_text_field(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text('id,body\n1,Câu một.\n2,\n3,"Câu, có dấu phẩy."\n', encoding="utf-8")
    sents, _ = read_input(f, text_field="body")
    assert [(s["id"], s["text"]) for s in sents] == [("1", "Câu một."), ("3", "Câu, có dấu phẩy.")]
    with pytest.raises(InputError, match=r"s\.csv:2: no 'text' field.*--text-field"):
        read_input(f)


def test_read_input_articles_from_rows_folder_and_file(tmp_path):
    f = tmp_path / "a.jsonl"
    f.write_text(
        json.dumps({"id": "n1", "content": ARTICLE}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "n2", "content": ""})
        + "\n",
        encoding="utf-8",
    )
    sents, info = read_input(f, articles=True, text_field="content")
    assert info == {"articles": 1, "skipped": 1, "is_articles": True}
    assert [s["id"] for s in sents] == ["n1-00", "n1-01", "n1-02", "n1-03"]
    assert {s["article"] for s in sents} == {"n1"} and sents[1]["kind"] == "heading"

    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "b.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "dir" / "a.txt").write_text("Một câu thôi.", encoding="utf-8")
    sents, info = read_input(tmp_path / "dir")
    assert info["articles"] == 2 and [s["article"] for s in sents][:2] == ["a", "b"]
    sents, _ = read_input(tmp_path / "dir" / "b.txt")
    assert len(sents) == 4


def test_read_input_finds_article_dates_in_common_fields(tmp_path):
    f = tmp_path / "a.jsonl"
    rows = [
        {"id": "x", "text": "Nga sẵn sàng đàm phán.", "published_at": "2026-01-20T08:00:00Z"},
        {"id": "y", "text": "Mỹ sẵn sàng.", "time": "2025-06-01 10:00", "day": "02/03/2026"},
    ]
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    sents, _ = read_input(f, articles=True)
    assert [s["date"] for s in sents] == ["2026-01-20", "2025-06-01"]
    sents, _ = read_input(f, articles=True, date_field="day")
    assert [s["date"] for s in sents] == [None, "2026-03-02"]
    with pytest.raises(InputError, match="no 'when' field for --date-field"):
        read_input(f, articles=True, date_field="when")


def test_read_input_errors_name_the_file(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Tổng thống".encode("utf-16"))
    with pytest.raises(InputError, match="latin1.txt.*UTF-8"):
        read_input(bad)
    broken = tmp_path / "b.jsonl"
    broken.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"b\.jsonl:2: malformed JSON"):
        read_input(broken)
    (tmp_path / "b.xml").write_text("<x/>", encoding="utf-8")
    with pytest.raises(InputError, match="unsupported input"):
        read_input(tmp_path / "b.xml")
    with pytest.raises(InputError, match="no such file"):
        read_input(tmp_path / "missing.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .txt articles"):
        read_input(tmp_path / "empty")


# --------------------------------------------------------------------------- command line (scripted model)


@pytest.fixture
def fake_model(monkeypatch):
    """``--model joint`` / ``claim`` / ``stance`` load scripted predictors instead of checkpoints."""
    import vistance.checkpoint

    table = {"Kiev phản đối đề xuất này.": [0.1, 0.1, 0.7, 0.1], "Nga ủng hộ.": [0.1, 0.8, 0.05, 0.05]}
    made = {
        "joint": lambda: FakePredictor(
            ["not_claim", "favor", "against", "neutral"], table, default=[0.7, 0.1, 0.1, 0.1], path="joint"
        ),
        "claim": lambda: FakePredictor(
            ["not_claim", "claim"], {"Nga ủng hộ.": [0.1, 0.9]}, default=[0.9, 0.1], path="claim", task="claim"
        ),
        "stance": lambda: FakePredictor(
            ["favor", "against", "neutral"], default=[0.2, 0.5, 0.3], path="stance", task="stance"
        ),
    }

    def load(path, device=None):
        if str(path) not in made:
            raise vistance.checkpoint.CheckpointError(f"{path}: neither a checkpoint folder nor a run folder")
        return made[str(path)]()

    monkeypatch.setattr(vistance.checkpoint, "load_predictor", load)
    return made


def test_cli_jsonl_output_and_summary(tmp_path, fake_model, capsys):
    art = tmp_path / "a.txt"
    art.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out" / "pred.jsonl"
    assert predict_mod.main(["--model", "joint", "--input", str(art), "--output", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a-00", "a-01", "a-02", "a-03"]
    assert list(rows[3]) == [
        "id",
        "text",
        "article",
        "date",
        "position",
        "kind",
        "start",
        "end",
        "claim",
        "claim_score",
        "stance",
        "stance_scores",
    ]
    assert rows[3]["stance"] == "against" and rows[3]["claim_score"] == 0.9
    err = capsys.readouterr().err
    assert "4 sentence(s) from 1 article(s)" in err and "not_claim=3  favor=0  against=1  neutral=0" in err


def test_cli_csv_flattens_scores_and_stdout_is_default(tmp_path, fake_model, capsys):
    import csv
    import io

    f = tmp_path / "s.jsonl"
    f.write_text('{"id": "q", "text": "Nga ủng hộ."}\n\n{"text": "Khác."}\n', encoding="utf-8")
    assert predict_mod.main(["--model", "claim", "--stance-model", "stance", "--input", str(f), "--format", "csv"]) == 0
    cap = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(cap.out)))
    assert list(rows[0]) == [
        "id",
        "text",
        "claim",
        "claim_score",
        "stance",
        "stance_favor",
        "stance_against",
        "stance_neutral",
    ]
    assert (rows[0]["id"], rows[0]["claim"], rows[0]["stance"]) == ("q", "claim", "against")
    assert (rows[1]["id"], rows[1]["claim"], rows[1]["stance"]) == ("s-3", "not_claim", "")
    assert float(rows[1]["stance_neutral"]) == 0.3
    assert "2 sentence(s): not_claim=1  favor=0  against=1  neutral=0" in cap.err


def test_cli_empty_input_writes_empty_output_with_a_message(tmp_path, fake_model, capsys):
    f = tmp_path / "empty.jsonl"
    f.write_text("\n\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    assert predict_mod.main(["--model", "joint", "--input", str(f), "--output", str(out)]) == 0
    assert out.read_text() == "id,text,claim,claim_score,stance,stance_favor,stance_against,stance_neutral\n"
    assert "no sentences to predict" in capsys.readouterr().err


def test_cli_errors_are_one_line_without_traceback(tmp_path, fake_model, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "\xff\xfe caf\xe9"}\n')
    out = tmp_path / "o.jsonl"
    assert predict_mod.main(["--model", "joint", "--input", str(bad), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.jsonl" in err and "UTF-8" in err and "Traceback" not in err
    assert not out.exists()  # nothing half-written
    assert predict_mod.main(["--model", "nowhere", "--input", str(bad)]) == 2
    assert predict_mod.main(["--model", "stance", "--input", str(bad)]) == 2


def test_cli_per_article_counts(tmp_path, fake_model, capsys):
    f = tmp_path / "arts.jsonl"
    f.write_text(
        json.dumps({"id": "n1", "content": ARTICLE}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "n2", "content": "Nga ủng hộ."}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    assert (
        predict_mod.main(
            [
                "--model",
                "joint",
                "--input",
                str(f),
                "--articles",
                "--text-field",
                "content",
                "--per-article",
                "--output",
                str(tmp_path / "o.jsonl"),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == [
        "n1: not_claim=3  favor=0  against=1  neutral=0",
        "n2: not_claim=0  favor=1  against=0  neutral=0",
    ]
    assert err[-1].startswith("5 sentence(s) from 2 article(s)")


def test_progress_bar_predicts_the_same_in_chunks(monkeypatch, capsys):
    from vistance.inference import classifier as classifier_mod

    monkeypatch.setattr(classifier_mod, "PROGRESS_CHUNK", 3)
    labels = ["not_claim", "favor", "against", "neutral"]
    rng = np.random.default_rng(0)
    texts = [f"câu {i}" for i in range(8)]
    table = {t: rng.dirichlet(np.ones(4)) for t in texts}
    fake = FakePredictor(labels, table)
    clf = StanceClassifier(fake)
    assert clf.predict(texts, progress=True) == clf.predict(texts)
    assert [len(c[0]) for c in fake.calls] == [3, 3, 2, 8]
    assert "8/8" in capsys.readouterr().err


def test_threads_option(monkeypatch):
    import argparse

    from vistance.inference.cli import auto_threads, threads_arg

    monkeypatch.setattr(predict_mod.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(predict_mod.os, "getloadavg", lambda: (0.1, 0.0, 0.0))
    assert auto_threads() == 2 and threads_arg("auto") == 2
    monkeypatch.setattr(predict_mod.os, "getloadavg", lambda: (3.5, 0.0, 0.0))  # other jobs fill both cores
    assert auto_threads() == 1
    assert threads_arg("3") == 3
    for bad in ("0", "-1", "two"):
        with pytest.raises(argparse.ArgumentTypeError):
            threads_arg(bad)


def test_length_batches_cover_everything_once_and_pad_little():
    from vistance.models.transformer import length_batches

    rng = np.random.default_rng(0)
    lengths = list(rng.integers(10, 60, size=197)) + [256, 240]
    batches = length_batches(lengths, batch_size=32)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert all(1 <= len(b) <= 32 for b in batches)
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    fixed = [np.argsort(lengths, kind="stable")[s : s + 32] for s in range(0, len(lengths), 32)]
    padded_fixed = sum(len(b) * max(lengths[i] for i in b) for b in fixed)
    # Every batch pads at most 20 % of its real tokens; fixed-size sorted batches pad the long tail.
    assert padded <= 1.2 * sum(lengths) and padded < padded_fixed - 2 * 256
    assert [len(b) for b in length_batches([5, 5, 5], batch_size=2)] == [2, 1]
    assert length_batches([], batch_size=8) == []
