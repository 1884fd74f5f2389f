"""Corpus validation (every error), statistics, and grouped splits without leakage."""

import json
import unicodedata
from pathlib import Path

import pytest

from vistance.data import (
    CorpusError,
    corpus_stats,
    grouped_kfold,
    grouped_split,
    load_corpus,
    near_duplicate_groups,
    validate_files,
)
from vistance.data.__main__ import main
from vistance.tasks import TASKS


def task_examples(records, task):
    return TASKS[task].examples(records)


ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "annotated" / "seed.jsonl"

GOOD = {
    "id": "a-00",
    "article": "a",
    "date": None,
    "text": "Ông A nói hòa bình.",
    "claim": "claim",
    "stance": "favor",
    "speaker": "A",
}


def write(tmp_path, rows, name="f.jsonl"):
    p = tmp_path / name
    p.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return p


@pytest.mark.parametrize(
    "row, message",
    [
        ('{"id": "a-00", "text": ', "malformed JSON"),
        ({k: v for k, v in GOOD.items() if k != "speaker"}, "missing key 'speaker'"),
        ({**GOOD, "stnace": "favor"}, "unknown key 'stnace'"),
        ({**GOOD, "claim": "maybe"}, "unknown claim label 'maybe'"),
        ({**GOOD, "stance": "pro"}, "unknown stance label 'pro'"),
        ({**GOOD, "claim": "not_claim"}, "stance 'favor' on a not_claim sentence"),
        ({**GOOD, "stance": None}, "claim without a stance"),
        ({**GOOD, "text": "   "}, "empty text"),
        ({**GOOD, "text": unicodedata.normalize("NFD", "Ông A nói hòa bình.")}, "not NFC"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_each_validation_error_is_reported_with_file_and_line(tmp_path, row, message):
    p = write(tmp_path, [GOOD | {"id": "ok-1"}, row])
    _, errors = validate_files([p])
    assert len(errors) >= 1
    assert errors[0].startswith(f"{p}:2: ")
    assert message in errors[0]


def test_duplicate_id_across_files(tmp_path):
    a = write(tmp_path, [GOOD], "a.jsonl")
    b = write(tmp_path, [GOOD], "b.jsonl")
    _, errors = validate_files([a, b])
    assert errors == [f"{b}:1: duplicate id 'a-00' (first at {a}:1)"]


def test_cli_exit_codes_and_messages(tmp_path, capsys):
    good = write(tmp_path, [GOOD], "good.jsonl")
    assert main(["validate", str(good)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "claim=1" in out and "favor=1" in out
    bad = write(tmp_path, [{**GOOD, "claim": "x"}], "bad.jsonl")
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:1: unknown claim label 'x'" in err


def test_load_corpus_raises_with_all_problems(tmp_path):
    p = write(tmp_path, [{**GOOD, "claim": "x"}, {**GOOD, "id": "b", "text": ""}])
    with pytest.raises(CorpusError) as e:
        load_corpus(p)
    assert str(e.value).count("\n") == 1


def test_seed_corpus_is_valid_and_complete():
    records = load_corpus(SEED)
    assert len(records) == 112
    stats = corpus_stats(records)
    assert stats["claim"]["claim"] + stats["claim"]["not_claim"] == 112
    assert sum(stats["stance"].values()) == stats["claim"]["claim"]
    # every sentence of the five articles, in the parser's ids; captions and headings are never claims
    from vistance.data.articles import parse_folder

    parsed = {s.id: s for a in parse_folder(ROOT / "data" / "raw") for s in a.sentences}
    assert {r["id"] for r in records} == set(parsed)
    for r in records:
        assert r["text"] == parsed[r["id"]].text
        if parsed[r["id"]].kind != "body":
            assert r["claim"] == "not_claim"


def test_task_labels():
    recs = [GOOD, {**GOOD, "id": "b", "claim": "not_claim", "stance": None, "speaker": None}]
    assert [e["label"] for e in task_examples(recs, "joint")] == ["favor", "not_claim"]
    assert [e["label"] for e in task_examples(recs, "claim")] == ["claim", "not_claim"]
    assert [e["label"] for e in task_examples(recs, "stance")] == ["favor"]
    assert TASKS["joint"].labels[0] == "not_claim"


def test_near_duplicates_share_a_group():
    texts = [
        "Mặc dù không đạt được đột phá nào, cả hai bên đều ca ngợi cuộc gặp là mang tính xây dựng.",
        "Mặc dù không đạt được đột phá nào, cả hai bên đều mô tả cuộc gặp là mang tính xây dựng.",
        "Nga cũng trao trả cho Kiev thi thể của các quân nhân Ukraine tử trận.",
        "nga cũng trao trả cho kiev thi thể của các quân nhân ukraine tử trận.",
        "Điện Kremlin cho biết Nga vô cùng quan ngại.",
    ]
    g = near_duplicate_groups(texts)
    assert g[0] == g[1] and g[2] == g[3]
    assert len({g[0], g[2], g[4]}) == 3


def _norm(t):
    return " ".join(t.lower().split())


def test_grouped_split_seed_corpus_no_leakage_deterministic():
    ex = task_examples(load_corpus(SEED), "joint")
    s1, s2 = grouped_split(ex, seed=7), grouped_split(ex, seed=7)
    assert [e["id"] for e in s1.test] == [e["id"] for e in s2.test]
    assert sum(s1.sizes().values()) == len(ex)
    train_texts = {_norm(e["text"]) for e in s1.train}
    # the seeds repeat whole paragraphs across articles: none of them may straddle train/test
    assert not any(_norm(e["text"]) in train_texts for e in s1.test + s1.dev)
    groups = dict(zip([e["id"] for e in ex], near_duplicate_groups([e["text"] for e in ex])))
    train_groups = {groups[e["id"]] for e in s1.train}
    assert not any(groups[e["id"]] in train_groups for e in s1.test)
    # stratified: every label with enough examples appears in test
    assert {e["label"] for e in s1.test} >= {"favor", "against", "neutral"}
    assert grouped_split(ex, seed=8).test != s1.test


def test_grouped_kfold_covers_everything_once_without_leakage():
    ex = task_examples(load_corpus(SEED), "joint")
    folds = grouped_kfold(ex, k=5, seed=1)
    assert len(folds) == 5
    tested = [e["id"] for f in folds for e in f.test]
    assert sorted(tested) == sorted(e["id"] for e in ex)
    for f in folds:
        train = {_norm(e["text"]) for e in f.train}
        assert not any(_norm(e["text"]) in train for e in f.test)
        assert not set(e["id"] for e in f.train) & set(e["id"] for e in f.dev)


def test_globs_expand_sorted_and_missing_pattern_fails(tmp_path, monkeypatch):
    from vistance.data import expand_files

    monkeypatch.chdir(tmp_path)
    write(tmp_path, [GOOD], "b.jsonl")
    write(tmp_path, [{**GOOD, "id": "z"}], "a.jsonl")
    assert [p.name for p in expand_files(["*.jsonl", "a.jsonl"])] == ["a.jsonl", "b.jsonl"]
    assert len(load_corpus("*.jsonl")) == 2
    with pytest.raises(CorpusError, match="nothing.jsonl: no file matches|no file matches"):
        load_corpus("nothing*.jsonl")


def test_files_saved_with_a_bom_still_read(tmp_path):
    from vistance.data import read_jsonl

    p = tmp_path / "bom.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD, ensure_ascii=False).encode("utf-8") + b"\n")
    records, errors = validate_files([p])
    assert errors == [] and records[0]["id"] == "a-00"
    assert read_jsonl(p)[0]["id"] == "a-00"


def test_line_separator_characters_inside_text_round_trip(tmp_path):
    from vistance.data import read_jsonl, write_jsonl

    rows = [{**GOOD, "text": "Ông A nói\u2028hòa bình\u0085ngay."}, {**GOOD, "id": "b"}]
    p = tmp_path / "sep.jsonl"
    write_jsonl(p, rows)
    assert read_jsonl(p) == rows
    records, errors = validate_files([p])
    assert errors == [] and len(records) == 2


def test_cli_sentences_pipeline_and_split(tmp_path, capsys):
    from vistance.data import read_jsonl

    out = tmp_path / "sentences.jsonl"
    assert main(["sentences", str(ROOT / "data" / "raw"), "--out", str(out)]) == 0
    assert "5 article(s) -> 112 sentences" in capsys.readouterr().out
    rows = read_jsonl(out)
    assert len(rows) == 112 and rows[0]["id"] == "000_c82fef1677f6dddd-00" and rows[0]["kind"] == "caption"
    assert {"start", "end", "date", "position", "paragraph"} <= set(rows[0])
    assert main(["split", str(SEED), "--k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith(f"split {i}:") for i, line in enumerate(lines))
