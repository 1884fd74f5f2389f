"""The classifier users load: claim detection, stance and (where the checkpoint has it) the speaker, for
sentences or whole articles, from one joint checkpoint or a claim checkpoint cascaded into a stance one.

    from vistance import StanceClassifier

    clf = StanceClassifier.from_pretrained("runs/baseline/20260101-120000")      # a joint model
    clf = StanceClassifier.from_pretrained("runs/claim/…", stance_path="runs/stance/…")  # cascade
    clf.predict(["Ông Ushakov nói Nga sẵn sàng đàm phán."])
    clf.analyze(open("article.txt", encoding="utf-8").read())

A checkpoint carries its own task, labels and preprocessing (``vistance.json``); nothing here
re-chooses them. What this module adds is the meaning of the labels: a joint model's four
probabilities, or a claim model followed by a stance model, become one joint distribution
(:meth:`StanceClassifier.predict_proba`) and one uniform result per sentence.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..data.articles import parse_article
from ..decision import DEFAULT_CLAIM_THRESHOLD
from ..errors import CheckpointError, InputError
from ..tasks import CLAIM, JOINT, NOT_CLAIM, STANCE_LABELS, as_task, outcome

QUANTIZE_MODES = (None, "int8", "bf16")
PROGRESS_MIN = 256
"""Below this many sentences a progress bar is noise; above it a user waits long enough to want one."""
PROGRESS_CHUNK = 512


def check_texts(texts, what: str = "texts") -> list[str]:
    """``texts`` as a list of non-empty strings, else :class:`InputError` naming the first bad index."""
    if isinstance(texts, str):
        texts = [texts]
    elif isinstance(texts, (bytes, bytearray)):
        raise InputError(f"{what} must be text (str), not bytes; decode it first, e.g. data.decode('utf-8')")
    elif texts is None or not isinstance(texts, Iterable):
        raise InputError(f"{what} must be a string or a list of strings, not {type(texts).__name__}")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise InputError(f"{what}[{i}] is {type(t).__name__}, expected a string")
        if not t.strip():
            raise InputError(f"{what}[{i}] is empty or white space only")
    return out


class StanceClassifier:
    """Claim detection and stance for Vietnamese sentences, from one joint or two cascaded checkpoints.

    ``predict`` returns, for each input text, a dict::

        {"claim": "claim" | "not_claim", "claim_score": float,
         "stance": "favor" | "against" | "neutral" | None,       # None when not a claim
         "stance_scores": {"favor": p, "against": p, "neutral": p},  # None for a claim-only model
         "speaker": str | None, "speaker_span": [start, end] | None}  # when the checkpoint attributes speakers

    ``claim_score`` is p(claim): ``1 - p(not_claim)`` of a joint model, the claim model's p(claim) in
    a cascade, calibrated by the checkpoint's temperature. ``claim`` is ``"claim"`` exactly when
    ``claim_score >= claim_threshold`` (the threshold the checkpoint chose on dev, 0.5 for checkpoints
    from before that, or the caller's), and then ``stance`` is the most probable of the
    stance scores, renormalised to sum to 1. Headings, captions and title lines of an article (their
    ``kind``) are not_claim whatever their score (guideline R19). Training and evaluation score the same
    decision (:class:`vistance.decision.Decision`).
    """

    def __init__(
        self,
        predictor,
        stance_predictor=None,
        *,
        batch_size: int = 32,
        claim_threshold: float | None = None,
        speakers=None,
    ):
        self.predictor = predictor
        """The (claim or joint) predictor; raw probabilities via ``predict_proba``."""
        self.stance_predictor = stance_predictor
        """The stance-task predictor of a cascade, else None."""
        self.batch_size = batch_size
        task = as_task(predictor.task, predictor.labels)
        if stance_predictor is None:
            if not task.detects_claims:
                raise CheckpointError(
                    f"{predictor.path} is a {task.name}-task checkpoint: it cannot tell claims from other sentences. "
                    "Pass a claim or joint checkpoint first: StanceClassifier.from_pretrained(claim_path, "
                    "stance_path=...)"
                )
            self.mode = "joint" if task.has_stance else "claim"
        else:
            if task.name != "claim":
                raise CheckpointError(
                    f"a cascade needs a claim-task checkpoint first; {predictor.path} is a {task.name}-task checkpoint"
                )
            stance_task = as_task(stance_predictor.task, stance_predictor.labels)
            if stance_task.name != "stance":
                raise CheckpointError(
                    f"a cascade needs a stance-task checkpoint second; {stance_predictor.path} is a "
                    f"{stance_task.name}-task checkpoint"
                )
            self.mode = "cascade"
        if claim_threshold is None:
            decision = getattr(predictor, "decision", None)  # vistance.decision, fitted on dev and saved
            claim_threshold = (
                decision.claim_threshold
                if decision is not None
                else _extras(predictor).get("claim_threshold", DEFAULT_CLAIM_THRESHOLD)
            )
        if not 0.0 <= claim_threshold <= 1.0:
            raise InputError(f"claim_threshold must be in [0, 1], not {claim_threshold}")
        self.claim_threshold = float(claim_threshold)
        self.speakers = speakers
        """A speaker attributor (vistance.speakers) or None: results then carry no speaker."""

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike,
        stance_path: str | os.PathLike | None = None,
        *,
        engine: str = "auto",
        precision: str = "auto",
        quantize: str | None = None,
        num_threads: int | None = None,
        batch_size: int = 32,
        claim_threshold: float | None = None,
        attributor: str | None = None,
    ) -> StanceClassifier:
        """Load a run folder or checkpoint folder of any registered kind.

        ``path`` alone: a joint (or claim-only) checkpoint. With ``stance_path``: ``path`` is the
        claim-task checkpoint and ``stance_path`` the stance-task one. ``engine`` (``auto``, ``torch``,
        ``openvino``) and ``precision`` (``auto``, ``fp32``, ``bf16``, ``int8``) choose how the encoder runs
        (:mod:`vistance.inference.engines`; the default is the fastest that keeps at least 99.5 % of fp32's
        labels, as the checkpoint's export measured). ``quantize`` is the older spelling of
        ``engine="torch", precision=quantize``. ``num_threads`` sets torch's intra-op threads (default:
        leave torch's setting, one per core). ``attributor`` (rules or learned) overrides how the
        checkpoint's speaker table decides (vistance.speakers).
        """
        if quantize not in QUANTIZE_MODES:
            raise InputError(f"quantize must be one of {QUANTIZE_MODES}, not {quantize!r}")
        if quantize is not None:
            engine, precision = "torch", quantize
        from ..checkpoint import load_predictor
        from . import engines

        if num_threads:
            import torch

            torch.set_num_threads(num_threads)
        predictors = [load_predictor(Path(path))]
        if stance_path is not None:
            predictors.append(load_predictor(Path(stance_path)))
        for p in predictors:
            engines.apply(p, engines.choose(p, engine, precision))
        return cls(
            *predictors,
            batch_size=batch_size,
            claim_threshold=claim_threshold,
            speakers=_load_speakers(predictors[0], attributor),
        )

    # ------------------------------------------------------------------ description

    @property
    def labels(self) -> list[str]:
        """Columns of :meth:`predict_proba`: the joint labels, or (not_claim, claim) for a claim-only model."""
        return list(JOINT.labels) if self.mode != "claim" else [NOT_CLAIM, CLAIM]

    def describe(self) -> dict:
        """What is loaded: paths, labels, task and kind of each checkpoint (for /health and logs)."""

        def one(p) -> dict:
            return {
                "path": str(p.path),
                "labels": list(p.labels),
                "task": as_task(p.task, p.labels).name,
                "kind": p.kind,
                "max_length": p.max_length,
                "engine": str(getattr(p, "engine", "torch fp32")),
            }

        out = {
            "mode": self.mode,
            "labels": self.labels,
            "claim_threshold": self.claim_threshold,
            "speakers": self.speakers is not None,
            "model": one(self.predictor),
        }
        if self.stance_predictor is not None:
            out["stance_model"] = one(self.stance_predictor)
        return out

    # ------------------------------------------------------------------ prediction

    @property
    def reads_context(self) -> bool:
        """Whether a checkpoint reads each sentence's article context (vistance.data.context)."""
        return any(getattr(p, "reads_context", False) for p in (self.predictor, self.stance_predictor) if p)

    def predict_proba(
        self,
        texts: str | Iterable[str],
        *,
        batch_size: int | None = None,
        progress: bool = False,
        contexts: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Probabilities over :attr:`labels` for each text: the joint distribution of a joint model or
        of a cascade (p(stance) = p(claim) * p(stance | claim), the stance model being trained on
        claims only), or (not_claim, claim) of a claim-only model."""
        texts = check_texts(texts)
        bs = batch_size or self.batch_size
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        # A cascade whose checkpoints share their preprocessing segments each sentence once, not twice.
        prepared = self.predictor.prepare(texts)
        ctx = {"contexts": contexts} if contexts is not None and self.reads_context else {}
        probs = self.predictor.predict_proba(prepared, batch_size=bs, prepared=True, progress=progress, **ctx)
        col = {label: i for i, label in enumerate(self.predictor.labels)}
        if self.mode == "joint":
            return probs[:, [col[lab] for lab in JOINT.labels]]
        if self.mode == "claim":
            return probs[:, [col[NOT_CLAIM], col[CLAIM]]]
        same = self.stance_predictor.preprocess == self.predictor.preprocess
        sp = self.stance_predictor.predict_proba(
            prepared if same else texts, batch_size=bs, prepared=same, progress=progress, **ctx
        )
        scol = {label: i for i, label in enumerate(self.stance_predictor.labels)}
        p_claim = probs[:, col[CLAIM]]
        return np.column_stack([1.0 - p_claim, sp[:, [scol[s] for s in STANCE_LABELS]] * p_claim[:, None]])

    def predict(
        self, texts: str | Iterable[str], *, batch_size: int | None = None, progress: bool = False
    ) -> list[dict]:
        """One result per input text, in input order (see the class docstring for its keys).

        Texts are raw: the checkpoint's saved preprocessing (NFC, word segmentation) is applied by the
        predictor, and input longer than the model's limit is truncated. Each sentence is attributed
        on its own; :meth:`predict_sentences` and :meth:`analyze` use the article around it.
        """
        texts = check_texts(texts)
        # Offsets index the NFC form (what the model and the attributor read).
        return self.predict_sentences(
            [{"text": unicodedata.normalize("NFC", t)} for t in texts], batch_size=batch_size, progress=progress
        )

    def predict_sentences(
        self, sentences: Sequence[dict], *, batch_size: int | None = None, progress: bool = False
    ) -> list[dict]:
        """Results for sentence dicts (``text``; sentences the article parser made also carry ``article``,
        ``position`` and ``kind``, in article order). Speakers use the article around each such sentence,
        else each sentence alone."""
        results = self.scores(
            [s["text"] for s in sentences], batch_size=batch_size, progress=progress, contexts=self.contexts(sentences)
        )
        self.apply_structure(results, sentences)
        self.attribute(results, sentences)
        return results

    def apply_structure(self, results: list[dict], sentences: Sequence[dict]) -> None:
        """Headings, captions and title lines (``kind``) are not claims, whatever their score (guideline R19:
        the body sentence carrying the same content is the claim); in place. ``claim_score`` keeps the model's
        score, so these are the one exception to ``claim == (claim_score >= claim_threshold)``."""
        from ..decision import is_structural

        for r, s in zip(results, sentences):
            if is_structural(s) and r["claim"] == CLAIM:
                r["claim"], r["stance"] = NOT_CLAIM, None

    def contexts(self, sentences: Sequence[dict]) -> list[str] | None:
        """Each sentence's article context when a checkpoint reads it (else None: nothing to compute)."""
        if not self.reads_context:
            return None
        from ..data.context import contexts

        return contexts(sentences)

    def scores(
        self,
        texts: Sequence[str],
        *,
        batch_size: int | None = None,
        progress: bool = False,
        contexts: Sequence[str] | None = None,
    ) -> list[dict]:
        """Claim and stance of each text, without speakers (``predict`` minus attribution); ``contexts``: each
        text's article context, for checkpoints that read it (:meth:`contexts`)."""
        texts = check_texts(texts)
        if not progress or len(texts) <= PROGRESS_CHUNK:
            return self._results(self.predict_proba(texts, batch_size=batch_size, contexts=contexts))
        # One sentence-level bar (stderr) over chunks large enough that sorting by length inside each
        # still pads little; it covers preprocessing (word segmentation), most of the baseline's time.
        from ..logs import progress as progress_bar

        results: list[dict] = []
        with progress_bar(total=len(texts), desc="predict", unit="sent") as bar:
            for start in range(0, len(texts), PROGRESS_CHUNK):
                chunk = texts[start : start + PROGRESS_CHUNK]
                ctx = None if contexts is None else contexts[start : start + PROGRESS_CHUNK]
                results += self._results(self.predict_proba(chunk, batch_size=batch_size, contexts=ctx))
                bar.update(len(chunk))
        return results

    def attribute(self, results: list[dict], sentences: Sequence[dict]) -> None:
        """Add ``speaker`` / ``speaker_span`` / ``speaker_confidence`` to ``results`` (claims only), in place;
        no-op for a checkpoint without a speaker attributor. Article context for sentences of parsed articles
        (with a ``position``)."""
        if self.speakers is None or not results:
            return
        context = any(s.get("position") is not None for s in sentences)
        found = self.speakers.attribute(list(sentences), context=context)
        for r, f in zip(results, found):
            claim = r["claim"] == CLAIM
            r["speaker"] = f.get("speaker") if claim else None
            r["speaker_span"] = f.get("speaker_span") if claim else None
            r["speaker_confidence"] = f.get("speaker_confidence") if claim else None

    def _results(self, probs: np.ndarray) -> list[dict]:
        claim_score = 1.0 - probs[:, 0]  # column 0 is not_claim in both label sets
        stance = None
        if self.mode != "claim":
            stance = probs[:, 1:] / np.clip(probs[:, 1:].sum(axis=1, keepdims=True), 1e-12, None)
        out = []
        for i, score in enumerate(claim_score):
            is_claim = bool(score >= self.claim_threshold)
            scores = None if stance is None else {s: float(stance[i, j]) for j, s in enumerate(STANCE_LABELS)}
            label = max(STANCE_LABELS, key=scores.__getitem__) if is_claim and scores is not None else None
            out.append(
                {
                    "claim": CLAIM if is_claim else NOT_CLAIM,
                    "claim_score": float(score),
                    "stance": label,
                    "stance_scores": scores,
                }
            )
        return out

    def analyze(self, article_text: str, article_id: str = "article", *, batch_size: int | None = None) -> dict:
        """Parse an article with the corpus pipeline and predict every sentence.

        Returns ``{"id", "date", "text", "sentences": [...], "counts"}``; ``text`` is the normalised
        article that the sentences' ``start``/``end`` character offsets index into. Speakers (when the
        checkpoint attributes them) use the article around each sentence: pronouns and quote fragments
        resolve to the neighbouring sentence's actor.
        """
        if isinstance(article_text, (bytes, bytearray)):
            raise InputError("article_text must be text (str), not bytes; decode it first, e.g. data.decode('utf-8')")
        if not isinstance(article_text, str):
            raise InputError(f"article_text must be a string, not {type(article_text).__name__}")
        if not article_text.strip():
            raise InputError("article_text is empty or white space only")
        article = parse_article(article_text, str(article_id))
        rows = [sentence_row(s) for s in article.sentences]
        preds = (
            self.predict_sentences([r | {"article": article.id} for r in rows], batch_size=batch_size) if rows else []
        )
        sentences = [r | p for r, p in zip(rows, preds)]
        return {
            "id": article.id,
            "date": article.date,
            "text": article.text,
            "sentences": sentences,
            "counts": stance_counts(preds),
        }


def _extras(predictor) -> dict:
    meta = getattr(predictor, "meta", None)
    return getattr(meta, "extras", None) or {}


def _load_speakers(predictor, attributor: str | None = None):
    """The speaker attributor saved with a checkpoint (``speakers.json``), or None for checkpoints without;
    ``attributor`` (rules or learned) overrides the one it was saved with."""
    path = _extras(predictor).get("speakers")
    if not path:
        return None
    from ..speakers import SpeakerAttributor

    speakers = SpeakerAttributor.load(predictor.path)
    return speakers.with_attributor(attributor) if attributor else speakers


def sentence_row(s) -> dict:
    return {
        "id": s.id,
        "kind": s.kind,
        "position": s.position,
        "paragraph": s.paragraph,
        "start": s.start,
        "end": s.end,
        "text": s.text,
    }


def stance_counts(results: Iterable[dict]) -> dict[str, int]:
    """Counts by outcome, with every stance present (zeros included) so tables line up."""
    import collections

    counts = collections.Counter(outcome(r) for r in results)
    keys = list(JOINT.labels) + sorted(k for k in counts if k not in JOINT.labels)
    return {k: counts.get(k, 0) for k in keys}
