"""An HTTP service around :class:`~vistance.inference.StanceClassifier` (FastAPI + uvicorn).

::

    python -m vistance.serve --model RUN_OR_CHECKPOINT [--stance-model M] [--host 127.0.0.1 --port 8000]

    curl -s localhost:8000/health
    curl -s localhost:8000/predict -H 'content-type: application/json' -d '{"texts": ["Nga sẵn sàng đàm phán."]}'
    curl -s localhost:8000/analyze -H 'content-type: application/json' -d '{"text": "…an article…"}'
    # and, in a browser, http://localhost:8000/ : the analyst's page (vistance.inference.page)

The model is loaded once, when the process starts, and shared by every request. Requests are
bounded (body bytes, texts per request, characters per text) because one oversized request would
otherwise hold the CPU for minutes while everyone else waits: too large a body is answered with
413, too many or too long texts and malformed JSON with 422, each with a one-line ``detail``.

**Load.** One prediction runs at a time (torch already uses every core for one batch); at most
``max_pending`` requests may hold or wait for the model, and one more is answered at once with 503
and ``Retry-After`` (back-pressure, instead of a queue that grows until clients time out). A request
that waited ``timeout_s`` without reaching the model gets 503 too; one whose prediction runs past
``timeout_s`` gets 504 (the prediction finishes in the background, still holding the model).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .. import __version__
from ..errors import InputError, VistanceError, exit_on_error
from .classifier import StanceClassifier
from .cli import threads_arg
from .engines import add_arguments as engine_arguments
from .engines import from_args as engine_options
from .page import add_page


@dataclass
class ServeLimits:
    """What one request may ask for."""

    max_body_bytes: int = 1_000_000
    """Largest request body; a long news article is ~50 kB, so 1 MB leaves room for a batch of them."""
    max_texts: int = 256
    """Most sentences per /predict request (about ten seconds of PhoBERT-base on two CPU cores)."""
    max_chars: int = 100_000
    """Longest single text (a sentence for /predict, a whole article for /analyze)."""
    max_export_bytes: int = 4_000_000
    """Largest /export body: results sent back to be written as CSV/JSONL (no model time; results of a
    request at ``max_body_bytes`` are about 2-3 times its size)."""
    max_pending: int = 32
    """Requests that may hold or wait for the model at once; the next one gets 503 with Retry-After."""
    timeout_s: float = 30.0
    """Longest a request may take, waiting for the model included: 503 if it never reached the model, else 504."""

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_texts", "max_chars", "max_export_bytes", "max_pending"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be positive, not {getattr(self, name)}")
        if not self.timeout_s > 0:
            raise InputError(f"--timeout must be above 0 seconds, not {self.timeout_s}")


_NEVER_STARTED = object()


class InferenceGate:
    """Admission to the one model: at most ``max_pending`` requests running or queued, each within ``timeout_s``.

    Used from the event loop: :meth:`run` takes a slot or answers 503 at once, then runs the work in
    a worker thread under the model lock. The slot is given back when the work really ends, so a
    prediction abandoned after its time limit still counts until it stops holding the model.
    """

    def __init__(self, max_pending: int, timeout_s: float):
        self.max_pending, self.timeout_s = max_pending, timeout_s
        self.lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_pending)
        self._pending = 0
        self._count_lock = threading.Lock()
        self.seconds = 0.1  # running mean of one prediction's time, for Retry-After

    @property
    def pending(self) -> int:
        return self._pending

    def busy(self, why: str) -> HTTPException:
        # The wait for a free slot is about the queue ahead times one prediction.
        retry = max(1, math.ceil(self.seconds * self.max_pending / 2))
        return HTTPException(503, f"busy: {why}; retry in {retry} s", headers={"Retry-After": str(retry)})

    async def run(self, fn, *args):
        if not self._slots.acquire(blocking=False):
            raise self.busy(f"{self.max_pending} requests already hold or wait for the model")
        with self._count_lock:
            self._pending += 1
        deadline = time.monotonic() + self.timeout_s
        started = threading.Event()

        def work():
            try:
                if not self.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    return _NEVER_STARTED
                try:
                    started.set()
                    t0 = time.perf_counter()
                    result = fn(*args)
                    self.seconds = 0.8 * self.seconds + 0.2 * (time.perf_counter() - t0)
                    return result
                finally:
                    self.lock.release()
            finally:
                with self._count_lock:
                    self._pending -= 1
                self._slots.release()

        try:
            with anyio.fail_after(self.timeout_s + 0.5):  # the lock wait above times out first
                result = await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            if not started.is_set():
                raise self.busy(f"waited {self.timeout_s:g} s for the model") from None
            raise HTTPException(
                504,
                f"the model took longer than the {self.timeout_s:g} s limit of one request; "
                "send fewer or shorter texts",
            ) from None
        if result is _NEVER_STARTED:
            raise self.busy(f"waited {self.timeout_s:g} s for the model")
        return result


class PredictRequest(BaseModel):
    texts: list[str]
    """Raw sentences; the checkpoint's own preprocessing is applied."""


class AnalyzeRequest(BaseModel):
    text: str
    """A whole article, as pasted from a news site."""
    id: str = "article"
    """Article id used in sentence ids (``<id>-00``, ``<id>-01``, ...)."""


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` (``per_path[path]`` for the paths it names) with 413, before
    the JSON is parsed.

    Checks ``Content-Length`` up front and also counts the bytes actually received, so a chunked
    body without a length cannot slip past. The body is buffered here (it is bounded) and replayed
    to the application: FastAPI turns any error raised while it reads the body into a 400, so the
    check has to happen before FastAPI sees the request.
    """

    def __init__(self, app, max_bytes: int, per_path: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = per_path or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._drain(receive, 0, limit)
                await self._reject(send, int(value), limit)
                return

        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # client went away: nothing to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reject(send, size, limit, at_least=True)
                if message.get("more_body", False):
                    await self._drain(receive, size, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _drain(receive, size: int, limit: int) -> None:
        """Read and drop the rest of a refused body (up to 16 times the limit): a client still sending
        when the answer comes would otherwise see its connection reset instead of the 413."""
        while size <= 16 * limit:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
            size += len(message.get("body", b""))

    async def _reject(self, send, size: int, limit: int, at_least: bool = False) -> None:
        size_text = f"{'at least ' if at_least else ''}{size} bytes"
        detail = f"request body too large: {size_text} > limit {limit} bytes"
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _validation_message(errors: list[dict]) -> str:
    """One readable line from pydantic's error list, e.g. ``body.texts: Input should be a valid list``."""
    parts = []
    for e in errors[:3]:
        where = ".".join(str(x) for x in e.get("loc", ()))
        if e.get("type") == "json_invalid":
            parts.append(f"malformed JSON at character {e.get('loc', (None, '?'))[-1]}")
        elif e.get("type") == "model_attributes_type" and where == "body":
            parts.append("expected a JSON object (send it with content-type: application/json)")
        else:
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "invalid request: " + "; ".join(parts) + more


def create_app(classifier: StanceClassifier, limits: ServeLimits | None = None) -> FastAPI:
    """The FastAPI application serving ``classifier`` (already loaded) under ``limits``."""
    limits = limits or ServeLimits()
    app = FastAPI(
        title="vistance",
        version=__version__,
        description="Claim detection and stance toward the Russia-Ukraine peace process in Vietnamese news.",
    )
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=limits.max_body_bytes, per_path={"/export": limits.max_export_bytes}
    )
    app.state.classifier = classifier
    app.state.limits = limits
    # One prediction at a time: torch already uses every core for one batch, and two concurrent
    # batches would only fight over them. The gate bounds the queue in front of it.
    gate = app.state.gate = InferenceGate(limits.max_pending, limits.timeout_s)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = jsonable_encoder(exc.errors())
        return JSONResponse(status_code=422, content={"detail": _validation_message(errors), "errors": errors})

    def check_text(text: str, what: str) -> None:
        if not text.strip():
            raise HTTPException(422, f"{what} is empty or white space only")
        if len(text) > limits.max_chars:
            raise HTTPException(422, f"{what} too long: {len(text)} characters > limit {limits.max_chars}")

    # async: served on the event loop, so a liveness probe answers even while every worker thread
    # waits for the prediction lock (sync endpoints share a bounded thread pool).
    @app.get("/health")
    async def health() -> dict:
        info = classifier.describe()
        model = info["model"]
        return {
            "status": "ok",
            "vistance_version": __version__,
            "mode": info["mode"],
            "model": model["path"],
            "labels": classifier.labels,
            "task": model["task"],
            "kind": model["kind"],
            "stance_model": info.get("stance_model"),
            "claim_threshold": info["claim_threshold"],
            "speakers": info["speakers"],
            "limits": {
                "max_body_bytes": limits.max_body_bytes,
                "max_texts": limits.max_texts,
                "max_chars": limits.max_chars,
                "max_export_bytes": limits.max_export_bytes,
                "max_pending": limits.max_pending,
                "timeout_s": limits.timeout_s,
            },
            "pending": gate.pending,
        }

    def predict_texts(texts: list[str]) -> list[dict]:
        try:
            return classifier.predict(texts)
        except InputError as e:
            raise HTTPException(422, str(e)) from None

    def analyze_text(text: str, article_id: str) -> dict:
        try:
            return classifier.analyze(text, article_id=article_id)
        except InputError as e:
            raise HTTPException(422, str(e)) from None

    @app.post("/predict")
    async def predict(req: PredictRequest) -> dict:
        if len(req.texts) > limits.max_texts:
            raise HTTPException(422, f"too many texts: {len(req.texts)} > limit {limits.max_texts} per request")
        for i, t in enumerate(req.texts):
            check_text(t, f"texts[{i}]")
        results = await gate.run(predict_texts, req.texts)
        return {"results": [{"text": t} | r for t, r in zip(req.texts, results)]}

    @app.post("/analyze")
    async def analyze(req: AnalyzeRequest) -> dict:
        check_text(req.text, "text")
        return await gate.run(analyze_text, req.text, req.id)

    add_page(app, classifier, limits, gate, check_text)
    return app


def build_parser() -> argparse.ArgumentParser:
    d = ServeLimits()
    p = argparse.ArgumentParser(prog="python -m vistance.serve", description="Serve a vistance model over HTTP.")
    p.add_argument("--model", required=True, help="run folder or checkpoint folder (joint, or claim for a cascade)")
    p.add_argument("--stance-model", help="stance-task run/checkpoint: cascade after the --model claim checkpoint")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--max-body-bytes", type=int, default=d.max_body_bytes)
    p.add_argument("--max-texts", type=int, default=d.max_texts)
    p.add_argument("--max-chars", type=int, default=d.max_chars)
    p.add_argument(
        "--max-export-bytes",
        type=int,
        default=d.max_export_bytes,
        help="largest body of /export (results sent back for download)",
    )
    p.add_argument(
        "--max-pending",
        type=int,
        default=d.max_pending,
        help="requests that may hold or wait for the model; the next gets 503 with Retry-After",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=d.timeout_s,
        dest="timeout_s",
        help="seconds one request may take, waiting included (503 if it never reached the model, else 504)",
    )
    p.add_argument("--batch-size", type=int, default=32)
    engine_arguments(p)
    p.add_argument(
        "--threads",
        type=threads_arg,
        default=None,
        help="torch intra-op threads, or 'auto': one per core not busy at start-up (default: one per core)",
    )
    return p


ARENA_MAX = 2
M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def cap_malloc_arenas(n: int = ARENA_MAX) -> bool:
    """Cap glibc's malloc arenas (``mallopt(M_ARENA_MAX)``) unless ``MALLOC_ARENA_MAX`` is set.

    glibc gives each thread that allocates its own arena, up to 8 per core; the service's worker threads
    then keep growing resident memory under sustained load (+17 % over 3 minutes at 32 clients, against +7 %
    with two arenas). Returns whether the cap was applied (False off glibc)."""
    import ctypes
    import os

    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, n))
    except (OSError, AttributeError):
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cap_malloc_arenas()  # before any worker thread allocates
    try:
        limits = ServeLimits(
            args.max_body_bytes, args.max_texts, args.max_chars, args.max_export_bytes, args.max_pending, args.timeout_s
        )
        classifier = StanceClassifier.from_pretrained(
            args.model, args.stance_model, **engine_options(args), num_threads=args.threads, batch_size=args.batch_size
        )
    except VistanceError as e:
        return exit_on_error(e)
    import uvicorn

    print(
        f"vistance {__version__}: serving {args.model} ({classifier.mode}) on http://{args.host}:{args.port} "
        "(the analyst's page is at /)",
        file=sys.stderr,
    )
    uvicorn.run(create_app(classifier, limits), host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
