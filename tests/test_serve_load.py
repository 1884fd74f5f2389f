"""The service under load: 32 clients against a real uvicorn server on 127.0.0.1 (slow).

A mix of valid /predict batches, bodies over the size limit (413), malformed JSON (422) and /analyze
on a long article, for three minutes (``VISTANCE_LOAD_SECONDS``; CI runs it, marker ``faults``):
no 5xx except the deliberate 503 + Retry-After of
back-pressure, no dropped connection, and the server's memory flat after warm-up.
"""

import os

import pytest

from vistance.bench.serve import run_load, start_server, stop_server

CLIENTS = 32


@pytest.mark.slow
@pytest.mark.faults
def test_32_clients_get_no_5xx_no_dropped_connection_and_flat_memory(tiny_run):
    psutil = pytest.importorskip("psutil")
    proc, base = start_server(tiny_run, "--max-body-bytes", "200000", "--threads", "1")
    try:
        server = psutil.Process(proc.pid)
        warm = run_load(base, CLIENTS, 15, mix=True, oversize=250_000, max_requests=20_000)
        rss_warm = server.memory_info().rss
        seconds = float(os.environ.get("VISTANCE_LOAD_SECONDS", "180"))  # several minutes of load (CI runs it)
        load = run_load(base, CLIENTS, seconds, mix=True, oversize=250_000, max_requests=int(1000 * seconds))
        rss_end = server.memory_info().rss
    finally:
        stop_server(proc)
    print(
        f"\nwarm-up: {warm}\nload: {load}\nRSS after warm-up {rss_warm / 2**20:.0f} MiB, "
        f"after load {rss_end / 2**20:.0f} MiB"
    )
    for r in (warm, load):
        assert r["errors"] == {}, r  # no refused, reset or dropped connection, no client timeout
        assert r["unexpected"] == {}, r  # every answer the expected one (or a 503 with Retry-After)
        assert not [s for s in r["statuses"] if s >= 500 and s != 503], r
    assert {200, 413, 422} <= set(load["statuses"]) and load["requests"] >= 200
    assert load["statuses"].get(503, 0) == 0  # 32 clients fit the default queue of 32: none refused
    assert rss_end < 1.15 * rss_warm, (rss_warm, rss_end)


@pytest.mark.subprocess
def test_bench_serve_prints_p50_p99_and_throughput_at_1_8_and_32_clients(baseline_run, capsys):
    pytest.importorskip("psutil")
    from vistance.bench.serve import main

    assert main(["--model", str(baseline_run), "--seconds", "1", "--threads", "1", "--engines", "torch:fp32"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "| engine | clients | requests | throughput (req/s) | p50 (ms) | p99 (ms) | answers by status | errors |"
    )
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in out[2:]]
    assert [(row[0], row[1]) for row in rows] == [("torch fp32", "1"), ("torch fp32", "8"), ("torch fp32", "32")]
    for _engine, _clients, requests, throughput, p50, p99, statuses, errors in rows:
        assert int(requests) > 0 and float(throughput) > 0 and 0 < float(p50) <= float(p99), rows
        assert statuses == f"{{200: {requests}}}" and errors == "0", rows
