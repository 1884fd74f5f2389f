"""The archive benchmark: its shards and its table, and (slow) a small run through Ray."""

import json

import pytest

from vistance.bench import batch as bench_batch


def test_archive_shards_hold_every_sentence_once(tmp_path):
    sentences = [f"câu {i}" for i in range(10)]
    folder = bench_batch.write_archive(tmp_path, sentences, shards=3)
    rows = [json.loads(line) for f in sorted(folder.glob("*.jsonl")) for line in f.read_text("utf-8").splitlines()]
    assert sorted(r["text"] for r in rows) == sorted(sentences) and len({r["id"] for r in rows}) == 10
    assert [len(f.read_text("utf-8").splitlines()) for f in sorted(folder.glob("*.jsonl"))] == [4, 3, 3]


def test_report_is_one_row_per_model():
    one = {"sentences": 100, "seconds": 1.0, "end_to_end": 100.0, "steady": 120.0}
    r = {
        "runs": {"baseline": {"local": one, "ray1": one, "ray2": one}},
        "shards": 8,
        "cpu_count": 2,
        "threads_local": 1,
        "ray_start_seconds": 4.2,
        "load_average_before": 0.1,
        "load_average_after": 0.2,
    }
    table = bench_batch.report(r, [1, 2])
    assert "| baseline | 100.0 (120.0) | 100.0 (120.0) | 100.0 (120.0)  |" in table
    assert "Ray start 4.2 s" in table and "load average" not in table


@pytest.mark.slow
def test_benchmark_runs_local_and_on_ray(baseline_run, tmp_path, capsys):
    pytest.importorskip("ray", reason='ray is not installed (pip install -e ".[scale]")')
    out = tmp_path / "bench.json"
    argv = [
        "--n",
        "60",
        "--shards",
        "2",
        "--workers",
        "1",
        "--no-e5",
        "--baseline",
        str(baseline_run),
        "--tiny",
        str(baseline_run),
        "--json",
        str(out),
    ]
    assert bench_batch.main(argv) == 0
    r = json.loads(out.read_text())
    assert set(r["runs"]["baseline"]) == {"local", "ray1"} and r["runs"]["baseline"]["ray1"]["sentences"] == 60
    assert "| baseline |" in capsys.readouterr().out
