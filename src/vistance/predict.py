"""Run a trained checkpoint on new text: from Python, and from the command line.

Python::

    from vistance import StanceClassifier

    clf = StanceClassifier.from_pretrained("runs/baseline/20260101-120000")      # a joint model
    clf = StanceClassifier.from_pretrained("runs/claim/…", stance_path="runs/stance/…")  # cascade
    clf.predict(["Ông Ushakov nói Nga sẵn sàng đàm phán."])
    clf.analyze(open("article.txt", encoding="utf-8").read())

Command line::

    python -m vistance.predict --model RUN_OR_CHECKPOINT --input article.txt
    python -m vistance.predict --model M --input data/raw --output pred.csv
    python -m vistance.predict --model M --input articles.jsonl --articles --text-field content

A checkpoint carries its own labels and preprocessing (``vistance.json``); nothing here re-chooses
them. What this module adds is the meaning of the labels: a joint model's four probabilities, or a
claim model followed by a stance model, become one uniform result per sentence.
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .articles import parse_article, read_text
from .data import STANCE_LABELS, iter_jsonl
from .text import normalize

NOT_CLAIM = "not_claim"
CLAIM = "claim"
JOINT_LABELS = frozenset((NOT_CLAIM, *STANCE_LABELS))
CLAIM_TASK_LABELS = frozenset((NOT_CLAIM, CLAIM))
STANCE_TASK_LABELS = frozenset(STANCE_LABELS)
QUANTIZE_MODES = (None, "int8", "bf16")
# Below this many sentences a progress bar is noise; above it a user waits long enough to want one.
PROGRESS_MIN = 256
PROGRESS_CHUNK = 512


def label_scheme(labels: Sequence[str]) -> str:
    """Which of joint / claim / stance a checkpoint's label set is, whatever its ``task`` says.

    Decided from the labels rather than ``vistance.json``'s task so that a ``custom`` task trained
    on the same labels works too.
    """
    found = frozenset(labels)
    for scheme, wanted in (("joint", JOINT_LABELS), ("claim", CLAIM_TASK_LABELS), ("stance", STANCE_TASK_LABELS)):
        if found == wanted:
            return scheme
    raise ValueError(
        f"labels {list(labels)} are not a claim/stance label set (joint: not_claim, favor, against, neutral; "
        "claim: not_claim, claim; stance: favor, against, neutral); use vistance.checkpoint.load_predictor "
        "for raw probabilities"
    )


def _transformer_model(predictor, mode: str):
    model = getattr(predictor, "model", None)
    if model is None:
        raise ValueError(f"quantize={mode!r} needs a transformer checkpoint; {predictor.path} is {predictor.kind!r}")
    return model


def quantize_int8(predictor) -> None:
    """Swap a transformer predictor's Linear layers for dynamically quantised int8 ones, in place.

    Dynamic quantisation stores weights as int8 and quantises activations per batch on the fly:
    no calibration data, and on CPU the matrix multiplications that dominate a BERT-sized model
    run on int8 kernels (VNNI where the CPU has it). Embeddings and LayerNorm stay fp32.

    Recent torch releases mark ``torch.ao.quantization`` as deprecated in favour of the separate
    torchao package; it still works in the torch this project pins, so the warning is silenced here
    rather than adding a dependency for an optional speed-up.
    """
    import warnings

    import torch

    model = _transformer_model(predictor, "int8")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        predictor.model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def to_bf16(predictor) -> None:
    """Run a transformer predictor in bfloat16, in place.

    Fast only on CPUs with native bf16 matrix instructions (AVX512-BF16, AMX) and on GPUs;
    elsewhere it is emulated and slower than fp32. Softmax is still taken in fp32.
    """
    import torch

    predictor.model = _transformer_model(predictor, "bf16").to(torch.bfloat16)


def auto_threads() -> int:
    """torch intra-op threads for this process: one per core that other processes leave idle, at least one.

    Every operator ends with its OpenMP threads waiting for each other. When other jobs hold the
    cores, the thread that has to share one arrives late to each of those barriers, hundreds of
    times per batch: on the 2-core development machine with two other jobs running, a
    PhoBERT-base-sized model predicted 6.4 sentences/s with one thread and 4.5 with two.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return max(1, min(cores, round(cores - busy)))


def threads_arg(value: str) -> int | None:
    """``--threads``: a positive number, or ``auto`` (see :func:`auto_threads`)."""
    if value == "auto":
        return auto_threads()
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'auto', not {value!r}")
    return int(value)


class StanceClassifier:
    """Claim detection and stance for Vietnamese sentences, from one joint or two cascaded checkpoints.

    ``predict`` returns, for each input text, a dict::

        {"claim": "claim" | "not_claim", "claim_score": float,
         "stance": "favor" | "against" | "neutral" | None,       # None when not a claim
         "stance_scores": {"favor": p, "against": p, "neutral": p}}  # None for a claim-only model

    Joint model: ``claim_score = 1 - p(not_claim)`` and ``stance_scores`` are the three stance
    probabilities renormalised to sum to 1. The claim decision is the model's own argmax (so it
    agrees with the predictions that evaluation scored) unless ``claim_threshold`` is set.

    Cascade: the claim model decides claim / not_claim; the stance model scores every sentence (so
    rows have one shape and non-claims can still be ranked) and its label is kept for claims only.
    """

    def __init__(
        self,
        predictor,
        stance_predictor=None,
        *,
        batch_size: int = 32,
        claim_threshold: float | None = None,
    ):
        self.predictor = predictor
        """The (claim or joint) :class:`vistance.checkpoint.Predictor`; raw probabilities via ``predict_proba``."""
        self.stance_predictor = stance_predictor
        """The stance-task Predictor of a cascade, else None."""
        self.batch_size = batch_size
        self.claim_threshold = claim_threshold
        """None: claim iff the model's argmax says so. A float t: claim iff claim_score >= t."""

        scheme = label_scheme(predictor.labels)
        if stance_predictor is None:
            if scheme == "stance":
                raise ValueError(
                    f"{predictor.path} is a stance-only checkpoint: it cannot tell claims from other sentences. "
                    "Pass a claim checkpoint first: StanceClassifier.from_pretrained(claim_path, stance_path=...)"
                )
            self.mode = scheme
        else:
            if scheme != "claim":
                raise ValueError(f"a cascade needs a claim-task checkpoint first; {predictor.path} has labels "
                                 f"{list(predictor.labels)}")
            if label_scheme(stance_predictor.labels) != "stance":
                raise ValueError(f"a cascade needs a stance-task checkpoint second; {stance_predictor.path} has "
                                 f"labels {list(stance_predictor.labels)}")
            self.mode = "cascade"
        if claim_threshold is not None and not 0.0 <= claim_threshold <= 1.0:
            raise ValueError(f"claim_threshold must be in [0, 1], not {claim_threshold}")

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike,
        stance_path: str | os.PathLike | None = None,
        *,
        quantize: str | None = None,
        num_threads: int | None = None,
        batch_size: int = 32,
        claim_threshold: float | None = None,
    ) -> StanceClassifier:
        """Load a run folder or checkpoint folder (transformer, tiny or baseline).

        ``path`` alone: a joint (or claim-only) checkpoint. With ``stance_path``: ``path`` is the
        claim-task checkpoint and ``stance_path`` the stance-task one. ``quantize="int8"`` applies
        dynamic int8 quantisation to transformer checkpoints, ``"bf16"`` runs them in bfloat16 (both
        faster on CPU at a small cost in agreement with fp32; see ``bench_predict``). ``num_threads``
        sets torch's intra-op threads (default: leave torch's setting, one per core).
        """
        if quantize not in QUANTIZE_MODES:
            raise ValueError(f"quantize must be one of {QUANTIZE_MODES}, not {quantize!r}")
        from .checkpoint import load_predictor

        if num_threads:
            import torch

            torch.set_num_threads(num_threads)
        predictors = [load_predictor(path)]
        if stance_path is not None:
            predictors.append(load_predictor(stance_path))
        if quantize is not None:
            for p in predictors:
                {"int8": quantize_int8, "bf16": to_bf16}[quantize](p)
        return cls(*predictors, batch_size=batch_size, claim_threshold=claim_threshold)

    # ------------------------------------------------------------------ description

    @property
    def labels(self) -> list[str]:
        return list(self.predictor.labels) + (list(self.stance_predictor.labels) if self.stance_predictor else [])

    def describe(self) -> dict:
        """What is loaded: paths, labels, task and kind of each checkpoint (for /health and logs)."""

        def one(p) -> dict:
            return {"path": str(p.path), "labels": list(p.labels), "task": p.task, "kind": p.kind,
                    "max_length": p.max_length}

        out = {"mode": self.mode, "model": one(self.predictor)}
        if self.stance_predictor is not None:
            out["stance_model"] = one(self.stance_predictor)
        return out

    # ------------------------------------------------------------------ prediction

    def predict(
        self, texts: str | Iterable[str], *, batch_size: int | None = None, progress: bool = False
    ) -> list[dict]:
        """One result per input text, in input order (see the class docstring for its keys).

        Texts are raw: the checkpoint's saved preprocessing (NFC, word segmentation) is applied by the
        predictor, and input longer than the model's limit is truncated.
        """
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            return []
        if progress:
            return self._predict_with_progress(texts, batch_size)
        bs = batch_size or self.batch_size
        # A cascade whose checkpoints share their preprocessing segments each sentence once, not twice.
        prepared = self.predictor.prepare(texts)
        probs = self.predictor.predict_proba(prepared, batch_size=bs, prepared=True)
        col = {label: i for i, label in enumerate(self.predictor.labels)}

        if self.mode == "joint":
            claim_score = 1.0 - probs[:, col[NOT_CLAIM]]
            stance = probs[:, [col[s] for s in STANCE_LABELS]]
            # A sentence the model is sure is not a claim can have stance mass ~0: guard the division.
            stance = stance / np.clip(stance.sum(axis=1, keepdims=True), 1e-12, None)
            model_says_claim = probs.argmax(axis=1) != col[NOT_CLAIM]
        else:
            claim_score = probs[:, col[CLAIM]]
            model_says_claim = probs.argmax(axis=1) == col[CLAIM]
            stance = None
            if self.mode == "cascade":
                same = self.stance_predictor.preprocess == self.predictor.preprocess
                sp = self.stance_predictor.predict_proba(prepared if same else texts, batch_size=bs, prepared=same)
                scol = {label: i for i, label in enumerate(self.stance_predictor.labels)}
                stance = sp[:, [scol[s] for s in STANCE_LABELS]]

        is_claim = model_says_claim if self.claim_threshold is None else claim_score >= self.claim_threshold
        results = []
        for i in range(len(texts)):
            scores = None if stance is None else {s: float(stance[i, j]) for j, s in enumerate(STANCE_LABELS)}
            label = None
            if is_claim[i] and scores is not None:
                label = max(STANCE_LABELS, key=scores.__getitem__)
            results.append({
                "claim": CLAIM if is_claim[i] else NOT_CLAIM,
                "claim_score": float(claim_score[i]),
                "stance": label,
                "stance_scores": scores,
            })
        return results

    def _predict_with_progress(self, texts: list[str], batch_size: int | None) -> list[dict]:
        """``predict`` in chunks under one sentence-level progress bar (stderr), for any kind of model.

        Chunks are large enough that sorting by length inside each still pads little, and the bar
        covers preprocessing (word segmentation), which is most of the baseline's time.
        """
        from tqdm.auto import tqdm

        results: list[dict] = []
        with tqdm(total=len(texts), desc="predict", unit="sent", file=sys.stderr) as bar:
            for start in range(0, len(texts), PROGRESS_CHUNK):
                chunk = texts[start : start + PROGRESS_CHUNK]
                results += self.predict(chunk, batch_size=batch_size)
                bar.update(len(chunk))
        return results

    def analyze(self, article_text: str, article_id: str = "article", *, batch_size: int | None = None) -> dict:
        """Parse an article with the corpus pipeline and predict every sentence.

        Returns ``{"id", "date", "text", "sentences": [...], "counts"}``; ``text`` is the normalised
        article that the sentences' ``start``/``end`` character offsets index into.
        """
        article = parse_article(article_text, article_id)
        preds = self.predict([s.text for s in article.sentences], batch_size=batch_size)
        sentences = [_sentence_row(s) | p for s, p in zip(article.sentences, preds)]
        return {"id": article.id, "date": article.date, "text": article.text, "sentences": sentences,
                "counts": stance_counts(preds)}


def _sentence_row(s) -> dict:
    return {"id": s.id, "kind": s.kind, "position": s.position, "paragraph": s.paragraph,
            "start": s.start, "end": s.end, "text": s.text}


def outcome(result: dict) -> str:
    """The single label a result counts under: its stance, else claim / not_claim."""
    return result["stance"] or result["claim"]


def stance_counts(results: Iterable[dict]) -> dict[str, int]:
    """Counts by outcome, with every stance present (zeros included) so tables line up."""
    counts = collections.Counter(outcome(r) for r in results)
    keys = [NOT_CLAIM, *STANCE_LABELS] + sorted(k for k in counts if k not in JOINT_LABELS)
    return {k: counts.get(k, 0) for k in keys}


# --------------------------------------------------------------------------- command line


class InputError(ValueError):
    """The input file cannot be read as articles or sentences; the message names the file."""


def _table_rows(path: Path, text: str) -> Iterable[tuple[int, dict]]:
    """(line/row number, row dict) for a JSONL or CSV file's content."""
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        yield from iter_jsonl(path, text, error=InputError)
    elif suffix in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
        for row in reader:
            yield reader.line_num, row
    else:
        raise InputError(f"{path}: unsupported input; give an article .txt, a folder of them, or .jsonl/.csv rows")


def _field_text(path: Path, n: int, row: dict, field: str) -> str:
    if field not in row:
        raise InputError(f"{path}:{n}: no {field!r} field (fields: {', '.join(map(str, row))}); "
                         "name the text column with --text-field")
    value = row[field]
    return "" if value is None else str(value)


def read_input(path: str | Path, *, articles: bool = False, text_field: str = "text") -> tuple[list[dict], dict]:
    """Sentences to predict from an article .txt, a folder of them, or JSONL/CSV rows.

    Returns ``(sentences, info)``: each sentence has ``id`` and ``text`` (plus ``article``,
    ``position``, ``kind`` when it comes from an article); ``info`` counts ``articles`` and
    ``skipped`` empty rows or articles, and says whether the input ``is_articles``. Raises
    :class:`InputError` naming the file on unreadable input.
    """
    path = Path(path)
    info = {"articles": 0, "skipped": 0, "is_articles": True}
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")

    parsed = []  # (article id, raw text)
    if path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise InputError(f"{path}: no .txt articles in this folder")
        parsed = [(f.stem, _read(f)) for f in files]
    elif path.suffix.lower() == ".txt":
        parsed = [(path.stem, _read(path))]
    else:
        content = _read(path)
        sentences = []
        for n, row in _table_rows(path, content):
            raw = _field_text(path, n, row, text_field)
            rid = row.get("id")
            rid = f"{path.stem}-{n}" if rid in (None, "") else str(rid)
            if articles:
                parsed.append((rid, raw))
                continue
            text = normalize(raw)
            if not text:
                info["skipped"] += 1
                continue
            sentences.append({"id": rid, "text": text})
        if not articles:
            info["is_articles"] = False
            return sentences, info

    sentences = []
    for article_id, raw in parsed:
        article = parse_article(raw, article_id)
        if not article.sentences:
            info["skipped"] += 1
            continue
        info["articles"] += 1
        sentences += [{"id": s.id, "text": s.text, "article": s.article, "position": s.position, "kind": s.kind}
                      for s in article.sentences]
    return sentences, info


def _read(path: Path) -> str:
    try:
        return read_text(path)
    except ValueError as e:  # not UTF-8: read_text's message already names the file
        raise InputError(str(e)) from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


ARTICLE_FIELDS = ("article", "position", "kind")
OUTPUT_FIELDS = ("id", "text", "article", "position", "kind", "claim", "claim_score", "stance", "stance_scores")


def output_row(sentence: dict, result: dict, digits: int = 4) -> dict:
    """One output row: the sentence's id/text (and article fields) then its prediction, rounded."""
    row = {k: sentence[k] for k in OUTPUT_FIELDS if k in sentence}
    row["claim"] = result["claim"]
    row["claim_score"] = round(result["claim_score"], digits)
    row["stance"] = result["stance"]
    scores = result["stance_scores"]
    row["stance_scores"] = None if scores is None else {k: round(v, digits) for k, v in scores.items()}
    return row


def write_rows(rows: list[dict], out, fmt: str, articles: bool | None = None) -> None:
    """Write rows as JSONL, or as CSV with ``stance_scores`` flattened to ``stance_<label>`` columns.

    ``articles`` says whether the CSV header has the article columns (default: if the rows do).
    """
    if fmt == "jsonl":
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    flat = []
    for r in rows:
        r = dict(r)
        scores = r.pop("stance_scores") or {}
        for s in STANCE_LABELS:
            r[f"stance_{s}"] = scores.get(s, "")
        r["stance"] = r["stance"] or ""
        flat.append(r)
    if articles is None:
        articles = bool(flat) and "article" in flat[0]
    header = [k for k in OUTPUT_FIELDS if k != "stance_scores" and (articles or k not in ARTICLE_FIELDS)]
    header += [f"stance_{s}" for s in STANCE_LABELS]
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)


def _write_output(rows: list[dict], output: str | None, fmt: str, articles: bool | None = None) -> None:
    if output is None:
        write_rows(rows, sys.stdout, fmt, articles)
        sys.stdout.flush()
        return
    # Write beside the target and rename, so a failure never leaves a half-written prediction file.
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write_rows(rows, f, fmt, articles)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def per_article_counts(rows: Sequence[dict]) -> dict[str, dict[str, int]]:
    """``{article: stance_counts}`` in first-seen article order, for output rows of article input."""
    by_article: dict[str, list[dict]] = {}
    for r in rows:
        by_article.setdefault(r.get("article", ""), []).append(r)
    return {a: stance_counts(rs) for a, rs in by_article.items()}


OUTCOME_COLORS = {"favor": "#2b8a3e", "against": "#c92a2a", "neutral": "#868e96", "not_claim": "#dee2e6"}


def plot_counts(per_article: dict[str, dict[str, int]], path: str | Path, title: str = "") -> Path:
    """Stacked horizontal bars, one per article (stance counts), plus the total: what an analyst scans first.

    Article ids longer than 14 characters are shortened (content hashes stay unique at that length).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(per_article)
    total: dict[str, int] = {}
    for counts in per_article.values():
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    outcomes = [o for o in OUTCOME_COLORS if o in total] + [o for o in total if o not in OUTCOME_COLORS]
    fig_h = max(2.5, 0.22 * len(names) + 1.6)
    fig, (ax, ax_tot) = plt.subplots(1, 2, figsize=(10, fig_h), width_ratios=[4, 1], layout="constrained")
    labels = [n if len(n) <= 14 else n[:12] + "…" for n in names]
    left = [0] * len(names)
    for o in outcomes:
        vals = [per_article[n].get(o, 0) for n in names]
        ax.barh(labels, vals, left=left, color=OUTCOME_COLORS.get(o), label=o, edgecolor="white", linewidth=0.3)
        left = [a + b for a, b in zip(left, vals)]
    ax.margins(y=0.005)
    ax.invert_yaxis()
    ax.set_xlabel("sentences")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(ncol=len(outcomes), loc="lower right", fontsize=8, frameon=False, bbox_to_anchor=(1, 1.0))
    n_sent = sum(total.values())
    ax_tot.bar(outcomes, [total[o] for o in outcomes], color=[OUTCOME_COLORS.get(o, "#4c6ef5") for o in outcomes])
    for i, o in enumerate(outcomes):
        ax_tot.annotate(f"{total[o]}\n{total[o] / max(n_sent, 1):.0%}", (i, total[o]), ha="center", va="bottom",
                        fontsize=7)
    ax_tot.set_title("all articles", fontsize=9)
    ax_tot.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax_tot.margins(y=0.2)
    fig.suptitle(title or f"Stance per article ({len(names)} articles, {n_sent} sentences)", fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def format_counts(counts: dict[str, int]) -> str:
    return "  ".join(f"{k}={v}" for k, v in counts.items())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m vistance.predict",
                                description="Predict claim and stance for new Vietnamese sentences or articles.")
    p.add_argument("--model", required=True, help="run folder or checkpoint folder (joint, or claim for a cascade)")
    p.add_argument("--stance-model", help="stance-task run/checkpoint: cascade after the --model claim checkpoint")
    p.add_argument("--input", required=True,
                   help="an article .txt, a folder of .txt articles, or .jsonl/.csv rows with a text column")
    p.add_argument("--output", help="output file (default: stdout)")
    p.add_argument("--format", choices=("jsonl", "csv"), help="output format (default: from --output's suffix, "
                   "else jsonl)")
    p.add_argument("--articles", action="store_true", help="JSONL/CSV rows are whole articles, not sentences")
    p.add_argument("--text-field", default="text", help="name of the text column in JSONL/CSV input (default: text)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--quantize", choices=("int8", "bf16"),
                   help="transformer checkpoints: dynamic int8 quantisation, or bfloat16 (CPUs with AVX512-BF16/AMX)")
    p.add_argument("--threads", type=threads_arg, default="auto",
                   help="torch intra-op threads, or 'auto': one per core not busy with other processes (default)")
    p.add_argument("--per-article", action="store_true", help="also print stance counts per article to stderr")
    p.add_argument("--plot", metavar="FILE.png", help="article input: stacked bars of stance counts per article")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    fmt = args.format or ("csv" if args.output and args.output.lower().endswith(".csv") else "jsonl")
    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    try:
        sentences, info = read_input(args.input, articles=args.articles, text_field=args.text_field)
        # Load the model even for empty input, so a wrong --model never passes silently.
        clf = StanceClassifier.from_pretrained(args.model, args.stance_model, quantize=args.quantize,
                                               num_threads=args.threads, batch_size=args.batch_size)
        if not sentences:
            _write_output([], args.output, fmt, info["is_articles"])
            where = f" -> {args.output}" if args.output else ""
            print(f"no sentences to predict in {args.input} ({info['skipped']} empty row(s)/article(s) skipped); "
                  f"wrote an empty output{where}", file=sys.stderr)
            return 0
        results = clf.predict([s["text"] for s in sentences],
                              progress=not args.quiet and len(sentences) >= PROGRESS_MIN)
        rows = [output_row(s, r) for s, r in zip(sentences, results)]
        _write_output(rows, args.output, fmt, info["is_articles"])
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    if args.per_article and info["articles"]:
        for article, counts in per_article_counts(rows).items():
            print(f"{article}: {format_counts(counts)}", file=sys.stderr)
    if args.plot:
        if info["articles"]:
            print(f"plot: {plot_counts(per_article_counts(rows), args.plot)}", file=sys.stderr)
        else:
            print("warning: --plot needs article input (a .txt, a folder, or --articles); no plot written",
                  file=sys.stderr)
    source = f" from {info['articles']} article(s)" if info["articles"] else ""
    skipped = f", {info['skipped']} empty skipped" if info["skipped"] else ""
    where = f" -> {args.output}" if args.output else ""
    print(f"{len(rows)} sentence(s){source}{skipped}: {format_counts(stance_counts(results))}{where}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
