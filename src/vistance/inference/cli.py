"""``python -m vistance.predict``: run a checkpoint over articles or sentence tables from the command line.

    python -m vistance.predict --model RUN_OR_CHECKPOINT --input article.txt
    python -m vistance.predict --model M --input data/raw --output pred.csv
    python -m vistance.predict --model M --input articles.jsonl --articles --text-field content

Output rows carry the sentence (id, text, and for article input its article, date, position, kind
and offsets), the prediction and, when the checkpoint attributes speakers, ``speaker`` and
``speaker_span``. JSONL keeps ``stance_scores`` and ``speaker_span`` as objects; CSV flattens them
to ``stance_<label>`` and ``speaker_start``/``speaker_end`` columns.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ..data.articles import article_sentences
from ..data.dates import missing_date_field, row_date
from ..data.tables import atomic_write_text, read_table, read_text_file, row_id, table_format
from ..errors import InputError, VistanceError, exit_on_error
from ..tasks import STANCE_LABELS
from ..text import normalize
from .classifier import PROGRESS_MIN, StanceClassifier, stance_counts
from .engines import add_arguments as engine_arguments
from .engines import from_args as engine_options


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


def _str_or_none(value) -> str | None:
    return None if value is None or value == "" else str(value)


def read_sources(
    path: str | Path,
    *,
    articles: bool = False,
    text_field: str = "text",
    text: str | None = None,
    field_option: str = "--text-field",
    date_field: str | None = None,
) -> tuple[list[dict] | None, list[dict] | None, dict]:
    """What an input holds before articles are parsed: ``(articles, sentences, info)``, one of them None.

    ``articles`` are ``{"id", "text" (raw), "date" (the row's, else None), "title" (the row's, else None)}``;
    ``sentences`` are ``{"id", "text"}`` rows of a sentence table, normalised, empty ones skipped (counted in
    ``info["skipped"]``). ``text``: the file's content when the caller already has it (an upload); ``path``
    then only names it (its suffix says the format). Raises :class:`InputError` naming the file (and, for a
    missing text column, ``field_option``: the option that names it). Dates come from ``date_field``, else from
    the first of ``date``, ``published_at``, ``pubDate``, ``time`` that holds one (:mod:`vistance.data.dates`).
    """
    path = Path(path)
    info = {"articles": 0, "skipped": 0, "is_articles": True}
    if text is None and not path.exists():
        raise InputError(f"{path}: no such file or folder")

    parsed = []
    if text is None and path.is_dir():
        files = sorted(path.glob("*.txt"))
        if not files:
            raise InputError(f"{path}: no .txt articles in this folder")
        parsed = [{"id": f.stem, "text": read_text_file(f, InputError), "date": None, "title": None} for f in files]
    elif path.suffix.lower() == ".txt":
        raw = read_text_file(path, InputError) if text is None else text
        parsed = [{"id": path.stem, "text": raw, "date": None, "title": None}]
    else:
        if table_format(path) is None:
            raise InputError(
                f"{path}: unsupported input; give an article .txt, a folder of them, or "
                ".jsonl/.csv/.tsv/.parquet rows (.jsonl.gz, .csv.gz too)"
            )
        table = read_table(path, InputError, text=text)
        if table.rows and missing_date_field(table.columns, date_field):
            raise InputError(f"{path}: no {date_field!r} field for --date-field (fields: {', '.join(table.columns)})")
        sentences = []
        for n, row in table.rows:
            if text_field not in row:
                raise InputError(
                    f"{path}:{n}: no {text_field!r} field (fields: {', '.join(map(str, row))}); "
                    f"name the text column with {field_option}"
                )
            raw = "" if row[text_field] is None else str(row[text_field])
            rid = row_id(row, path, n)
            if articles:
                parsed.append(
                    {"id": rid, "text": raw, "date": row_date(row, date_field), "title": _str_or_none(row.get("title"))}
                )
                continue
            clean = normalize(raw)
            if not clean:
                info["skipped"] += 1
                continue
            sentences.append({"id": rid, "text": clean})
        if not articles:
            info["is_articles"] = False
            return None, sentences, info
    return parsed, None, info


def read_input(
    path: str | Path,
    *,
    articles: bool = False,
    text_field: str = "text",
    text: str | None = None,
    date_field: str | None = None,
) -> tuple[list[dict], dict]:
    """Sentences to predict from an article .txt, a folder of them, or table rows (JSONL/CSV/TSV/Parquet).

    Returns ``(sentences, info)``: each sentence has ``id`` and ``text`` (plus ``article``, ``date``,
    ``position``, ``kind``, ``start``, ``end`` when it comes from an article, split by
    :func:`~vistance.data.articles.article_sentences` as ``batch`` splits it: a row's ``title`` is
    scored as the sentence ``<article>-title``); ``info`` counts
    ``articles`` and ``skipped`` empty rows or articles, and says whether the input ``is_articles``.
    Raises :class:`InputError` naming the file on unreadable input. ``text``: see :func:`read_sources`.
    """
    parsed, sentences, info = read_sources(
        path, articles=articles, text_field=text_field, text=text, date_field=date_field
    )
    if sentences is not None:
        return sentences, info
    sentences = []
    for item in parsed or ():
        found = article_sentences(item["text"], item["id"], date=item["date"], title=item["title"])
        if not found:
            info["skipped"] += 1
            continue
        info["articles"] += 1
        sentences += found
    return sentences, info


ARTICLE_FIELDS = ("article", "date", "position", "kind", "start", "end")
OUTPUT_FIELDS = (
    "id",
    "text",
    *ARTICLE_FIELDS,
    "claim",
    "claim_score",
    "stance",
    "stance_scores",
    "speaker",
    "speaker_span",
    "speaker_confidence",
)


def output_row(sentence: dict, result: dict, digits: int = 4) -> dict:
    """One output row: the sentence's id/text (and article fields) then its prediction, rounded."""
    fields = ("id", "text", *ARTICLE_FIELDS) if "article" in sentence else ("id", "text")
    row = {k: sentence.get(k) for k in fields}  # a title line has no position or offsets: null
    row["claim"] = result["claim"]
    row["claim_score"] = round(result["claim_score"], digits)
    row["stance"] = result["stance"]
    scores = result["stance_scores"]
    row["stance_scores"] = None if scores is None else {k: round(v, digits) for k, v in scores.items()}
    if "speaker" in result:
        row["speaker"] = result["speaker"]
        row["speaker_span"] = result.get("speaker_span")
        if "speaker_confidence" in result:
            row["speaker_confidence"] = result["speaker_confidence"]
    return row


def flat_row(row: dict) -> dict:
    """A row with ``stance_scores`` and ``speaker_span`` flattened into columns (CSV, Parquet)."""
    r = dict(row)
    scores = r.pop("stance_scores", None) or {}
    for s in STANCE_LABELS:
        r[f"stance_{s}"] = scores.get(s)
    if "speaker_span" in r:
        span = r.pop("speaker_span") or (None, None)
        r["speaker_start"], r["speaker_end"] = span
    return r


def flat_columns(articles: bool, speakers: bool) -> list[str]:
    cols = ["id", "text", *(ARTICLE_FIELDS if articles else ()), "claim", "claim_score", "stance"]
    cols += [f"stance_{s}" for s in STANCE_LABELS]
    return cols + (["speaker", "speaker_start", "speaker_end", "speaker_confidence"] if speakers else [])


def render_rows(rows: list[dict], fmt: str, articles: bool | None = None) -> str:
    """Rows as JSONL, or as CSV with ``stance_scores``/``speaker_span`` flattened.

    ``articles`` says whether the CSV header has the article columns (default: if the rows do).
    """
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if articles is None:
        articles = bool(rows) and "article" in rows[0]
    speakers = bool(rows) and "speaker" in rows[0]
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=flat_columns(articles, speakers), lineterminator="\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in flat_row(r).items()} for r in rows)
    return out.getvalue()


def check_output(output: str | None, inputs: Sequence[str | Path]) -> None:
    """Refuse an output path that is (or resolves to) one of the inputs: predicting must never eat its input."""
    if output is None:
        return
    target = Path(output).resolve()
    if target.is_dir():
        raise InputError(f"--output {output}: is a folder; give a file name")
    for src in inputs:
        src = Path(src).resolve()
        if target == src or (src.is_dir() and src in target.parents and target.suffix.lower() == ".txt"):
            raise InputError(f"--output {output} would overwrite the input {src}; choose another file")


def write_output(rows: list[dict], output: str | None, fmt: str, articles: bool | None = None) -> None:
    text = render_rows(rows, fmt, articles)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    # Written beside the target and renamed: a failure never leaves a half-written prediction file.
    atomic_write_text(output, text)


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
        ax_tot.annotate(
            f"{total[o]}\n{total[o] / max(n_sent, 1):.0%}", (i, total[o]), ha="center", va="bottom", fontsize=7
        )
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
    p = argparse.ArgumentParser(
        prog="python -m vistance.predict",
        description="Predict claim and stance for new Vietnamese sentences or articles.",
    )
    p.add_argument("--model", required=True, help="run folder or checkpoint folder (joint, or claim for a cascade)")
    p.add_argument("--stance-model", help="stance-task run/checkpoint: cascade after the --model claim checkpoint")
    p.add_argument(
        "--input",
        required=True,
        help="an article .txt, a folder of .txt articles, or .jsonl/.csv rows with a text column",
    )
    p.add_argument("--output", help="output file (default: stdout)")
    p.add_argument(
        "--format", choices=("jsonl", "csv"), help="output format (default: from --output's suffix, else jsonl)"
    )
    p.add_argument("--articles", action="store_true", help="JSONL/CSV rows are whole articles, not sentences")
    p.add_argument("--text-field", default="text", help="name of the text column in JSONL/CSV input (default: text)")
    p.add_argument(
        "--date-field",
        metavar="NAME",
        help="column holding each row's date (default: the first of date, "
        "published_at, pubDate, time that holds one; ISO datetimes and RSS dates become YYYY-MM-DD)",
    )
    p.add_argument("--batch-size", type=int, default=32)
    engine_arguments(p)
    p.add_argument(
        "--attributor",
        choices=("rules", "learned"),
        help="how speakers are attributed: the rules, or the learned ranker over their candidates "
        "(default: the checkpoint's; docs/speakers.md compares them)",
    )
    p.add_argument(
        "--claim-threshold", type=float, help="claim iff claim_score >= this (default: the checkpoint's, else 0.5)"
    )
    p.add_argument(
        "--threads",
        type=threads_arg,
        default="auto",
        help="torch intra-op threads, or 'auto': one per core not busy with other processes (default)",
    )
    p.add_argument("--per-article", action="store_true", help="also print stance counts per article to stderr")
    p.add_argument("--plot", metavar="FILE.png", help="article input: stacked bars of stance counts per article")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    fmt = args.format or ("csv" if args.output and args.output.lower().endswith(".csv") else "jsonl")
    try:
        return _run(args, fmt)
    except VistanceError as e:
        return exit_on_error(e)


def _run(args: argparse.Namespace, fmt: str) -> int:
    if args.batch_size < 1:
        raise InputError("--batch-size must be at least 1")
    check_output(args.output, [args.input])
    sentences, info = read_input(
        args.input, articles=args.articles, text_field=args.text_field, date_field=args.date_field
    )
    # Load the model even for empty input, so a wrong --model never passes silently.
    clf = StanceClassifier.from_pretrained(
        args.model,
        args.stance_model,
        **engine_options(args),
        num_threads=args.threads,
        batch_size=args.batch_size,
        claim_threshold=args.claim_threshold,
        attributor=args.attributor,
    )
    if not sentences:
        write_output([], args.output, fmt, info["is_articles"])
        where = f" -> {args.output}" if args.output else ""
        print(
            f"no sentences to predict in {args.input} ({info['skipped']} empty row(s)/article(s) skipped); "
            f"wrote an empty output{where}",
            file=sys.stderr,
        )
        return 0
    results = clf.predict_sentences(sentences, progress=not args.quiet and len(sentences) >= PROGRESS_MIN)
    rows = [output_row(s, r) for s, r in zip(sentences, results)]
    write_output(rows, args.output, fmt, info["is_articles"])

    if args.per_article and info["articles"]:
        for article, counts in per_article_counts(rows).items():
            print(f"{article}: {format_counts(counts)}", file=sys.stderr)
    if args.plot:
        if info["articles"]:
            print(f"plot: {plot_counts(per_article_counts(rows), args.plot)}", file=sys.stderr)
        else:
            print(
                "warning: --plot needs article input (a .txt, a folder, or --articles); no plot written",
                file=sys.stderr,
            )
    source = f" from {info['articles']} article(s)" if info["articles"] else ""
    skipped = f", {info['skipped']} empty skipped" if info["skipped"] else ""
    where = f" -> {args.output}" if args.output else ""
    print(f"{len(rows)} sentence(s){source}{skipped}: {format_counts(stance_counts(results))}{where}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
