"""The analyst's page served at ``/`` by ``python -m vistance.serve``, and the routes behind it.

The page itself is static (``resources/web/``: one HTML file, one CSS file, one small script; no build step,
nothing fetched from elsewhere). Everything it shows is computed here, with the functions the command-line
tools use, so that the page, ``python -m vistance.predict`` and ``python -m vistance.actors`` cannot disagree:

* ``POST /analyze_many``: several articles ``[{id, text, date?, title?}]``, each analysed like ``/analyze``;
* ``POST /analyze_files``: uploaded ``.txt`` articles and ``.jsonl``/``.csv``/``.tsv`` tables of articles or
  sentences, read by the predict CLI's reader (:func:`~vistance.inference.cli.read_sources`);
* ``POST /export?format=csv|jsonl``: results back as the predict CLI writes them (:func:`render_rows`).

Both analysis routes answer ``{"documents": [...], "counts", "actors", "min_claims", "skipped"}``: one
document per article (or per sentence table), with its sentences as ``/analyze`` gives them plus a
``confidence`` (p(claim) x p(stance), the actor report's), its stance counts, its speakers, and the actor
summary across all documents (:func:`vistance.reports.actors.actor_rows`, the figures of ``actors.csv``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import PurePath
from typing import Literal

import anyio.to_thread
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from ..data.tables import TABLE_SUFFIXES, read_table
from ..errors import InputError
from ..reports.actors import actor_rows, build_report, claim_from_row
from ..tasks import STANCE_LABELS
from .classifier import StanceClassifier, stance_counts
from .cli import output_row, read_sources, render_rows

WEB_DIR = "resources/web"
STATIC_FILES = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
ARTICLE_CHARS = 500
"""``rows: auto``: a table holds articles when some text has a line break or is longer than this."""
TITLE_CHARS = 100


def web_file(name: str) -> str:
    return resources.files("vistance").joinpath(f"{WEB_DIR}/{name}").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- request bodies


class ArticleItem(BaseModel):
    text: str
    """The article as pasted (an optional first line ``date YYYY-MM-DD`` dates it)."""
    id: str = "article"
    date: str | None = None
    """Used when the text has no date line (as the predict CLI does with a row's ``date``)."""
    title: str | None = None


class AnalyzeManyRequest(BaseModel):
    articles: list[ArticleItem]
    min_claims: int = Field(1, ge=1)
    """Speakers with fewer claims are pooled as ``other`` in the actor summary (``vistance.actors --min-claims``)."""


class UploadedFile(BaseModel):
    name: str
    """The file's name; its suffix says the format (.txt, .jsonl, .ndjson, .json, .csv, .tsv)."""
    content: str


class AnalyzeFilesRequest(BaseModel):
    files: list[UploadedFile]
    rows: Literal["auto", "articles", "sentences"] = "auto"
    """What the rows of a table are; ``auto``: articles if a text has a line break or is long."""
    text_field: str = "text"
    min_claims: int = Field(1, ge=1)


class ExportSentence(BaseModel):
    id: str
    text: str
    kind: str | None = None
    position: int | None = None
    start: int | None = None
    end: int | None = None
    claim: Literal["claim", "not_claim"]
    claim_score: float
    stance: Literal["favor", "against", "neutral"] | None = None
    stance_scores: dict[str, float] | None = None
    speaker: str | None = None
    speaker_span: list[int] | None = None
    speaker_confidence: float | None = None


class ExportDocument(BaseModel):
    id: str
    date: str | None = None
    input: Literal["article", "sentences"] = "article"
    sentences: list[ExportSentence]


class ExportRequest(BaseModel):
    documents: list[ExportDocument]
    """Documents as an analysis route returned them (other keys are ignored)."""


# --------------------------------------------------------------------------- documents


def _title(given: str | None, sentences: list[dict]) -> str:
    if given and given.strip():
        return " ".join(given.split())
    for kinds in (("heading",), ("body",), ("caption",)):
        for s in sentences:
            if s.get("kind") in kinds:
                t = s["text"]
                return t if len(t) <= TITLE_CHARS else t[: TITLE_CHARS - 1].rstrip() + "…"
    return ""


def article_document(clf: StanceClassifier, item: dict, source: str | None = None) -> dict:
    """One article analysed as ``/analyze`` does; ``item`` is ``{id, text, date?, title?}``."""
    out = clf.analyze(item["text"], article_id=item["id"])
    return {
        "id": out["id"],
        "input": "article",
        "date": out["date"] or item.get("date"),
        "title": _title(item.get("title"), out["sentences"]),
        "source": source,
        "text": out["text"],
        "sentences": out["sentences"],
        "counts": out["counts"],
    }


def sentence_document(clf: StanceClassifier, doc_id: str, sentences: list[dict], source: str | None = None) -> dict:
    """A table of sentences as one document, one sentence per line, predicted as the predict CLI does."""
    results = clf.predict_sentences(sentences)
    text, rows = "", []
    for i, (s, r) in enumerate(zip(sentences, results)):
        start = len(text)
        text += s["text"] + "\n"
        rows.append(
            {
                "id": s["id"],
                "kind": "body",
                "position": i,
                "paragraph": i,
                "start": start,
                "end": start + len(s["text"]),
                "text": s["text"],
            }
            | r
        )
    return {
        "id": doc_id,
        "input": "sentences",
        "date": None,
        "title": source or doc_id,
        "source": source,
        "text": text,
        "sentences": rows,
        "counts": stance_counts(results),
    }


def _claims(documents: list[dict]):
    for doc in documents:
        for s in doc["sentences"]:
            claim = claim_from_row(s | {"article": doc["id"], "date": doc["date"]}, s["id"], doc["id"])
            if claim is not None:
                yield claim


def actor_summary(documents: list[dict], min_claims: int = 1) -> list[dict]:
    """Rows of ``actors.csv`` (``python -m vistance.actors``) for the claims of ``documents``."""
    claims = list(_claims(documents))
    if not claims:
        return []
    return actor_rows(build_report(claims, [], min_claims=min_claims))


def finish(documents: list[dict], clf: StanceClassifier, min_claims: int, skipped: int = 0) -> dict:
    """The analysis routes' answer: each sentence's confidence, speakers per document, totals, the actor summary."""
    speakers = clf.speakers is not None
    for doc in documents:
        for s in doc["sentences"]:
            claim = claim_from_row(s, s["id"], doc["id"])
            s["confidence"] = None if claim is None else claim.confidence
        doc["speakers"] = actor_summary([doc]) if speakers else None
    totals = stance_counts(s for d in documents for s in d["sentences"])
    return {
        "documents": documents,
        "counts": totals,
        "speakers": speakers,
        "actors": actor_summary(documents, min_claims) if speakers else None,
        "min_claims": min_claims,
        "skipped": skipped,
    }


def export_rows(req: ExportRequest, speakers: bool) -> tuple[list[dict], bool]:
    """The predict CLI's output rows for documents the page got back (``output_row``), and whether any is an article."""
    rows = []
    for doc in req.documents:
        for s in doc.sentences:
            sentence: dict[str, object] = {"id": s.id, "text": s.text}
            if doc.input == "article":
                sentence |= {
                    "article": doc.id,
                    "date": doc.date,
                    "position": s.position,
                    "kind": s.kind,
                    "start": s.start,
                    "end": s.end,
                }
            scores = None if s.stance_scores is None else {k: s.stance_scores.get(k) for k in STANCE_LABELS}
            if scores is not None and None in scores.values():
                raise HTTPException(422, f"sentence {s.id}: stance_scores needs {', '.join(STANCE_LABELS)}")
            result: dict[str, object] = {
                "claim": s.claim,
                "claim_score": s.claim_score,
                "stance": s.stance,
                "stance_scores": scores,
            }
            if speakers:
                result |= {
                    "speaker": s.speaker,
                    "speaker_span": s.speaker_span,
                    "speaker_confidence": s.speaker_confidence,
                }
            rows.append(output_row(sentence, result))
    return rows, any(d.input == "article" for d in req.documents)


def _table_holds_articles(name: str, content: str, text_field: str) -> bool:
    """``rows: auto``: a table's rows are articles when some text has a line break or is long."""
    table = read_table(name, InputError, text=content)
    texts = [str(r.get(text_field) or "") for _, r in table.rows]
    return any("\n" in t.strip() or len(t) > ARTICLE_CHARS for t in texts)


# --------------------------------------------------------------------------- routes


def add_page(app: FastAPI, classifier: StanceClassifier, limits, gate, check_text) -> None:
    """Register ``/``, its static files and the page's routes on the service's ``app``."""

    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(web_file("index.html"), headers={"cache-control": "no-cache"})

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC_FILES:
            raise HTTPException(404, f"no static file {name!r}")
        return Response(web_file(name), media_type=STATIC_FILES[name], headers={"cache-control": "no-cache"})

    def check_count(n: int, what: str) -> None:
        if n == 0:
            raise HTTPException(422, f"no {what} to analyse")
        if n > limits.max_texts:
            raise HTTPException(422, f"too many {what}: {n} > limit {limits.max_texts} per request")

    def analyse(
        articles: list[tuple[dict, str | None]],
        tables: list[tuple[str, list[dict], str]],
        min_claims: int,
        skipped: int = 0,
    ) -> dict:
        """Runs under the service's gate (the model lock): see :class:`vistance.inference.serve.InferenceGate`."""
        try:
            docs = [article_document(classifier, item, source) for item, source in articles]
            docs += [sentence_document(classifier, doc_id, rows, source) for doc_id, rows, source in tables]
        except InputError as e:
            raise HTTPException(422, str(e)) from None
        return finish(docs, classifier, min_claims, skipped)

    @app.post("/analyze_many")
    async def analyze_many(req: AnalyzeManyRequest) -> dict:
        check_count(len(req.articles), "articles")
        for i, a in enumerate(req.articles):
            check_text(a.text, f"articles[{i}].text")
        return await gate.run(analyse, [(a.model_dump(), None) for a in req.articles], [], req.min_claims)

    @app.post("/analyze_files")
    async def analyze_files(req: AnalyzeFilesRequest) -> dict:
        # Reading the files is done in a worker thread, away from the event loop; the model, under the gate.
        return await gate.run(*await anyio.to_thread.run_sync(read_files, req))

    def read_files(req: AnalyzeFilesRequest) -> tuple:
        if not req.files:
            raise HTTPException(422, "no files to analyse")
        articles, tables, skipped = [], [], 0
        try:
            for f in req.files:
                name = PurePath(f.name.replace("\\", "/")).name or "upload.txt"
                as_articles = req.rows == "articles"
                if req.rows == "auto" and name.lower().endswith(TABLE_SUFFIXES):
                    as_articles = _table_holds_articles(name, f.content, req.text_field)
                items, sentences, info = read_sources(
                    name,
                    articles=as_articles,
                    text_field=req.text_field,
                    text=f.content,
                    field_option="the page's Text column box",
                )
                skipped += info["skipped"]
                if sentences is not None:
                    if sentences:
                        tables.append((PurePath(name).stem, sentences, name))
                    continue
                for item in items or ():
                    if not item["text"].strip():
                        skipped += 1
                        continue
                    check_text(item["text"], f"{name}: article {item['id']}")
                    articles.append((item, name))
        except InputError as e:
            raise HTTPException(422, str(e)) from None
        n_sentences = sum(len(rows) for _, rows, _ in tables)
        if not articles and not n_sentences:
            raise HTTPException(422, f"no text to analyse in the files ({skipped} empty row(s) or article(s))")
        if articles:
            check_count(len(articles), "articles")
        if n_sentences:
            check_count(n_sentences, "sentences")
        return analyse, articles, tables, req.min_claims, skipped

    @app.post("/export")
    def export(req: ExportRequest, format: Literal["csv", "jsonl"] = Query("csv")) -> Response:
        rows, articles = export_rows(req, classifier.speakers is not None)
        body = render_rows(rows, format, articles=articles)
        media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson; charset=utf-8"
        return Response(
            body, media_type=media, headers={"content-disposition": f'attachment; filename="vistance-results.{format}"'}
        )
