"""The actor report: numbers in actors.csv from hand-made predictions, the HTML, and each bad input's message."""

import csv
import json

import pytest

from vistance.actors import main
from vistance.metrics.intervals import net_interval, wilson

SCORES = {
    "favor": {"favor": 0.8, "against": 0.1, "neutral": 0.1},
    "against": {"favor": 0.1, "against": 0.7, "neutral": 0.2},
    "neutral": {"favor": 0.2, "against": 0.2, "neutral": 0.6},
}


def row(i, speaker, stance, date, claim="claim", article="a1"):
    text = f"{speaker or 'Ai đó'} cho biết điều số {i}."
    return {
        "id": f"{article}-{i:02d}",
        "text": text,
        "article": article,
        "date": date,
        "position": i,
        "kind": "body",
        "claim": claim,
        "claim_score": 0.9,
        "stance": stance if claim == "claim" else None,
        "stance_scores": SCORES[stance] if stance else None,
        "speaker": speaker,
        "speaker_span": [0, len(speaker)] if speaker else None,
    }


ROWS = [
    row(0, "Vladimir Putin", "favor", "2025-01-10"),
    row(1, "Vladimir Putin", "favor", "2025-01-20"),
    row(2, "Vladimir Putin", "against", "2025-02-03"),
    row(3, "Vladimir Putin", "neutral", "2025-02-14"),
    row(4, "Vladimir Putin", "favor", None),  # undated
    row(5, "Donald Trump", "favor", "2025-01-15"),
    row(6, "Donald Trump", "favor", "2025-03-01"),
    row(7, "Donald Trump", "against", "2025-03-02"),
    row(8, "Dmitry Peskov", "against", "2025-02-01"),  # 1 claim: pooled as other
    row(9, "Nga", "neutral", "2025-03-05"),  # 1 claim: pooled as other
    row(10, None, "favor", "2025-01-05"),  # no speaker found
    row(11, "Donald Trump", "favor", "2025-01-16", claim="not_claim"),  # not a claim: ignored
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def write_csv(path, rows, drop=()):
    """The CSV layout of vistance.predict: stance_scores and speaker_span flattened."""
    flat = []
    for r in rows:
        r = dict(r)
        scores, span = r.pop("stance_scores") or {}, r.pop("speaker_span")
        r.update({f"stance_{k}": scores.get(k, "") for k in ("favor", "against", "neutral")})
        r.update({"speaker_start": span[0] if span else "", "speaker_end": span[1] if span else ""})
        flat.append({k: ("" if v is None else v) for k, v in r.items() if k not in drop})
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(flat[0]))
        w.writeheader()
        w.writerows(flat)
    return path


def read_actors(out):
    with (out / "actors.csv").open(encoding="utf-8") as f:
        return {r["actor"]: r for r in csv.DictReader(f)}


def run(args, capsys):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def test_actor_numbers_html_and_other(tmp_path, capsys):
    pred = write_jsonl(tmp_path / "pred.jsonl", ROWS)
    out = tmp_path / "report"
    code, printed, _ = run([pred, "--min-claims", "2", "--out", out], capsys)
    assert code == 0 and "11 claims" in printed

    actors = read_actors(out)
    assert list(actors) == ["Vladimir Putin", "Donald Trump", "other", "(unattributed)"]
    putin = actors["Vladimir Putin"]
    assert (putin["claims"], putin["favor"], putin["against"], putin["neutral"]) == ("5", "3", "1", "1")
    assert float(putin["favor_share"]) == pytest.approx(0.6)
    assert float(putin["net_index"]) == pytest.approx(0.4)  # (3 - 1) / 5
    assert float(putin["net_low"]) < 0.4 < float(putin["net_high"])
    assert float(putin["favor_low"]) < 0.6 < float(putin["favor_high"])
    assert (putin["dated"], putin["undated"], putin["first_date"], putin["last_date"]) == (
        "4",
        "1",
        "2025-01-10",
        "2025-02-14",
    )
    trump = actors["Donald Trump"]
    assert (trump["claims"], trump["favor"], trump["against"]) == ("3", "2", "1")
    assert float(trump["net_index"]) == pytest.approx(1 / 3, abs=1e-4)  # the CSV keeps 4 decimals
    other = actors["other"]
    assert (other["claims"], other["speakers"], other["against"], other["neutral"]) == ("2", "2", "1", "1")
    assert float(other["net_index"]) == pytest.approx(-0.5)
    assert actors["(unattributed)"]["claims"] == "1"

    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 3  # heat map + a timeline per top actor
    for name in ("Vladimir Putin", "Donald Trump", "(unattributed)", "Dmitry Peskov (1)", "2025-02"):
        assert name in page
    assert "1 of 11 claims are undated" in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")  # self-contained


def test_weekly_periods(tmp_path, capsys):
    pred = write_jsonl(tmp_path / "pred.jsonl", ROWS)
    code, _, _ = run([pred, "--by", "week", "--min-claims", "2", "--out", tmp_path / "w"], capsys)
    assert code == 0
    page = (tmp_path / "w" / "report.html").read_text(encoding="utf-8")
    assert "2025-W02" in page and "per week" in page


def test_claim_only_file_counts_claims_and_says_stance_is_unavailable(tmp_path, capsys):
    claim_only = [dict(r, stance=None, stance_scores=None) for r in ROWS]
    pred = write_csv(tmp_path / "claims.csv", claim_only)
    out = tmp_path / "r"
    assert run([pred, "--min-claims", "2", "--out", out], capsys)[0] == 0
    actors = read_actors(out)
    assert actors["Vladimir Putin"]["claims"] == "5" and actors["Vladimir Putin"]["net_index"] == ""
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Stance is unavailable" in page and "data:image/png" not in page


def test_a_claim_only_file_among_others_is_named(tmp_path, capsys):
    a = write_jsonl(tmp_path / "a.jsonl", ROWS)
    b = write_csv(tmp_path / "b.csv", [dict(r, stance=None, stance_scores=None) for r in ROWS])  # same ids
    out = tmp_path / "r"
    assert run([a, b, "--min-claims", "2", "--out", out], capsys)[0] == 0
    assert read_actors(out)["Vladimir Putin"]["claims"] == "10"
    assert f"No stance in {b}" in (out / "report.html").read_text(encoding="utf-8")


def test_file_without_dates_reports_them_and_draws_no_timeline(tmp_path, capsys):
    pred = write_csv(tmp_path / "nodate.csv", ROWS, drop=("date",))
    out = tmp_path / "r"
    assert run([pred, "--out", out], capsys)[0] == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "11 of 11 claims are undated" in page and "has no date column" in page
    assert "No claim is dated, so there is no timeline" in page and "data:image/png" not in page
    assert read_actors(out)["Vladimir Putin"]["undated"] == "5"


def test_dates_from_published_at_or_the_named_column(tmp_path, capsys):
    moved = [
        {
            **{k: v for k, v in r.items() if k != "date"},
            "published_at": f"{r['date']}T09:00:00+07:00" if r["date"] else None,
        }
        for r in ROWS
    ]
    out = tmp_path / "r"
    assert run([write_jsonl(tmp_path / "p.jsonl", moved), "--min-claims", "2", "--out", out], capsys)[0] == 0
    assert read_actors(out)["Vladimir Putin"]["first_date"] == "2025-01-10"  # recognised without an option
    renamed = [{**{k: v for k, v in r.items() if k != "date"}, "ngay": r["date"]} for r in ROWS]
    pred = write_jsonl(tmp_path / "n.jsonl", renamed)
    assert run([pred, "--min-claims", "2", "--out", out], capsys)[0] == 0
    assert read_actors(out)["Vladimir Putin"]["dated"] == "0"
    assert run([pred, "--min-claims", "2", "--date-field", "ngay", "--out", out], capsys)[0] == 0
    assert read_actors(out)["Vladimir Putin"]["dated"] == "4"
    code, _, err = run([pred, "--date-field", "when", "--out", out], capsys)
    assert code == 2 and "no 'when' column for --date-field" in err and "\n" not in err


def test_low_confidence_speakers_are_unattributed_and_one_article_actors_flagged(tmp_path, capsys):
    rows = [
        dict(row(i, "Sergey Lavrov", "neutral", "2026-01-20", article="long"), speaker_confidence=0.94)
        for i in range(6)
    ]
    rows += [
        dict(row(6 + i, "Sergey Lavrov", "neutral", "2026-01-21", article=f"short{i}"), speaker_confidence=0.9)
        for i in range(2)
    ]
    rows += [
        dict(row(10 + i, "Vladimir Putin", "favor", "2026-01-22", article=f"p{i}"), speaker_confidence=0.97)
        for i in range(3)
    ]
    rows += [
        dict(row(20 + i, "Sergey Lavrov", "neutral", "2026-01-20", article="long"), speaker_confidence=0.41)
        for i in range(4)
    ]  # carried over from earlier sentences
    out = tmp_path / "r"
    code, printed, _ = run([write_jsonl(tmp_path / "p.jsonl", rows), "--out", out], capsys)
    assert code == 0 and "4 low-confidence speakers unattributed, 1 actor(s) mostly from one article" in printed
    actors = read_actors(out)
    lavrov, putin = actors["Sergey Lavrov"], actors["Vladimir Putin"]
    assert (lavrov["claims"], lavrov["articles"], lavrov["top_article"]) == ("8", "3", "long")
    assert float(lavrov["top_article_share"]) == 0.75 and lavrov["mostly_one_article"] == "1"
    assert float(lavrov["speaker_confidence"]) == pytest.approx((6 * 0.94 + 2 * 0.9) / 8, abs=1e-3)
    assert (putin["articles"], putin["mostly_one_article"]) == ("3", "0")
    assert actors["(unattributed)"]["claims"] == "4"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "mostly one article" in page and "4 with a speaker less sure than 0.50" in page
    # 0 keeps every attribution
    assert run([tmp_path / "p.jsonl", "--min-speaker-confidence", "0", "--out", out], capsys)[0] == 0
    assert read_actors(out)["Sergey Lavrov"]["claims"] == "12" and "(unattributed)" not in read_actors(out)


def test_parquet_folder_and_globs(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    folder = tmp_path / "batch"
    folder.mkdir()
    flat = write_csv(tmp_path / "tmp.csv", ROWS)
    with flat.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for i, part in enumerate((rows[:6], rows[6:])):
        pq.write_table(pa.Table.from_pylist(part), folder / f"part-{i}.parquet")
    (folder / "_SUCCESS").write_text("", encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(rows[:1]), folder / "_metadata.parquet")  # bookkeeping: skipped
    out = tmp_path / "r"
    assert run([folder, "--min-claims", "2", "--out", out], capsys)[0] == 0
    assert read_actors(out)["Vladimir Putin"]["claims"] == "5"

    write_jsonl(tmp_path / "x1.jsonl", ROWS[:4])
    write_jsonl(tmp_path / "x2.jsonl", ROWS[4:])
    assert run([tmp_path / "x*.jsonl", "--min-claims", "2", "--out", tmp_path / "g"], capsys)[0] == 0
    assert read_actors(tmp_path / "g")["Vladimir Putin"]["claims"] == "5"


def test_bad_inputs_are_one_line(tmp_path, capsys):
    def error_of(*paths):
        code, _, err = run([*paths, "--out", tmp_path / "out"], capsys)
        assert code == 2 and err.startswith("error: ") and "\n" not in err
        return err

    old_rows = [{k: v for k, v in r.items() if k not in ("speaker", "speaker_span")} for r in ROWS]
    no_speaker = write_jsonl(tmp_path / "old.jsonl", old_rows)
    err = error_of(no_speaker)
    assert "old.jsonl" in err and "without speaker attribution" in err and "rerun python -m vistance.predict" in err

    good = write_jsonl(tmp_path / "new.jsonl", ROWS)
    err = error_of(good, no_speaker)
    assert "mixed inputs" in err and "old.jsonl without speakers" in err and "new.jsonl with speakers" in err

    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    assert "empty.jsonl: empty" in error_of(tmp_path / "empty.jsonl")
    assert "no such file" in error_of(tmp_path / "missing.jsonl")
    assert "no file matches" in error_of(tmp_path / "nothing-*.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\nnot json\n', encoding="utf-8")
    assert "bad.jsonl:2: malformed JSON" in error_of(tmp_path / "bad.jsonl")
    write_jsonl(tmp_path / "sentences.jsonl", [{"id": "x", "text": "Một câu."}])
    assert "not a prediction file (no claim column)" in error_of(tmp_path / "sentences.jsonl")
    (tmp_path / "empty-dir").mkdir()
    assert "no .parquet shards" in error_of(tmp_path / "empty-dir")


def test_intervals():
    lo, hi = wilson(5, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.2366, 0.7634)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)
    lo, hi = net_interval(3, 0, 3)  # all favor: still an interval, not a point at +1
    assert -1 < lo < 1 and hi == 1.0
    assert net_interval(0, 0, 0) == (0.0, 0.0)
