"""The HTTP service: endpoints, limits (413/422 with a clear message), and one real server on loopback."""

import json

import pytest
from fastapi.testclient import TestClient
from test_predict import ARTICLE, FakePredictor

from vistance import __version__
from vistance.inference import StanceClassifier
from vistance.inference.serve import ServeLimits, create_app

LABELS = ["not_claim", "favor", "against", "neutral"]


@pytest.fixture
def client():
    table = {"Kiev phản đối đề xuất này.": [0.1, 0.1, 0.7, 0.1]}
    clf = StanceClassifier(FakePredictor(LABELS, table, default=[0.7, 0.1, 0.1, 0.1], path="ckpt/joint"))
    limits = ServeLimits(max_body_bytes=2_000, max_texts=3, max_chars=300)
    with TestClient(create_app(clf, limits)) as c:
        yield c


def test_health_describes_the_model(client):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["vistance_version"] == __version__
    assert (h["model"], h["labels"], h["task"], h["kind"]) == ("ckpt/joint", LABELS, "joint", "tiny")
    assert h["limits"] == {
        "max_body_bytes": 2_000,
        "max_texts": 3,
        "max_chars": 300,
        "max_export_bytes": 4_000_000,
        "max_pending": 32,
        "timeout_s": 30.0,
    }
    assert h["pending"] == 0


def test_predict_returns_one_result_per_text(client):
    r = client.post("/predict", json={"texts": ["Kiev phản đối đề xuất này.", "Trời mưa."]})
    assert r.status_code == 200
    a, b = r.json()["results"]
    assert a["text"] == "Kiev phản đối đề xuất này." and a["claim"] == "claim" and a["stance"] == "against"
    assert a["claim_score"] == pytest.approx(0.9)
    assert b["stance"] is None and set(b["stance_scores"]) == {"favor", "against", "neutral"}
    assert client.post("/predict", json={"texts": []}).json() == {"results": []}


def test_analyze_returns_the_parsed_article(client):
    r = client.post("/analyze", json={"text": ARTICLE, "id": "n7"})
    assert r.status_code == 200
    out = r.json()
    assert [s["id"] for s in out["sentences"]] == ["n7-00", "n7-01", "n7-02", "n7-03"]
    assert [s["kind"] for s in out["sentences"]] == ["caption", "heading", "body", "body"]
    s = out["sentences"][3]
    assert out["text"][s["start"] : s["end"]] == s["text"] and s["stance"] == "against"
    assert out["counts"]["against"] == 1


def test_limits_are_answered_with_413_and_422(client):
    r = client.post("/predict", json={"texts": ["a", "b", "c", "d"]})
    assert r.status_code == 422 and r.json()["detail"] == "too many texts: 4 > limit 3 per request"
    r = client.post("/predict", json={"texts": ["ok", "x" * 301]})
    assert r.status_code == 422 and r.json()["detail"] == "texts[1] too long: 301 characters > limit 300"
    r = client.post("/analyze", json={"text": "x" * 301})
    assert r.status_code == 422 and "text too long" in r.json()["detail"]
    r = client.post("/predict", json={"texts": ["x" * 250] * 3 + ["y" * 2000]})
    assert r.status_code == 413 and r.json()["detail"].startswith("request body too large")
    assert "limit 2000 bytes" in r.json()["detail"]


def test_chunked_body_without_length_is_still_limited(client):
    def chunks():
        for _ in range(10):
            yield b'{"texts": ["' + b"x" * 500 + b'"]}'

    r = client.post("/predict", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and "at least" in r.json()["detail"]


def test_bad_json_and_wrong_shapes_are_422_with_a_readable_message(client):
    r = client.post("/predict", content=b'{"texts": [', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("invalid request: malformed JSON")
    r = client.post("/predict", json={"texts": "one string"})
    assert r.status_code == 422 and "body.texts" in r.json()["detail"] and "list" in r.json()["detail"]
    r = client.post("/predict", content=b'{"texts": ["a"]}')  # JSON, but not declared as such
    assert r.status_code == 422 and "content-type: application/json" in r.json()["detail"]
    r = client.post("/analyze", json={})
    assert r.status_code == 422 and "body.text: Field required" in r.json()["detail"]


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="max-texts"):
        ServeLimits(max_texts=0)


@pytest.mark.subprocess
def test_real_server_on_loopback(baseline_run):
    """``python -m vistance.serve`` in a subprocess on a free port, queried over real HTTP, then stopped."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vistance.serve", "--model", str(baseline_run), "--port", str(port), "--max-texts", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"{base}/health", timeout=2).json()
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start:\n{proc.stdout.read()}") from None
                time.sleep(0.2)
        assert health["kind"] == "baseline" and health["vistance_version"] == __version__
        r = httpx.post(f"{base}/predict", json={"texts": ["Nga tuyên bố sẵn sàng đàm phán hòa bình."]})
        assert r.status_code == 200
        (res,) = r.json()["results"]
        assert res["claim"] in ("claim", "not_claim") and 0 <= res["claim_score"] <= 1
        r = httpx.post(f"{base}/predict", json={"texts": ["a", "b", "c"]})
        assert r.status_code == 422 and "limit 2" in r.json()["detail"]
        r = httpx.post(
            f"{base}/analyze",
            content=json.dumps({"text": ARTICLE}).encode(),
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 200 and len(r.json()["sentences"]) == 4
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_health_answers_while_predictions_fill_the_thread_pool():
    import threading
    import time

    import anyio.to_thread

    entered, release = threading.Event(), threading.Event()

    class Slow(FakePredictor):
        def predict_proba(self, texts, batch_size=32, progress=False, prepared=False):
            entered.set()
            release.wait(10)
            return super().predict_proba(texts, batch_size, progress, prepared)

    clf = StanceClassifier(Slow(LABELS, path="ckpt/joint"))
    with TestClient(create_app(clf)) as c:
        # one worker thread for sync endpoints, held by a prediction that waits
        c.portal.call(lambda: setattr(anyio.to_thread.current_default_thread_limiter(), "total_tokens", 1))
        busy = threading.Thread(target=lambda: c.post("/predict", json={"texts": ["a"]}))
        busy.start()
        try:
            assert entered.wait(10)
            start = time.monotonic()
            assert c.get("/health").json()["status"] == "ok"
            assert time.monotonic() - start < 5  # not queued behind the 10 s prediction
        finally:
            release.set()
            busy.join()


class Gated(FakePredictor):
    """Holds each prediction until ``release`` is set (or ``hold`` seconds pass)."""

    def __init__(self, *args, hold: float = 10, **kwargs):
        import threading

        super().__init__(*args, **kwargs)
        self.entered, self.release, self.hold = threading.Event(), threading.Event(), hold

    def predict_proba(self, texts, batch_size=32, progress=False, prepared=False):
        self.entered.set()
        self.release.wait(self.hold)
        return super().predict_proba(texts, batch_size, progress, prepared)


def test_a_full_queue_is_answered_503_with_retry_after():
    """Back-pressure: max_pending requests hold or wait for the model; the next is refused at once."""
    import threading
    import time

    predictor = Gated(LABELS, path="ckpt/joint")
    clf = StanceClassifier(predictor)
    with TestClient(create_app(clf, ServeLimits(max_pending=2, timeout_s=20))) as c:
        answers = []
        busy = [
            threading.Thread(target=lambda: answers.append(c.post("/predict", json={"texts": ["a"]}))) for _ in range(2)
        ]
        busy[0].start()
        assert predictor.entered.wait(10)
        busy[1].start()
        deadline = time.monotonic() + 10
        while c.get("/health").json()["pending"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        start = time.monotonic()
        for route, body in (
            ("/predict", {"texts": ["b"]}),
            ("/analyze", {"text": "Nga sẵn sàng."}),
            ("/analyze_many", {"articles": [{"id": "a", "text": "Nga sẵn sàng."}]}),
        ):
            r = c.post(route, json=body)
            assert r.status_code == 503, (route, r.text)
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["detail"].startswith("busy: 2 requests already hold or wait for the model; retry in")
            assert "\n" not in r.json()["detail"]
        assert time.monotonic() - start < 2  # refused at once, not after a wait
        predictor.release.set()
        for t in busy:
            t.join()
        assert [a.status_code for a in answers] == [200, 200]
        assert c.post("/predict", json={"texts": ["c"]}).status_code == 200
        assert c.get("/health").json()["pending"] == 0


def test_requests_have_a_time_limit():
    """504 when the prediction itself runs past the limit; 503 for a request that never reached the model."""
    import threading

    predictor = Gated(LABELS, path="ckpt/joint", hold=3)
    clf = StanceClassifier(predictor)
    with TestClient(create_app(clf, ServeLimits(timeout_s=0.5))) as c:
        queued = []
        first = threading.Thread(target=lambda: queued.append(c.post("/predict", json={"texts": ["a"]})))
        first.start()
        assert predictor.entered.wait(10)
        second = c.post("/analyze", json={"text": "Nga sẵn sàng."})
        first.join()
        assert queued[0].status_code == 504
        assert queued[0].json() == {
            "detail": "the model took longer than the 0.5 s limit of one request; send fewer or shorter texts"
        }
        assert second.status_code == 503 and second.json()["detail"].startswith("busy: waited 0.5 s for the model")
        assert "retry-after" in second.headers
        predictor.release.set()
