"""The analyst's page (``GET /``) and its routes: /analyze_many, /analyze_files and /export, at the API level.

A scripted predictor pins shapes and limits; the baseline checkpoint that the fixtures train (it attributes
speakers) shows that downloads equal ``python -m vistance.predict``'s output byte for byte and that the actor
summary equals ``python -m vistance.actors``'s ``actors.csv``. The browser test is ``test_page_browser.py``.
"""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_predict import ARTICLE, FakePredictor

from vistance.inference import StanceClassifier
from vistance.inference.cli import flat_columns
from vistance.inference.serve import ServeLimits, create_app

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
WEB = ROOT / "src" / "vistance" / "resources" / "web"
LABELS = ["not_claim", "favor", "against", "neutral"]
KIEV = "Kiev phản đối đề xuất này."


@pytest.fixture
def client():
    clf = StanceClassifier(
        FakePredictor(LABELS, {KIEV: [0.1, 0.1, 0.7, 0.1]}, default=[0.7, 0.1, 0.1, 0.1], path="ckpt/joint")
    )
    limits = ServeLimits(max_body_bytes=2_000, max_texts=3, max_chars=300, max_export_bytes=6_000)
    with TestClient(create_app(clf, limits)) as c:
        yield c


@pytest.fixture(scope="module")
def real(baseline_run):
    """The service around the fixtures' baseline checkpoint, which attributes speakers."""
    with TestClient(create_app(StanceClassifier.from_pretrained(baseline_run))) as c:
        yield c


def upload(*paths: Path) -> list[dict]:
    return [{"name": p.name, "content": p.read_text(encoding="utf-8")} for p in paths]


# --------------------------------------------------------------------------- the page itself


def test_the_page_and_its_files_come_from_the_package(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert 'src="static/app.js"' in page and 'href="static/style.css"' in page
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
        assert r.text == (WEB / name).read_text(encoding="utf-8")
    assert client.get("/static/../serve.py").status_code == 404
    assert client.get("/static/index.html").status_code == 404
    # Works offline: nothing is fetched from anywhere else (no CDN, no fonts, no analytics).
    for text in (page, client.get("/static/app.js").text, client.get("/static/style.css").text):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.IGNORECASE)
        assert "@import" not in text
    assert client.get("/?text=Nga%20s%E1%BA%B5n%20s%C3%A0ng.").text == page  # the script reads ?text=


def test_every_control_of_the_page_has_a_label():
    page = (WEB / "index.html").read_text(encoding="utf-8")
    labelled = set(re.findall(r'<label[^>]*\sfor="([^"]+)"', page))
    for tag, attrs in re.findall(r"<(input|select|textarea)\b([^>]*)>", page):
        id_ = re.search(r'\sid="([^"]+)"', attrs)
        wrapped = re.search(r"<label[^>]*>\s*<" + tag + r"\b" + re.escape(attrs), page)
        assert (id_ and id_.group(1) in labelled) or wrapped, f"<{tag}{attrs}> has no label"
    assert 'role="alert"' in page and 'role="status"' in page and 'name="viewport"' in page


# --------------------------------------------------------------------------- /analyze_many


def test_analyze_many_answers_each_article_as_analyze_does(client):
    articles = [
        {"id": "n1", "text": ARTICLE, "date": "2025-01-02"},
        {
            "id": "n2",
            "text": "date 2025-03-04\nNga cần hòa bình. " + KIEV,
            "date": "2025-09-09",
            "title": "  Một   tiêu đề ",
        },
    ]
    r = client.post("/analyze_many", json={"articles": articles})
    assert r.status_code == 200
    out = r.json()
    a, b = out["documents"]
    single = client.post("/analyze", json={"text": ARTICLE, "id": "n1"}).json()
    assert [{k: v for k, v in s.items() if k != "confidence"} for s in a["sentences"]] == single["sentences"]
    assert (a["text"], a["counts"], a["input"]) == (single["text"], single["counts"], "article")
    assert a["date"] == "2025-01-02" and b["date"] == "2025-03-04"  # the text's own date line wins
    assert a["title"] == "Nga sẵn sàng đàm phán" and b["title"] == "Một tiêu đề"  # the heading, else the given title
    for s in a["sentences"] + b["sentences"]:
        expected = s["claim_score"] * s["stance_scores"][s["stance"]] if s["claim"] == "claim" else None
        assert s["confidence"] == pytest.approx(expected)
    assert out["counts"] == {k: a["counts"][k] + b["counts"][k] for k in LABELS}
    # a model without speaker attribution: no speakers, no actor summary (the page says so)
    assert out["speakers"] is False and out["actors"] is None and a["speakers"] is None


def test_analyze_many_limits_and_errors_are_one_line(client):
    def detail(path, body, status=422):
        r = client.post(path, json=body)
        assert r.status_code == status, r.text
        return r.json()["detail"]

    assert detail("/analyze_many", {"articles": [{"text": "Một."}] * 4}) == "too many articles: 4 > limit 3 per request"
    assert detail("/analyze_many", {"articles": []}) == "no articles to analyse"
    assert (
        detail("/analyze_many", {"articles": [{"text": "Một."}, {"text": "x" * 301}]})
        == "articles[1].text too long: 301 characters > limit 300"
    )
    assert detail("/analyze_many", {"articles": [{"text": " \n "}]}) == "articles[0].text is empty or white space only"
    assert "body.min_claims" in detail("/analyze_many", {"articles": [{"text": "Một."}], "min_claims": 0})
    assert detail("/analyze_many", {"articles": [{"text": "x" * 250}] * 9}, 413).startswith("request body too large")


# --------------------------------------------------------------------------- /analyze_files


def test_uploads_are_read_like_the_predict_cli(client):
    sentences = '{"id": "s7", "text": "Một câu."}\n\n{"text": "' + KIEV + '"}\n{"text": "  "}\n'
    articles = 'id,title,date,text\nx1,Tựa,2025-05-06,"Nga sẵn sàng.\n\nKiev phản đối."\n'
    files = [
        {"name": "notes.jsonl", "content": sentences},
        {"name": "news.csv", "content": articles},
        {"name": "C:\\tin\\bai.txt", "content": ARTICLE},
    ]
    out = client.post("/analyze_files", json={"files": files}).json()
    assert [d["id"] for d in out["documents"]] == ["x1", "bai", "notes"]  # articles in file order, then tables
    docs = {d["id"]: d for d in out["documents"]}
    notes, x1, bai = docs["notes"], docs["x1"], docs["bai"]
    assert notes["input"] == "sentences" and [s["id"] for s in notes["sentences"]] == ["s7", "notes-3"]
    assert notes["title"] == "notes.jsonl" and notes["text"] == f"Một câu.\n{KIEV}\n"
    assert notes["sentences"][1]["stance"] == "against" and out["skipped"] == 1
    assert (x1["input"], x1["title"], x1["date"], x1["source"]) == ("article", "Tựa", "2025-05-06", "news.csv")
    assert [s["text"] for s in x1["sentences"]] == ["Nga sẵn sàng.", "Kiev phản đối."]
    assert bai["source"] == "bai.txt" and [s["id"] for s in bai["sentences"]][:2] == ["bai-00", "bai-01"]
    # rows: the caller decides; text_field: another column
    forced = client.post(
        "/analyze_files",
        json={"files": [{"name": "n.csv", "content": "body\nMột.\nHai.\n"}], "rows": "articles", "text_field": "body"},
    ).json()
    assert [(d["id"], d["input"]) for d in forced["documents"]] == [("n-2", "article"), ("n-3", "article")]


def test_upload_errors_name_the_file(client):
    def detail(files, **kw):
        r = client.post("/analyze_files", json={"files": files, **kw})
        assert r.status_code == 422, r.text
        return r.json()["detail"]

    assert detail([]) == "no files to analyse"
    assert "a.xml: unsupported input" in detail([{"name": "a.xml", "content": "<a/>"}])
    assert (
        detail([{"name": "a.jsonl", "content": '{"body": "x"}'}])
        == "a.jsonl:1: no 'text' field (fields: body); name the text column with the page's Text column box"
    )
    assert "a.jsonl:2: malformed JSON" in detail([{"name": "a.jsonl", "content": '{"text": "x"}\n{"text": '}])
    assert detail([{"name": "a.csv", "content": "text\n1\n2\n3\n4\n"}]) == "too many sentences: 4 > limit 3 per request"
    assert (
        detail([{"name": "a.txt", "content": "  "}]) == "no text to analyse in the files (1 empty row(s) or article(s))"
    )
    assert "too long: 301 characters" in detail([{"name": "a.txt", "content": "x" * 301}])


# --------------------------------------------------------------------------- /export


def test_export_writes_the_predict_cli_columns_and_has_its_own_body_limit(client):
    out = client.post(
        "/analyze_files",
        json={"files": [{"name": "b.txt", "content": ARTICLE}, {"name": "s.csv", "content": f"text\n{KIEV}\n"}]},
    ).json()
    r = client.post("/export?format=csv", json={"documents": out["documents"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="vistance-results.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert r.text.splitlines()[0] == ",".join(flat_columns(articles=True, speakers=False))
    assert [x["id"] for x in rows] == ["b-00", "b-01", "b-02", "b-03", "s-2"]
    assert rows[3]["stance"] == "against" and rows[3]["stance_against"] == "0.7778" and rows[3]["article"] == "b"
    assert rows[4]["article"] == "" and rows[4]["start"] == ""  # a sentence table has no article columns
    r = client.post("/export?format=jsonl", json={"documents": out["documents"]})
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert r.headers["content-type"].startswith("application/x-ndjson") and len(lines) == 5
    assert lines[3]["stance_scores"] == {"favor": 0.1111, "against": 0.7778, "neutral": 0.1111}
    assert set(lines[4]) == {"id", "text", "claim", "claim_score", "stance", "stance_scores"}
    # results are larger than their input: /export takes bodies up to max_export_bytes, not max_body_bytes
    big = {"documents": [{"id": f"d{i}", "sentences": out["documents"][0]["sentences"]} for i in range(3)]}
    assert 2_000 < len(json.dumps(big).encode()) < 6_000 and client.post("/export", json=big).status_code == 200
    huge = {"documents": big["documents"] * 3}
    r = client.post("/export", json=huge)
    assert r.status_code == 413 and "limit 6000 bytes" in r.json()["detail"]
    bad = {"documents": [{"id": "d", "sentences": [{"id": "1", "text": "x", "claim": "yes", "claim_score": 1}]}]}
    r = client.post("/export", json=bad)
    assert r.status_code == 422 and "claim" in r.json()["detail"]
    assert client.post("/export?format=xlsx", json={"documents": []}).status_code == 422


# --------------------------------------------------------------------------- the same numbers as the CLIs


def test_downloads_equal_the_predict_cli_output(real, baseline_run, tmp_path):
    from vistance.inference.cli import main as predict

    raw = sorted(RAW.glob("*.txt"))
    seed = tmp_path / "seed-sentences.jsonl"
    seed.write_text(
        "".join((ROOT / "data/annotated/seed.jsonl").read_text(encoding="utf-8").splitlines(True)[:12]),
        encoding="utf-8",
    )
    for files, cli_input in ((upload(*raw), RAW), (upload(seed), seed)):
        docs = real.post("/analyze_files", json={"files": files}).json()["documents"]
        for fmt in ("csv", "jsonl"):
            page = real.post(f"/export?format={fmt}", json={"documents": docs})
            assert page.status_code == 200
            target = tmp_path / f"cli-{cli_input.stem}.{fmt}"
            assert (
                predict(
                    [
                        "--model",
                        str(baseline_run),
                        "--input",
                        str(cli_input),
                        "--output",
                        str(target),
                        "--format",
                        fmt,
                        "--quiet",
                        "--threads",
                        "1",
                    ]
                )
                == 0
            )
            assert page.content == target.read_bytes(), (cli_input, fmt)


def test_actor_summary_equals_the_actor_report(real, tmp_path):
    from vistance.actors import main as actors

    out = real.post("/analyze_files", json={"files": upload(*sorted(RAW.glob("*.txt"))), "min_claims": 2}).json()
    assert out["speakers"] is True and out["min_claims"] == 2
    export = tmp_path / "pred.csv"
    export.write_bytes(real.post("/export?format=csv", json={"documents": out["documents"]}).content)
    assert actors([str(export), "--min-claims", "2", "--out", str(tmp_path / "rep")]) == 0
    with (tmp_path / "rep" / "actors.csv").open(encoding="utf-8") as f:
        expected = list(csv.DictReader(f))
    assert [{k: "" if v is None else str(v) for k, v in row.items()} for row in out["actors"]] == expected
    assert len(expected) > 3 and any(r["actor"] == "other" for r in expected)
    # each document's speakers: the same figures over its own claims, every speaker on its own row
    doc = out["documents"][0]
    claims = [s for s in doc["sentences"] if s["claim"] == "claim"]
    assert sum(a["claims"] for a in doc["speakers"]) == len(claims)
    named = {a["actor"]: a for a in doc["speakers"]}
    for s in claims:
        assert named[s["speaker"] or "(unattributed)"][s["stance"]] >= 1
