"""How does the HTTP service hold load? ``python -m vistance.bench serve [--model RUN] [--seconds 10]``.

Starts ``python -m vistance.serve`` on 127.0.0.1 (a free port; never another address) with the model
(default: the newest complete ``runs/baseline`` run), then runs 1, 8 and 32 concurrent clients for
``--seconds`` each, once per ``--engines`` pair (default: torch fp32, then the checkpoint's default engine),
every client a keep-alive connection posting one corpus sentence to ``/predict``
as soon as its previous answer arrived. Prints, per client count, the latency p50/p99 and the
throughput (requests/s), and the answers by status.

:func:`run_load` is also the load test's generator (``tests/test_serve_load.py``): with ``mix=True``
the requests cycle through valid ``/predict`` batches, bodies over the size limit, malformed JSON
and ``/analyze`` on a long article.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ..data import read_jsonl

ROOT = Path(__file__).resolve().parents[3]
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def start_server(model: str | Path, *extra: str, timeout: float = 120) -> tuple[subprocess.Popen, str]:
    """``python -m vistance.serve`` on loopback; returns the process and its base URL once /health answers."""
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vistance.serve",
            "--model",
            str(model),
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{base}/health", timeout=2).raise_for_status()
            return proc, base
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the server did not start: {proc.stderr.read()[-2000:]}") from None
            time.sleep(0.2)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def corpus_texts() -> tuple[list[str], str]:
    """Seed sentences, and one long article (every raw article, one after another)."""
    seed = ROOT / "data" / "annotated" / "seed.jsonl"
    sentences = [row["text"] for row in read_jsonl(seed)]
    article = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "data" / "raw").glob("*.txt")))
    return sentences, article


def request_for(i: int, sentences: Sequence[str], article: str, mix: bool, oversize: int) -> tuple[str, bytes, int]:
    """(path, body, the status a healthy service answers) of the client's i-th request."""
    if not mix or i % 2 == 0:
        texts = [sentences[(i + k) % len(sentences)] for k in range(1 if not mix else 1 + i % 8)]
        return "/predict", json.dumps({"texts": texts}, ensure_ascii=False).encode(), 200
    kind = (i // 2) % 3
    if kind == 0:
        return "/predict", b'{"texts": ["' + b"x" * oversize + b'"]}', 413
    if kind == 1:
        return "/predict", b'{"texts": ["Nga s\xe1\xba\xb5n s\xc3\xa0ng", ', 422
    return "/analyze", json.dumps({"text": article, "id": f"a{i}"}, ensure_ascii=False).encode(), 200


def run_load(
    base: str, clients: int, seconds: float, *, mix: bool = False, oversize: int = 0, max_requests: int = 100_000
) -> dict:
    """``clients`` threads, each with its own keep-alive connection, sending requests back to back."""
    import httpx

    sentences, article = corpus_texts()
    latencies: list[float] = []
    statuses: Counter = Counter()
    unexpected: Counter = Counter()  # (path, status) a healthy service would not answer
    errors: Counter = Counter()  # transport errors: refused, reset or dropped connections, timeouts
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    sent = [0]

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=120, headers={"content-type": "application/json"}) as http:
            i = n
            while time.monotonic() < stop:
                with lock:
                    if sent[0] >= max_requests:
                        return
                    sent[0] += 1
                path, body, want = request_for(i, sentences, article, mix, oversize)
                i += clients
                t0 = time.perf_counter()
                try:
                    r = http.post(path, content=body)
                except httpx.TransportError as e:
                    with lock:
                        errors[type(e).__name__] += 1
                    continue
                dt = time.perf_counter() - t0
                ok_busy = r.status_code == 503 and "retry-after" in r.headers
                with lock:
                    statuses[r.status_code] += 1
                    if r.status_code == want:
                        latencies.append(dt)
                    elif not ok_busy:
                        unexpected[f"{path} {r.status_code}"] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")

    return {
        "clients": clients,
        "seconds": round(wall, 2),
        "requests": sum(statuses.values()),
        "throughput": sum(statuses.values()) / wall,
        "p50_ms": 1000 * pct(0.50),
        "p99_ms": 1000 * pct(0.99),
        "mean_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan"),
        "statuses": dict(sorted(statuses.items())),
        "unexpected": dict(unexpected),
        "errors": dict(errors),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vistance.bench serve", description=__doc__.split("\n")[0])
    p.add_argument("--model", help="run or checkpoint folder (default: the newest complete runs/baseline run)")
    p.add_argument("--seconds", type=float, default=10, help="seconds per client count (default 10)")
    p.add_argument("--clients", default="1,8,32", help="client counts, comma-separated (default 1,8,32)")
    p.add_argument("--mix", action="store_true", help="mix in oversized bodies, malformed JSON and long /analyze")
    p.add_argument("--threads", default="auto", help="the server's torch threads (default auto)")
    p.add_argument(
        "--engines",
        default="torch:fp32,auto:auto",
        help="ENGINE:PRECISION pairs to serve one after the other, comma-separated (default "
        "torch:fp32,auto:auto: fp32 against the default engine the checkpoint's export chose)",
    )
    args = p.parse_args(argv)
    model = args.model
    if model is None:
        from .batch import latest_run

        model = latest_run("baseline")
        if model is None:
            print("error: no complete runs/baseline run; train one or give --model", file=sys.stderr)
            return 2
    pairs = [tuple(x.split(":", 1)) for x in args.engines.split(",") if x]
    if any(len(x) != 2 for x in pairs):
        print("error: --engines takes ENGINE:PRECISION pairs, e.g. torch:fp32,openvino:int8", file=sys.stderr)
        return 2
    print("| engine | clients | requests | throughput (req/s) | p50 (ms) | p99 (ms) | answers by status | errors |")
    print("|---|--:|--:|--:|--:|--:|---|---|")
    for engine, precision in pairs:
        proc, base = start_server(
            model, "--threads", args.threads, "--max-body-bytes", "200000", "--engine", engine, "--precision", precision
        )
        try:
            import psutil

            print(
                f"model {model} ({engine} {precision}), server on {base} (pid {proc.pid}), {args.seconds:g} s per "
                "client count",
                file=sys.stderr,
            )
            for c in [int(x) for x in args.clients.split(",")]:
                r = run_load(base, c, args.seconds, mix=args.mix, oversize=250_000)
                print(
                    f"| {engine} {precision} | {c} | {r['requests']} | {r['throughput']:.1f} | {r['p50_ms']:.1f} | "
                    f"{r['p99_ms']:.1f} | {r['statuses']} | {r['errors'] or 0} |",
                    flush=True,
                )
            rss = psutil.Process(proc.pid).memory_info().rss / 2**20
            print(f"server RSS at the end: {rss:.0f} MiB", file=sys.stderr)
        finally:
            stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
