"""One home per job: checks on the source tree that keep duplicates from coming back."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "vistance"


def _sources():
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), path.read_text(encoding="utf-8")


def test_progress_bars_come_from_logs_progress():
    direct = [
        rel for rel, text in _sources() if rel != "logs.py" and re.search(r"^\s*from tqdm|^\s*import tqdm", text, re.M)
    ]
    assert direct == [], f"use vistance.logs.progress instead of tqdm in {direct}"


def test_tables_are_read_by_data_tables():
    readers = [
        rel
        for rel, text in _sources()
        if rel != "data/tables.py"
        and re.search(r"csv\.(DictReader|reader)\(|gzip\.(open|decompress)\(|pq\.(ParquetFile|read_table)\(", text)
    ]
    assert readers == [], f"read tables with vistance.data.tables (iter_table / read_table) in {readers}"


def test_intervals_are_defined_in_metrics_intervals():
    defined = [
        rel
        for rel, text in _sources()
        if rel != "metrics/intervals.py" and re.search(r"^def (\w*bootstrap\w*|wilson|net_interval)\(", text, re.M)
    ]
    assert defined == [], f"put intervals in vistance.metrics.intervals, not in {defined}"


def test_html_is_written_by_templates():
    builders = [
        rel
        for rel, text in _sources()
        if re.search(r"html\.escape\(|<(table|tr|td|th|div|span|p|h1|h2|figure|img)[ >]", text)
    ]
    assert builders == [], f"write HTML in a template under resources/templates, not in {builders}"
