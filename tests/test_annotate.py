"""Annotation tools: exports, round trips through simulated Label Studio / doccano exports, the
import validator, the pool reader, uncertainty ranking, label statistics and the learning curve.

Tool exports are simulated in the shape the tools write them (Label Studio JSON: tasks with
``annotations[].result[]``; doccano: JSONL with meta at the top level and ``Comments``).
"""

import csv
import json
import re
import unicodedata
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from vistance.annotate import (
    RankConfig,
    export_file,
    import_file,
    rank,
    read_pool_csv,
    uncertainty,
)
from vistance.annotate.cli import main
from vistance.annotate.curve import learning_curve, nested_subsample, plot_curve
from vistance.annotate.labelstudio import label_config
from vistance.annotate.roundtrip import config_path, detect_format
from vistance.annotate.stats import distribution, markdown_table
from vistance.data import read_jsonl, write_jsonl

SEED = "data/annotated/seed.jsonl"


@pytest.fixture
def corpus(tmp_path):
    """Real seed records (claims with speakers, not_claims, null dates) plus optional keys."""
    records = read_jsonl(SEED)[:30]
    records[0] = {**records[0], "kind": "caption", "position": 0}
    records[1] = {**records[1], "date": "2025-11-16", "note": "quote split over two sentences"}
    path = tmp_path / "corpus.jsonl"
    write_jsonl(path, records)
    return path, records


# --------------------------------------------------------------------------- simulated tool exports


def ls_annotate(tasks, records, drop=()):
    """What Label Studio's JSON export looks like after annotators labelled ``records``."""
    by_id = {r["id"]: r for r in records}
    out = []
    for n, t in enumerate(tasks, 1):
        t = {"id": n, **t, "annotations": []}
        r = by_id[t["data"]["id"]]
        if r["id"] not in drop:
            result = [
                {
                    "id": "a1",
                    "from_name": "claim",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": [r["claim"]]},
                    "origin": "manual",
                }
            ]
            if r["stance"]:
                result.append(
                    {"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": [r["stance"]]}}
                )
            if r["speaker"]:
                result.append(
                    {"from_name": "speaker", "to_name": "text", "type": "textarea", "value": {"text": [r["speaker"]]}}
                )
            wrong = [{"from_name": "claim", "to_name": "text", "type": "choices", "value": {"choices": ["not_claim"]}}]
            t["annotations"] = [
                # an older answer, then the one that counts, then a newer but cancelled one
                {"id": 1, "result": wrong, "was_cancelled": False, "updated_at": "2025-01-01T10:00:00.000000Z"},
                {"id": 2, "result": result, "was_cancelled": False, "updated_at": "2025-01-02T10:00:00.000000Z"},
                {"id": 3, "result": wrong, "was_cancelled": True, "updated_at": "2025-01-03T10:00:00.000000Z"},
            ]
        out.append(t)
    return out


def doccano_annotate(lines, records, drop=()):
    """doccano's export: meta spread at the top level, doccano's own id replaced by the meta id."""
    by_id = {r["id"]: r for r in records}
    out = []
    for line in lines:
        r = by_id[line["id"]]
        row = {**line, "label": [], "Comments": []}
        if r["id"] not in drop:
            row["label"] = ["not_claim"] if r["claim"] == "not_claim" else sorted(["claim", r["stance"]])
            if r["speaker"]:
                row["Comments"] = ["đọc lại đoạn 2", f"speaker: {r['speaker']}"]
        out.append(row)
    return out


# --------------------------------------------------------------------------- export


def test_labelstudio_config_has_the_controls_import_reads():
    root = ET.fromstring(label_config())
    assert root.tag == "View"
    text = root.find(".//Text")
    assert text.get("name") == "text" and text.get("value") == "$text"
    controls = {el.get("name"): el for el in root.iter() if el.tag in ("Choices", "TextArea")}
    claim, stance, speaker = controls["claim"], controls["stance"], controls["speaker"]
    assert (claim.get("choice"), claim.get("required"), claim.get("toName")) == ("single", "true", "text")
    assert [c.get("value") for c in claim.findall("Choice")] == ["claim", "not_claim"]
    assert [c.get("value") for c in stance.findall("Choice")] == ["favor", "against", "neutral"]
    assert (stance.get("visibleWhen"), stance.get("whenTagName"), stance.get("whenChoiceValue")) == (
        "choice-selected",
        "claim",
        "claim",
    )
    assert speaker.tag == "TextArea" and speaker.get("toName") == "text"


def test_labelstudio_config_variables_are_plain_task_fields():
    # Label Studio 1.23 reads "$article.txt" as the nested field article.txt and showed
    # "data/raw/undefined": after "$" comes a field name every exported task has, and nothing
    # that continues the path ("." or "[").
    root = ET.fromstring(label_config())
    refs = [m for el in root.iter() for v in el.attrib.values() for m in re.findall(r"\$([\w.\[\]]+)", v)]
    assert refs and set(refs) <= {"text", "article"}, refs


def test_export_labelstudio_tasks_and_config_beside(corpus, tmp_path):
    path, records = corpus
    out = tmp_path / "ls" / "tasks.json"
    written = export_file(path, "labelstudio", out)
    assert written == [out, tmp_path / "ls" / "tasks.labelstudio.xml"]
    assert config_path(out).read_text(encoding="utf-8") == label_config()
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert len(tasks) == len(records)
    first = tasks[0]
    assert set(first) == {"data"}  # no model: no predictions
    assert first["data"] == {
        "id": records[0]["id"],
        "article": records[0]["article"],
        "date": None,
        "text": records[0]["text"],
        "kind": "caption",
        "position": 0,
        "context": records[0]["context"],
    }  # the article context rides along for annotators
    # the labels being asked for are never shipped with the task
    assert not any(k in t["data"] for t in tasks for k in ("claim", "stance", "speaker"))


def test_export_with_guesses_writes_predictions(corpus, tmp_path):
    path, records = corpus
    guesses = [{"claim": "not_claim", "claim_score": 0.2, "stance": None, "stance_scores": None}]
    guesses += [
        {
            "claim": "claim",
            "claim_score": 0.8,
            "stance": "against",
            "stance_scores": {"favor": 0.25, "against": 0.5, "neutral": 0.25},
        }
    ] * (len(records) - 1)
    out = tmp_path / "tasks.json"
    export_file(path, "labelstudio", out, guesses=guesses, model_version="m1")
    tasks = json.loads(out.read_text(encoding="utf-8"))
    p0, p1 = tasks[0]["predictions"][0], tasks[1]["predictions"][0]
    assert "speaker" not in {r["from_name"] for t in tasks for r in t["predictions"][0]["result"]}
    assert p0 == {
        "model_version": "m1",
        "score": 0.8,
        "result": [{"from_name": "claim", "to_name": "text", "type": "choices", "value": {"choices": ["not_claim"]}}],
    }
    assert p1["score"] == pytest.approx(0.4)  # p(claim) * p(against | claim)
    assert [(r["from_name"], r["value"]["choices"]) for r in p1["result"]] == [
        ("claim", ["claim"]),
        ("stance", ["against"]),
    ]

    # a checkpoint that attributes speakers: the speaker of a predicted claim pre-fills the TextArea
    with_speaker = [{**g, "speaker": "Dmitry Peskov" if g["claim"] == "claim" else None} for g in guesses]
    with_speaker[0]["speaker"] = "Ai đó"  # never for a predicted not_claim
    export_file(path, "labelstudio", out, guesses=with_speaker, model_version="m1")
    tasks = json.loads(out.read_text(encoding="utf-8"))
    assert [r["from_name"] for r in tasks[0]["predictions"][0]["result"]] == ["claim"]
    assert tasks[1]["predictions"][0]["result"][-1] == {
        "from_name": "speaker",
        "to_name": "text",
        "type": "textarea",
        "value": {"text": ["Dmitry Peskov"]},
    }
    assert tasks[1]["predictions"][0]["score"] == pytest.approx(0.4)

    out = tmp_path / "d.jsonl"
    export_file(path, "doccano", out, guesses=guesses)
    lines = read_jsonl(out)
    assert lines[1]["label"] == [] and lines[1]["model_guess"] == "claim/against (0.40)"
    assert lines[0]["model_guess"] == "not_claim (0.80)"


def test_export_doccano_lines_keep_meta_and_hide_anchoring_fields(tmp_path):
    rows = [
        {
            "id": "a-00",
            "article": "a",
            "text": "Câu  một\u00a0ở đây.",
            "doc_label": "Pro_Russia",
            "why": "random",
            "score": 0.9,
            "probs": {"favor": 1.0},
        }
    ]
    src = tmp_path / "rows.jsonl"
    write_jsonl(src, rows)
    out = tmp_path / "d.jsonl"
    export_file(src, "doccano", out)
    (line,) = read_jsonl(out)
    assert line == {"text": "Câu một ở đây.", "id": "a-00", "label": [], "article": "a", "date": None, "why": "random"}


def test_export_reads_articles_and_csv_with_text_field(tmp_path):
    art = tmp_path / "bai_1.txt"
    art.write_text(
        'date 2022-03-01 Nga và Ukraine (Ảnh: Reuters).\n\nÔng Peskov nói: "Đàm phán sẽ tiếp tục".\n', encoding="utf-8"
    )
    out = tmp_path / "a.json"
    export_file(art, "labelstudio", out)
    data = [t["data"] for t in json.loads(out.read_text(encoding="utf-8"))]
    assert [d["id"] for d in data] == ["bai_1-00", "bai_1-01"]
    assert data[0]["kind"] == "caption" and data[1]["date"] == "2022-03-01"

    src = tmp_path / "rows.csv"
    src.write_text("content,article\nCâu thứ nhất.,x\n,x\nCâu thứ ba.,\n", encoding="utf-8")
    out = tmp_path / "c.jsonl"
    export_file(src, "doccano", out, text_field="content")
    lines = read_jsonl(out)
    assert [(x["id"], x["article"], x["text"]) for x in lines] == [
        ("rows-2", "x", "Câu thứ nhất."),
        ("rows-4", "rows", "Câu thứ ba."),
    ]  # <file>-<line>, as every reader
    with pytest.raises(ValueError, match="no 'text' field"):
        export_file(src, "doccano", out)


# --------------------------------------------------------------------------- round trips


def test_labelstudio_round_trip_gives_identical_records(corpus, tmp_path):
    path, records = corpus
    out = tmp_path / "tasks.json"
    export_file(path, "labelstudio", out)
    exported = tmp_path / "ls-export.json"
    skip = records[5]["id"]
    exported.write_text(
        json.dumps(ls_annotate(json.loads(out.read_text("utf-8")), records, drop={skip}), ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    assert detect_format(exported) == "labelstudio"
    target = tmp_path / "annotated" / "new.jsonl"
    result = import_file(exported, target)
    assert result.errors == [] and result.skipped == 1
    assert read_jsonl(target) == [r for r in records if r["id"] != skip]


def test_doccano_round_trip_gives_identical_records(corpus, tmp_path):
    path, records = corpus
    out = tmp_path / "d.jsonl"
    export_file(path, "doccano", out)
    exported = tmp_path / "doccano-export.jsonl"
    write_jsonl(exported, doccano_annotate(read_jsonl(out), records, drop={records[2]["id"], records[3]["id"]}))
    assert detect_format(exported) == "doccano"
    target = tmp_path / "new.jsonl"
    result = import_file(exported, target, batch="r1")
    assert result.errors == [] and result.skipped == 2
    expected = [{**r, "batch": "r1"} for r in records if r["id"] not in (records[2]["id"], records[3]["id"])]
    assert read_jsonl(target) == expected


def test_doccano_stance_alone_implies_claim_and_csv_style_labels(tmp_path):
    exported = tmp_path / "e.jsonl"
    write_jsonl(
        exported,
        [
            {"id": "a-01", "text": "X nói.", "label": ["favor"], "Comments": [{"text": "Speaker:  Sergei   Lavrov "}]},
            {"id": "a-02", "text": "Y.", "label": "not_claim"},
            {"id": 7, "text": "Z.", "label": ["neutral"], "meta": {"id": "b-00", "article": "b", "date": "2022-03-01"}},
        ],
    )
    target = tmp_path / "n.jsonl"
    assert import_file(exported, target).errors == []
    assert read_jsonl(target) == [
        {
            "id": "a-01",
            "article": "a",
            "date": None,
            "text": "X nói.",
            "claim": "claim",
            "stance": "favor",
            "speaker": "Sergei Lavrov",
        },
        {
            "id": "a-02",
            "article": "a",
            "date": None,
            "text": "Y.",
            "claim": "not_claim",
            "stance": None,
            "speaker": None,
        },
        {
            "id": "b-00",
            "article": "b",
            "date": "2022-03-01",
            "text": "Z.",
            "claim": "claim",
            "stance": "neutral",
            "speaker": None,
        },
    ]


def test_import_rejects_invalid_labels_with_file_line(tmp_path, capsys):
    exported = tmp_path / "e.jsonl"
    write_jsonl(
        exported,
        [
            {"id": "a-01", "text": "Một.", "label": ["not_claim"]},
            {"id": "a-02", "text": "Hai.", "label": ["favour"]},
            {"id": "a-03", "text": "Ba.", "label": ["favor", "against"]},
            {"id": "a-04", "text": "Bốn.", "label": ["not_claim", "neutral"]},
            {"id": "a-01", "text": "Năm.", "label": ["not_claim"]},
        ],
    )
    target = tmp_path / "new.jsonl"
    result = import_file(exported, target)
    assert not target.exists()
    errs = "\n".join(result.errors)
    assert f"{exported}:2: unknown stance label 'favour'" in errs
    assert f"{exported}:3: conflicting labels" in errs
    assert f"{exported}:4: stance label 'neutral' on a not_claim sentence" in errs
    assert f"{exported}:5: duplicate id 'a-01'" in errs
    # the CLI prints the same lines and exits non-zero, leaving nothing behind
    assert main(["import", str(exported), "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert f"{exported}:2: unknown stance label 'favour'" in err and "nothing written" in err
    assert not target.exists() and list(tmp_path.glob(".new*")) == []


def test_import_labelstudio_claim_without_stance_and_against_existing(corpus, tmp_path):
    path, records = corpus
    task = {
        "id": 1,
        "data": {"id": "z-00", "article": "z", "date": None, "text": "Ông A nói."},
        "annotations": [
            {"result": [{"from_name": "claim", "to_name": "text", "type": "choices", "value": {"choices": ["claim"]}}]}
        ],
    }
    clash = {
        "id": 2,
        "data": {"id": records[0]["id"], "text": records[0]["text"]},
        "annotations": [
            {
                "result": [
                    {"from_name": "claim", "to_name": "text", "type": "choices", "value": {"choices": ["not_claim"]}}
                ]
            }
        ],
    }
    exported = tmp_path / "ls.json"
    exported.write_text(json.dumps([task, clash]), encoding="utf-8")
    result = import_file(exported, tmp_path / "n.jsonl", against=[path])
    assert len(result.errors) == 2
    assert result.errors[0] == f"{exported}: task #1 (id z-00): claim without a stance"
    assert result.errors[1].startswith(f"{exported}: task #2 (id {records[0]['id']}): duplicate id")
    assert str(path) in result.errors[1]


def test_import_ignores_hidden_stance_after_not_claim_and_refuses_json_min(tmp_path):
    task = {
        "data": {"id": "z-00", "text": "Câu."},
        "annotations": [
            {
                "result": [
                    {"from_name": "claim", "to_name": "text", "type": "choices", "value": {"choices": ["not_claim"]}},
                    {"from_name": "stance", "to_name": "text", "type": "choices", "value": {"choices": ["favor"]}},
                    {"from_name": "speaker", "to_name": "text", "type": "textarea", "value": {"text": ["Ai đó"]}},
                ]
            }
        ],
    }
    exported = tmp_path / "ls.json"
    exported.write_text(json.dumps([task]), encoding="utf-8")
    target = tmp_path / "n.jsonl"
    assert import_file(exported, target).errors == []
    assert read_jsonl(target)[0] == {
        "id": "z-00",
        "article": "z",
        "date": None,
        "text": "Câu.",
        "claim": "not_claim",
        "stance": None,
        "speaker": None,
    }
    exported.write_text(json.dumps([{"id": 3, "text": "Câu.", "claim": "claim"}]), encoding="utf-8")
    with pytest.raises(ValueError, match="not JSON_MIN"):
        import_file(exported, target)


# --------------------------------------------------------------------------- pool CSV


def test_read_pool_csv_ids_dates_and_normalisation(tmp_path):
    nfd = unicodedata.normalize("NFD", "Nga  và\u00a0Ukraine đàm phán.")
    sent = tmp_path / "p_sentences.csv"
    with sent.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["doc_id", "doc_label", "sentence"])
        w.writerows(
            [["D1", "Neutral", nfd], ["D2", "Pro_Russia", "Một."], ["D1", "Neutral", "   "], ["D1", "Neutral", "Ba."]]
        )
    with (tmp_path / "p_articles.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "label", "text", "date_publish"])
        w.writerows([["D1", "Neutral", "x" * 200_000, "2022-03-08 00:57:24"], ["D2", "Pro_Russia", "y", ""]])
    rows = read_pool_csv(sent)
    assert [(r["id"], r["article"], r["date"], r["position"]) for r in rows] == [
        ("D1-00", "D1", "2022-03-08", 0),
        ("D2-00", "D2", None, 0),
        ("D1-02", "D1", "2022-03-08", 2),
    ]
    assert rows[0]["text"] == unicodedata.normalize("NFC", "Nga và Ukraine đàm phán.")
    assert rows[1]["doc_label"] == "Pro_Russia"


# --------------------------------------------------------------------------- ranking


class TableModel:
    """Predictor stand-in: probabilities looked up by text (uniform-ish default)."""

    labels = ["not_claim", "favor", "against", "neutral"]

    def __init__(self, table):
        self.table = table

    def predict_proba(self, texts, batch_size=32, progress=False):
        return np.array([self.table.get(t, [0.97, 0.01, 0.01, 0.01]) for t in texts], dtype=float)


def _pool(n=40):
    words = ["hòa bình", "vũ khí", "lệnh trừng phạt", "đàm phán", "ngũ cốc", "hạt nhân", "người tị nạn", "Istanbul"]
    rows = []
    for i in range(n):
        also = "và " + words[(i * 3) % len(words)] if i % 2 else ""
        text = f"Câu số {i} về {words[i % len(words)]} {also} năm {2000 + i}."
        rows.append({"id": f"doc{i // 10}-{i % 10:02d}", "article": f"doc{i // 10}", "text": " ".join(text.split())})
    return rows


def test_uncertainty_scores():
    p = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0, 0, 0], [0.5, 0.5, 0, 0], [0.7, 0.2, 0.1, 0.0]])
    assert uncertainty(p, "entropy") == pytest.approx(
        [1.0, 0.0, 0.5, -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)) / np.log(4)], abs=1e-6
    )
    assert uncertainty(p, "margin") == pytest.approx([1.0, 0.0, 1.0, 0.5])
    assert uncertainty(np.zeros((0, 4))).shape == (0,)


def test_rank_excludes_labelled_removes_near_duplicates_and_respects_k():
    pool = _pool()
    # a near-copy of pool[3] inside the pool, more uncertain than it; and a near-copy of a labelled one
    pool.append({"id": "dup-00", "article": "dup", "text": pool[3]["text"].replace("Câu số", "Câu sô")})
    pool.append({"id": "dup-01", "article": "dup", "text": "Ông Lavrov nói các cuộc đàm phán ở Istanbul vẫn tiếp tục."})
    labelled = [
        {"id": pool[0]["id"], "text": "khác hẳn"},  # excluded by id
        {"id": "seed-99", "text": "  " + pool[1]["text"].upper() + " "},  # excluded by normalised text
        {"id": "seed-98", "text": "Ông Lavrov nói các cuộc đàm phán tại Istanbul vẫn tiếp tục."},
    ]
    table = {
        pool[3]["text"]: [0.4, 0.3, 0.2, 0.1],
        pool[-2]["text"]: [0.25, 0.25, 0.25, 0.25],
        pool[5]["text"]: [0.5, 0.5, 0, 0],
        pool[-1]["text"]: [0.25, 0.25, 0.25, 0.25],
    }
    result = rank(pool, TableModel(table), RankConfig(k=10, random_share=0.2, seed=1), labelled=labelled)
    rows = result.rows
    assert len(rows) == 10 and result.counts["picked"] == 10
    assert result.counts == {
        "picked": 10,
        "pool": 42,
        "labelled_id": 1,
        "labelled_text": 1,
        "near_labelled": 1,
        "near_pool": 1,
        "candidates": 38,
    }
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == 10
    assert not {pool[0]["id"], pool[1]["id"], "dup-01"} & set(ids)
    assert not {pool[3]["id"], "dup-00"} <= set(ids)  # one per near-duplicate group ...
    assert rows[0]["id"] == "dup-00" and rows[0]["why"] == "uncertainty" and rows[0]["score"] == pytest.approx(1.0)
    assert rows[1]["id"] == pool[5]["id"]  # ... the more uncertain one first, then by score
    assert [r["why"] for r in rows] == ["uncertainty"] * 8 + ["random"] * 2
    assert rows[1]["pred"] == "not_claim" and set(rows[1]["probs"]) == set(TableModel.labels)
    scores = [r["score"] for r in rows[:8]]
    assert scores == sorted(scores, reverse=True)


def test_rank_random_share_and_seed_determinism():
    pool = _pool()
    model = TableModel({})
    a = rank(pool, model, RankConfig(k=10, random_share=0.5, seed=3)).rows
    b = rank(pool, model, RankConfig(k=10, random_share=0.5, seed=3)).rows
    c = rank(pool, model, RankConfig(k=10, random_share=0.5, seed=4)).rows
    assert a == b
    assert sum(r["why"] == "random" for r in a) == 5
    assert {r["id"] for r in a if r["why"] == "random"} != {r["id"] for r in c if r["why"] == "random"}
    assert [r for r in a if r["why"] == "uncertainty"] == [r for r in c if r["why"] == "uncertainty"]
    everything = rank(pool, model, RankConfig(k=1000, random_share=0.0)).rows
    assert len(everything) == 40 and all(r["why"] == "uncertainty" for r in everything)
    assert all(r["why"] == "random" for r in rank(pool, model, RankConfig(k=4, random_share=1.0)).rows)
    with pytest.raises(ValueError, match="random_share"):
        RankConfig(k=3, random_share=1.5)


# --------------------------------------------------------------------------- stats and curve


def test_stats_table(corpus, tmp_path):
    path, records = corpus
    small = tmp_path / "small.jsonl"
    write_jsonl(small, records[:10])
    sets = {"before": distribution([small]), "after": distribution([path])}
    table = markdown_table(sets)
    n_nc = sum(r["claim"] == "not_claim" for r in records)
    assert table.splitlines()[0] == "| label | before | after |"
    assert f"| not_claim | {sum(r['claim'] == 'not_claim' for r in records[:10])} (" in table
    assert f"{n_nc} ({n_nc / 30:.0%}) |" in table
    assert "| sentences | 10 | 30 |" in table


def _synthetic_examples(n_per_label=16):
    """Distinct sentences (no near-copies, so grouped CV can spread them) with one cue word per label."""
    cues = {"not_claim": "mưa", "favor": "hoan_nghênh", "against": "bác_bỏ", "neutral": "lịch_trình"}
    filler = [
        "Hà_Nội",
        "Kyiv",
        "Moskva",
        "Istanbul",
        "Minsk",
        "Washington",
        "Bắc_Kinh",
        "Ankara",
        "Paris",
        "Berlin",
        "London",
        "Warsaw",
        "Riga",
        "Vilnius",
        "Tallinn",
        "Praha",
        "Rome",
        "Madrid",
    ]
    rng = np.random.default_rng(0)
    out = []
    for lab, cue in cues.items():
        for i in range(n_per_label):
            words = list(rng.choice(filler, size=4, replace=False))
            out.append({"id": f"{lab}{i}-00", "text": f"{words[0]} {cue} {' '.join(words[1:])} {i}", "label": lab})
    return out


def test_nested_subsample_is_stratified_and_nested():
    ex = _synthetic_examples(10)
    subs = nested_subsample(ex, [0.25, 0.5, 1.0], seed=0)
    ids = {f: {e["id"] for e in s} for f, s in subs.items()}
    assert ids[0.25] <= ids[0.5] <= ids[1.0] and len(ids[1.0]) == 40
    assert len(subs[0.25]) == 4 * 3  # ceil(0.25 * 10) per label
    assert {e["label"] for e in subs[0.25]} == {"not_claim", "favor", "against", "neutral"}
    assert nested_subsample(ex, [0.5], seed=0)[0.5] == subs[0.5]


def test_learning_curve_on_a_synthetic_set(tmp_path):
    from vistance.models.baseline import BaselineClassifier, BaselineConfig

    ex = _synthetic_examples()
    points = learning_curve(
        ex,
        make_model=lambda: BaselineClassifier(BaselineConfig()),
        preprocess=list,
        labels=["not_claim", "favor", "against", "neutral"],
        k=3,
        seed=0,
        progress=False,
    )
    assert [p.fraction for p in points] == [0.25, 0.5, 0.75, 1.0]
    n = [np.mean(p.n_train) for p in points]
    assert n == sorted(n) and n[0] < n[-1]
    assert all(len(p.dev_macro_f1) == 3 and len(p.test_macro_f1) == 3 for p in points)
    # the cue words separate the classes: the full-data baseline is nearly perfect on held-out folds
    assert np.mean(points[-1].test_macro_f1) > 0.9
    png = plot_curve(points, tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    d = points[0].to_dict()
    assert d["dev_macro_f1"]["mean"] == pytest.approx(np.mean(points[0].dev_macro_f1))


# --------------------------------------------------------------------------- with a real (tiny baseline) checkpoint


@pytest.fixture(scope="module")
def baseline_checkpoint(tmp_path_factory):
    """A joint-task baseline trained on the seed sentences, saved as a self-describing checkpoint."""
    from vistance.checkpoint import CheckpointMeta, write_meta
    from vistance.data import load_corpus
    from vistance.models.baseline import BaselineClassifier, BaselineConfig
    from vistance.tasks import JOINT
    from vistance.text import PreprocessConfig

    examples = JOINT.examples(load_corpus(SEED))
    clf = BaselineClassifier(BaselineConfig(C=1.0), labels=JOINT.labels)
    clf.fit([e["text"] for e in examples], [e["label"] for e in examples])
    meta = CheckpointMeta(
        kind="baseline", task="joint", labels=clf.labels, preprocess=PreprocessConfig(segmenter="none").to_dict()
    )
    directory = tmp_path_factory.mktemp("ckpt") / "checkpoint"
    clf.save(directory)
    write_meta(directory, meta)
    return directory


def test_export_with_a_model_checkpoint(baseline_checkpoint, corpus, tmp_path):
    from vistance.inference import StanceClassifier

    path, records = corpus
    out = tmp_path / "tasks.json"
    export_file(path, "labelstudio", out, model=baseline_checkpoint)
    tasks = json.loads(out.read_text(encoding="utf-8"))
    expected = StanceClassifier.from_pretrained(baseline_checkpoint).predict([r["text"] for r in records])
    for task, guess in zip(tasks, expected):
        (pred,) = task["predictions"]
        # <dir>/checkpoint is named after <dir> (a run folder's name), not after "checkpoint"
        assert pred["model_version"] == f"vistance-baseline-joint:{baseline_checkpoint.parent.name}"
        choices = {r["from_name"]: r["value"]["choices"][0] for r in pred["result"]}
        assert choices.get("claim") == guess["claim"] and choices.get("stance") == guess["stance"]
        assert 0.0 < pred["score"] <= 1.0
    # a model's guess never comes back as a label: an unannotated task with predictions is skipped
    exported = tmp_path / "ls.json"
    exported.write_text(json.dumps(tasks[:3]), encoding="utf-8")
    result = import_file(exported, tmp_path / "n.jsonl")
    assert result.records == [] and result.skipped == 3


def test_rank_cli_with_a_checkpoint(baseline_checkpoint, corpus, tmp_path, capsys):
    path, records = corpus
    pool = tmp_path / "pool.jsonl"
    write_jsonl(pool, _pool() + [{"id": r["id"], "text": r["text"]} for r in records[:5]])
    out = tmp_path / "batch.jsonl"
    args = [
        "rank",
        "--model",
        str(baseline_checkpoint),
        "--pool",
        str(pool),
        "--k",
        "10",
        "--random-share",
        "0.3",
        "--exclude",
        str(path),
        "--seed",
        "7",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    rows = read_jsonl(out)
    assert len(rows) == 10 and [r["why"] for r in rows].count("random") == 3
    assert not {r["id"] for r in rows} & {r["id"] for r in records}
    assert "-5 labelled (id)" in capsys.readouterr().out
    first = out.read_text(encoding="utf-8")
    assert main(args) == 0 and out.read_text(encoding="utf-8") == first  # same seed, same batch
    # the ranked batch exports straight to a tool, without the model's numbers in the task data
    export_file(out, "doccano", tmp_path / "b.jsonl")
    line = read_jsonl(tmp_path / "b.jsonl")[0]
    assert line["why"] in ("uncertainty", "random") and not {"probs", "score", "pred"} & set(line)


def test_curve_and_stats_cli(tmp_path, capsys):
    records = [
        {
            "id": e["id"],
            "article": e["id"].split("-")[0],
            "date": None,
            "text": e["text"],
            "claim": "not_claim" if e["label"] == "not_claim" else "claim",
            "stance": None if e["label"] == "not_claim" else e["label"],
            "speaker": None if e["label"] == "not_claim" else "Ai đó",
        }
        for e in _synthetic_examples(12)
    ]
    data = tmp_path / "labelled.jsonl"
    write_jsonl(data, records)
    cfg = tmp_path / "curve.yaml"
    cfg.write_text(
        f"name: curve\ndata:\n  files: ['{data}']\n  preprocess:\n    segmenter: none\nmodel:\n  kind: baseline\n",
        encoding="utf-8",
    )
    out = tmp_path / "docs" / "curve.png"
    assert main(["curve", "--config", str(cfg), "--cv", "3", "--out", str(out)]) == 0
    result = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert [p["fraction"] for p in result["points"]] == [0.25, 0.5, 0.75, 1.0]
    assert result["sentences"] == 48 and result["cv"] == 3 and list(result["files"]) == [str(data)]
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert "100%" in capsys.readouterr().out

    table = tmp_path / "dist.md"
    assert main(["stats", "--set", f"before={SEED}", "--set", f"after={SEED},{data}", "--out", str(table)]) == 0
    text = table.read_text(encoding="utf-8")
    assert "| sentences | 112 | 160 |" in text
    assert json.loads(table.with_suffix(".json").read_text())["after"]["sentences"] == 160


def test_import_never_wipes_an_earlier_round(tmp_path, capsys):
    def export(rows):
        path = tmp_path / f"e{len(list(tmp_path.glob('e*.jsonl')))}.jsonl"
        write_jsonl(path, rows)
        return path

    target = tmp_path / "pool.jsonl"
    assert (
        main(
            [
                "import",
                str(export([{"id": "a-01", "text": "Một.", "label": ["not_claim"]}])),
                "--out",
                str(target),
                "--batch",
                "r1",
            ]
        )
        == 0
    )
    round1 = target.read_text(encoding="utf-8")
    second = export([{"id": "a-02", "text": "Hai.", "label": ["neutral"]}, {"id": "a-03", "text": "Ba.", "label": []}])
    assert main(["import", str(second), "--out", str(target)]) == 2
    assert capsys.readouterr().err == f"error: {target} exists: append to it (--append) or replace it (--overwrite)\n"
    assert main(["import", str(second), "--out", str(target), "--append", "--batch", "r2"]) == 0
    assert "1 record(s) appended" in capsys.readouterr().out
    assert [(r["id"], r["batch"]) for r in read_jsonl(target)] == [("a-01", "r1"), ("a-02", "r2")]
    assert target.read_text(encoding="utf-8").startswith(round1)
    # re-importing a labelled id into the same file is caught against the file itself
    again = export([{"id": "a-01", "text": "Một.", "label": ["favor"]}])
    assert main(["import", str(again), "--out", str(target), "--append"]) == 1
    assert f"{again}:1: duplicate id 'a-01' (first at {target}:1)" in capsys.readouterr().err
    assert len(read_jsonl(target)) == 2
    # nothing annotated: nothing written, even with --overwrite
    empty = export([{"id": "a-09", "text": "Chín.", "label": []}])
    assert main(["import", str(empty), "--out", str(target), "--overwrite"]) == 0
    assert "nothing to import" in capsys.readouterr().out and len(read_jsonl(target)) == 2
    assert main(["import", str(again), "--out", str(target), "--overwrite"]) == 0
    assert [(r["id"], r["stance"]) for r in read_jsonl(target)] == [("a-01", "favor")]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["export", "--input", "{tmp}/missing", "--format", "doccano", "--out", "{tmp}/o.jsonl"],
            "{tmp}/missing: no such file or folder",
        ),
        (
            ["import", "{tmp}/notes.txt", "--out", "{tmp}/o.jsonl"],
            "{tmp}/notes.txt: neither a Label Studio JSON export nor a doccano JSONL export",
        ),
        (["import", "{tmp}/missing.json", "--out", "{tmp}/o.jsonl"], "No such file or directory"),
        (
            ["rank", "--model", "{tmp}/none", "--pool", "{tmp}/p.jsonl", "--k", "0", "--out", "{tmp}/o.jsonl"],
            "k must be at least 1, not 0",
        ),
        (
            ["rank", "--model", "{tmp}/none", "--pool", "{tmp}/p.jsonl", "--k", "5", "--out", "{tmp}/o.jsonl"],
            "{tmp}/none",
        ),
        (
            ["curve", "--config", "configs/baseline.yaml", "--fractions", "0", "--out", "{tmp}/c.png"],
            "fractions must be in (0, 1], got 0.0",
        ),
        (["stats", "--set", "seed.jsonl"], "--set expects NAME=FILE[,FILE...], got 'seed.jsonl'"),
    ],
)
def test_cli_errors_are_one_line_and_status_2(tmp_path, capsys, argv, message):
    (tmp_path / "notes.txt").write_text("just text\n", encoding="utf-8")
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message.format(tmp=tmp_path) in err


def test_cli_error_exit_status_from_python_m(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vistance.annotate",
            "import",
            str(tmp_path / "none.json"),
            "--out",
            str(tmp_path / "o.jsonl"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr


def test_rank_cascade_segments_once_and_matches_the_two_models(baseline_claim_run, baseline_stance_run):
    import numpy as np

    from vistance.checkpoint import load_predictor
    from vistance.inference import StanceClassifier

    claim, stance = load_predictor(baseline_claim_run), load_predictor(baseline_stance_run)
    texts = ["Nga sẵn sàng đàm phán hòa bình.", "Giá xăng tăng mạnh trong tuần.", "Kiev bác bỏ đề xuất ngừng bắn."]
    pc, ps = claim.predict_proba(texts), stance.predict_proba(texts)
    calls = []
    real_prepare = claim.prepare
    claim.prepare = lambda t: calls.append(len(t)) or real_prepare(t)
    joint = StanceClassifier(claim, stance).predict_proba(texts)
    assert calls == [3]
    p_claim = pc[:, claim.labels.index("claim")]
    expected = np.column_stack(
        [1 - p_claim, ps[:, [stance.labels.index(s) for s in ("favor", "against", "neutral")]] * p_claim[:, None]]
    )
    assert np.allclose(joint, expected, atol=1e-6)
    assert np.allclose(joint.sum(axis=1), 1, atol=1e-5)


def test_model_name_tells_runs_apart(tmp_path):
    from vistance.annotate.roundtrip import model_name

    a, b = tmp_path / "runs" / "20261123-153000", tmp_path / "runs" / "20261124-090000"
    for d in (a, b):
        (d / "checkpoint").mkdir(parents=True)
    assert model_name(a / "checkpoint") == "20261123-153000"
    assert model_name(b / "checkpoint") != model_name(a / "checkpoint")
    assert model_name(tmp_path / "runs") == "runs"  # a checkpoint folder with its own name keeps it


def test_import_labelstudio_errors_name_label_studios_task_id(tmp_path):
    # A real export lists only annotated tasks: the 2nd task in the file was task #11 in Label Studio
    # (the number its UI shows), so that is the number an error must give.
    def task(ls_id, choice):
        t = {
            "data": {"id": f"a-{ls_id:02d}", "article": "a", "date": None, "text": f"Câu {ls_id}."},
            "annotations": [
                {
                    "result": [
                        {"from_name": "claim", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}
                    ]
                }
            ],
        }
        return {"id": ls_id, **t} if ls_id else t

    exported = tmp_path / "ls.json"
    exported.write_text(json.dumps([task(3, "not_claim"), task(11, "bogus"), task(0, "bogus")]), encoding="utf-8")
    errors = import_file(exported, tmp_path / "n.jsonl").errors
    assert errors[0].startswith(f"{exported}: task #11 (id a-11): unknown claim label 'bogus'")
    assert errors[1].startswith(f"{exported}: task 3 (id a-00): unknown claim label")  # no id: position in the file
