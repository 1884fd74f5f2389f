"""The learned attribution step: candidates from the rules, a ranker trained on labelled speakers, abstention,
the saved artifact, and the --attributor option."""

import json
from pathlib import Path

import pytest
import sklearn.linear_model  # noqa: F401  (imported with the module, so the tests time the ranker, not this import)

from vistance.config import DataConfig
from vistance.errors import CheckpointError
from vistance.inference import cli as predict_mod
from vistance.speakers import SPEAKERS_FILE, SpeakerAttributor
from vistance.speakers import ranker as ranker_mod
from vistance.speakers.__main__ import main as speakers_main
from vistance.speakers.attributor import DEFAULT_ATTRIBUTOR
from vistance.speakers.candidates import Candidate, feature_names
from vistance.speakers.evaluation import (
    APPROACHES,
    ATTRIBUTOR_APPROACH,
    DEFAULT_CONTEXT,
    build_articles,
    load_context,
    load_labelled,
    predict_heldout,
    score,
    split_heldout,
)
from vistance.speakers.ranker import Example, SpeakerRanker, _threshold, fit_ranker, train_from_files, train_ranker

ROOT = Path(__file__).resolve().parents[1]


def article(name, *texts):
    return [{"id": f"{name}-{i:02d}", "article": name, "text": t, "position": i} for i, t in enumerate(texts)]


def claims(sents, *speakers):
    """Labelled records for the sentences given a speaker (None: not labelled)."""
    return [{**s, "claim": "claim", "speaker": sp} for s, sp in zip(sents, speakers) if sp]


# A claim whose speaker the next sentence names ("... . Ông X nhấn mạnh điều đó."): the rules, reading in order,
# have nobody to give it; the next sentence's own attribution is among its candidates.
PEOPLE = [
    ("Nguyễn Văn An", "Mỹ"),
    ("Trần Thị Bình", "Pháp"),
    ("Lê Văn Cường", "Đức"),
    ("Phạm Minh Dũng", "Anh"),
    ("Hoàng Văn Em", "Ý"),
    ("Đỗ Thị Giang", "Nhật Bản"),
    ("Vũ Văn Hải", "Canada"),
    ("Bùi Thị Lan", "Ba Lan"),
]


def interview(i, person, country):
    sents = article(
        f"iv{i}",
        f"Hòa bình với {country} là ưu tiên hàng đầu của khu vực.",
        f"Ông {person} nhấn mạnh điều đó trong cuộc họp báo.",
    )
    return sents, claims(sents, person, person)


def tiny():
    arts, records = {}, []
    for i, (person, country) in enumerate(PEOPLE):
        sents, labelled = interview(i, person, country)
        arts[sents[0]["article"]] = sents
        records += labelled
    return records, arts


def test_the_rules_emit_every_candidate_with_features():
    sents = article("a", '"Chúng tôi sẵn sàng", ông Ushakov nhấn mạnh.', "Đàm phán sẽ diễn ra tại Riyadh.")
    (rule, cands), (rule2, cands2) = SpeakerAttributor().readings(sents)
    assert rule["speaker"] == "Yury Ushakov" and rule2["speaker_rule"] == "carry1"
    (ushakov,) = [c for c in cands if c.speaker == "Yury Ushakov"]
    assert ushakov.features["rule:quote"] == 1 and ushakov.features["own"] == 1 and ushakov.features["after_quote"]
    assert sents[0]["text"][slice(*ushakov.span)] == "ông Ushakov"
    carried = {c.speaker: c for c in cands2}["Yury Ushakov"]
    assert carried.features["previous"] == carried.features["prev_rule"] == 1
    assert "mention" not in carried.features
    assert set(ushakov.features) <= set(feature_names())


def test_the_ranker_trains_on_a_tiny_fixture_and_ranks_the_right_candidate():
    records, arts = tiny()
    rules = SpeakerAttributor.fit(records)
    held_out = interview(99, "Đinh Văn Khoa", "Hàn Quốc")[0]
    assert [r["speaker"] for r in rules.attribute(held_out)] == [None, "Đinh Văn Khoa"]
    ranker = train_ranker(records, arts, folds=4, c_grid=(1.0,))
    assert ranker.info["claims"] == 16 and ranker.info["oracle"] == 1.0 and ranker.info["rules_oof_accuracy"] == 0.5
    learned = SpeakerAttributor.fit(records, attributor="learned", ranker=ranker)
    first, second = learned.attribute(held_out)
    assert first["speaker"] == second["speaker"] == "Đinh Văn Khoa" and first["speaker_rule"] == "ranked"
    assert 0.5 < first["speaker_confidence"] <= 1 and second["speaker_rule"] == "cue"


def _example(n, first_features, second_features, gold="A"):
    return Example(
        [Candidate("A", None, dict(first_features)), Candidate("B", None, dict(second_features))], gold, f"art{n}"
    )


def test_abstains_when_no_candidate_scores_high_enough():
    # voiced candidates are right, candidates merely carried over are right one time in four
    examples = [_example(n, {"voice": 1.0}, {"mention": 1.0}) for n in range(20)]
    examples += [
        _example(n, {"previous": 1.0}, {"mention": 1.0}, gold="A" if n % 4 == 0 else "C") for n in range(20, 60)
    ]
    ranker = fit_ranker(examples, folds=4, c_grid=(1.0,))
    assert 0.3 < ranker.threshold < 0.9
    voiced = ranker.choose({}, [Candidate("X", None, {"voice": 1.0}), Candidate("Y", None, {"mention": 1.0})])
    assert voiced["speaker"] == "X"
    carried = [Candidate("X", None, {"previous": 1.0}), Candidate("Y", None, {"mention": 1.0})]
    assert ranker.choose({}, carried)["speaker"] is None
    assert ranker.choose({}, carried, threshold=0.0)["speaker"] == "X"
    assert ranker.choose({}, [])["speaker"] is None
    # the threshold: correct minus wrong, as high as that takes; a wrong speaker costing nothing never abstains
    best = [(0.9, True), (0.8, True), (0.4, False), (0.3, False), (0.2, True)]
    assert _threshold(best, 1.0) == 0.8 and _threshold(best, 0.0) == 0.0


def test_the_artifact_round_trips(tmp_path):
    records, arts = tiny()
    ranker = train_ranker(records, arts, folds=4, c_grid=(1.0,))
    again = SpeakerRanker.load(ranker.save(tmp_path / "ranker.json"))
    assert again.to_dict() == ranker.to_dict()
    learned = SpeakerAttributor.fit(records, attributor="learned", ranker=ranker)
    path = learned.save(tmp_path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["attributor"] == "learned" and saved["ranker"]["weights"] == ranker.to_dict()["weights"]
    loaded = SpeakerAttributor.load(tmp_path)
    sents = interview(99, "Đinh Văn Khoa", "Hàn Quốc")[0]
    assert loaded.attribute(sents) == learned.attribute(sents)
    assert SpeakerAttributor.from_dict(SpeakerAttributor().to_dict()).attributor == "rules"


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no speaker ranker"),
        ("not json", "not a JSON speaker ranker"),
        ('{"format": 9}', "format 1"),
        ('{"format": 1, "model": "logistic", "bias": 0, "threshold": 0, "weights": {"shoe size": 1}}', "shoe size"),
        ('{"format": 1, "model": "logistic", "bias": 0, "threshold": 2, "weights": {}}', "not a probability"),
    ],
)
def test_a_missing_or_corrupt_ranker_is_one_clear_line(tmp_path, monkeypatch, capsys, content, message):
    path = tmp_path / "ranker.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CheckpointError, match=message) as err:
        SpeakerRanker.load(path)
    assert str(path) in str(err.value) and "train-ranker" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setattr(ranker_mod, "DEFAULT_RANKER", path)
    with pytest.raises(CheckpointError, match=message):
        SpeakerAttributor().with_attributor("learned")
    assert speakers_main(["bench", "--context", str(tmp_path), "--attributor", "learned"]) == 2
    err_line = capsys.readouterr().err.strip()
    assert err_line.startswith("vistance.speakers: error:") and message in err_line and "\n" not in err_line


def test_the_packaged_ranker_loads_and_attributes():
    ranker = SpeakerRanker.load_default()
    assert set(ranker.info["trained_on"]) == {"news-2025", "pool-2022", "seed"}  # never the yardstick
    sents = article(
        "a",
        "Tổng thống Nga Vladimir Putin ngày 3/1 tuyên bố Moskva sẵn sàng đàm phán.",
        '"Chúng tôi không từ chối đối thoại", ông nói.',
    )
    found = SpeakerAttributor(attributor="learned").attribute(sents)
    assert [f["speaker"] for f in found] == ["Vladimir Putin"] * 2
    assert all(0 < f["speaker_confidence"] <= 1 for f in found)
    assert DataConfig().speaker_attributor == DEFAULT_ATTRIBUTOR
    with pytest.raises(ValueError, match="speaker_attributor"):
        DataConfig(speaker_attributor="oracle")


def test_train_ranker_command_writes_the_artifact(tmp_path, capsys):
    records, arts = tiny()
    labelled = tmp_path / "tiny.jsonl"
    context = tmp_path / "context.jsonl"
    labelled.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    rows = [s for sents in arts.values() for s in sents]
    context.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "ranker.json"
    assert speakers_main(["train-ranker", str(labelled), "--context", str(context), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "trained on 16 claims of 8 articles (tiny)" in printed and f"ranker -> {out}" in printed
    assert SpeakerRanker.load(out).info["trained_on"] == ["tiny"]
    assert build_articles(records, {})  # the labelled sentences alone also make articles


def test_predict_takes_the_attributor_option(baseline_run, tmp_path, monkeypatch, capsys):
    text = tmp_path / "a.txt"
    text.write_text(
        "Ông Putin nói về hòa đàm\n\nTổng thống Nga Vladimir Putin ngày 3/1 tuyên bố Moskva sẵn sàng "
        "đàm phán.\nÔng cho biết phương Tây phải lắng nghe.\n",
        encoding="utf-8",
    )
    assert json.loads((Path(baseline_run) / "checkpoint" / SPEAKERS_FILE).read_text())["attributor"] == "rules"
    for attributor in ("rules", "learned"):
        out = tmp_path / f"{attributor}.jsonl"
        assert (
            predict_mod.main(
                [
                    "--model",
                    str(baseline_run),
                    "--input",
                    str(text),
                    "--output",
                    str(out),
                    "--attributor",
                    attributor,
                    "--quiet",
                ]
            )
            == 0
        )
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert all("speaker" in r for r in rows)
    monkeypatch.setattr(ranker_mod, "DEFAULT_RANKER", tmp_path / "missing.json")
    capsys.readouterr()
    assert predict_mod.main(["--model", str(baseline_run), "--input", str(text), "--attributor", "learned"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no speaker ranker" in err[0]


def test_batch_takes_the_attributor_option(baseline_run, tmp_path):
    import pyarrow.parquet as pq

    from vistance import batch

    argv = ["--model", "m", "--input", "i", "--output", "o", "--attributor", "learned"]
    assert batch.build_parser().parse_args(argv).attributor == "learned"
    scorer = batch.ShardScorer(str(baseline_run), articles=True, text_field="text", batch_size=8, attributor="learned")
    assert scorer.load_error is None and scorer.clf.speakers.attributor == "learned"
    shard = tmp_path / "s.jsonl"
    text = "Ông Putin nói về hòa đàm\n\nTổng thống Nga Vladimir Putin ngày 3/1 tuyên bố Moskva sẵn sàng đàm phán."
    shard.write_text(json.dumps({"id": "a", "text": text}, ensure_ascii=False) + "\n", encoding="utf-8")
    list(scorer.score(str(shard), str(tmp_path / "out" / "s.parquet")))
    rows = pq.read_table(tmp_path / "out" / "s.parquet").to_pylist()
    assert "speaker_confidence" in rows[0]


@pytest.mark.slow
@pytest.mark.skipif(not all(p.exists() for p in DEFAULT_CONTEXT), reason="the shared pool is not here")
def test_the_packaged_ranker_is_what_train_ranker_makes_and_scores_as_documented():
    """Retraining reproduces the shipped JSON (so a change to the candidates or features that leaves it stale
    fails here), and the yardstick figures of docs/speakers.md hold: 0.730 abstaining, 0.755 never."""
    labelled = sorted(str(p) for p in (ROOT / "data" / "annotated").glob("*.jsonl"))
    assert train_from_files(labelled).to_dict() == SpeakerRanker.load_default().to_dict()
    records = load_labelled(labelled)
    older, new = split_heldout(records)
    articles = build_articles(records, load_context([p for p in DEFAULT_CONTEXT if p.exists()]))
    learned = next(a for a in APPROACHES if a.name == ATTRIBUTOR_APPROACH["learned"])
    preds = predict_heldout(older, new, articles, learned)
    assert score(new, preds, "context")["accuracy"] == pytest.approx(0.730, abs=0.002)
    assert score(new, preds, "context_all")["accuracy"] == pytest.approx(0.755, abs=0.002)
