"""The one table reader (JSONL, CSV, TSV, Parquet, gzip) and the one article -> sentences function that
``predict`` and ``batch`` share, so both score the same sentences with the same ids."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from vistance import batch
from vistance.data.articles import article_sentences
from vistance.data.tables import count_rows, iter_table, read_table, table_format, table_stem
from vistance.errors import DataError, InputError
from vistance.inference.cli import read_input

ROWS = [
    {"id": "a", "text": "Nga sẵn sàng đàm phán.", "date": "2025-11-17"},
    {"id": "b", "text": 'Ukraine bác bỏ, nói "không".', "date": ""},
]
ARTICLE = "date 2025-11-01\nTổng thống Zelensky nói Ukraine sẵn sàng đàm phán.\n\nNga bác bỏ đề xuất này."


def write(path: Path, rows: list[dict]) -> Path:
    fmt, gz = table_format(path)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
        return path
    if fmt == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        sep = "\t" if fmt == "tsv" else ","
        import csv
        import io

        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=sep, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        text = out.getvalue()
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("name", ["t.jsonl", "t.csv", "t.tsv", "t.parquet", "t.jsonl.gz", "t.csv.gz", "t.tsv.gz"])
def test_every_format_gives_the_same_rows(tmp_path, name):
    path = write(tmp_path / name, ROWS)
    table = read_table(path)
    assert table.columns == ["id", "text", "date"]
    assert [r for _, r in table.rows] == ROWS
    assert [r["text"] for _, r in iter_table(path, path.read_bytes())] == [r["text"] for r in ROWS]
    assert count_rows(path) == 2
    assert table_stem(path) == "t"


def test_parquet_reads_only_the_columns_asked_for(tmp_path):
    path = write(tmp_path / "t.parquet", ROWS)
    assert [r for _, r in iter_table(path, columns=("id", "title"))] == [{"id": "a"}, {"id": "b"}]


def test_bad_files_are_one_line_naming_the_file(tmp_path):
    (tmp_path / "x.jsonl.gz").write_bytes(b"not gzip")
    (tmp_path / "x.parquet").write_bytes(b"not parquet")
    (tmp_path / "x.csv").write_bytes("text\nhòa bình\n".encode("latin-1", "replace") + b"\xff\n")
    (tmp_path / "x.xml").write_text("<a/>")
    for name, message in [
        ("x.jsonl.gz", "not a readable gzip file"),
        ("x.parquet", "not a readable Parquet file"),
        ("x.csv", "not UTF-8 text"),
        ("x.xml", "unsupported file type"),
        ("missing.jsonl", "no such file"),
    ]:
        with pytest.raises(InputError, match=f"{name}: {message}"):
            read_table(tmp_path / name, InputError)
    with pytest.raises(DataError, match="x.parquet: not a readable Parquet file"):
        list(iter_table(tmp_path / "x.parquet"))


def test_article_sentences_put_the_title_first_and_the_row_date_wins():
    rows = article_sentences(ARTICLE, "n1", date="2025-12-01", title="  Nga và  Ukraine ")
    assert rows[0] == {
        "id": "n1-title",
        "text": "Nga và Ukraine",
        "article": "n1",
        "date": "2025-12-01",
        "kind": "title",
    }
    assert [r["id"] for r in rows[1:]] == ["n1-00", "n1-01"]
    assert {r["date"] for r in rows} == {"2025-12-01"}
    assert article_sentences(ARTICLE, "n1")[0]["date"] == "2025-11-01"  # the marker, without a row date
    assert article_sentences("", "empty") == []
    assert [r["id"] for r in article_sentences("", "t", title="Tiêu đề")] == ["t-title"]


@pytest.mark.parametrize("name", ["news.jsonl", "news.csv", "news.parquet", "news.jsonl.gz"])
def test_predict_and_batch_read_articles_alike(tmp_path, name):
    """predict (inference/cli.py) and batch score the same sentences, the title as ``<id>-title``, in one order."""
    rows = [
        {"id": "n1", "title": "Nga nói sẵn sàng đàm phán", "text": ARTICLE, "date": "2025-12-01"},
        {"id": "n2", "title": "", "text": "Mỹ kêu gọi ngừng bắn.", "date": ""},
        {"id": "n3", "title": "", "text": "   ", "date": ""},
    ]
    path = write(tmp_path / name, rows)
    predicted, info = read_input(path, articles=True)
    scored, counts = batch.shard_sentences(path, path.read_bytes(), articles=True, text_field="text")
    assert predicted == scored
    assert [s["id"] for s in predicted] == ["n1-title", "n1-00", "n1-01", "n2-00"]
    assert predicted[0]["kind"] == "title" and predicted[0]["text"] == "Nga nói sẵn sàng đàm phán"
    assert (info["articles"], info["skipped"]) == (counts["articles"], counts["skipped"]) == (2, 1)


def test_predict_and_batch_read_sentence_tables_alike(tmp_path):
    path = write(tmp_path / "s.tsv", ROWS)
    predicted, _ = read_input(path)
    scored, _ = batch.shard_sentences(path, path.read_bytes(), articles=False, text_field="text")
    assert [(s["id"], s["text"]) for s in predicted] == [(s["id"], s["text"]) for s in scored]
