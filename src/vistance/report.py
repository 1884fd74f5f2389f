"""Turn an :class:`~vistance.evaluation.Evaluation` into files a person reads.

``write_report(ev, out_dir)`` writes

* ``metrics.json``: every number (metrics, intervals, calibration bins, CV folds);
* ``report.md``: the same as tables, with the plots beside it as PNG files;
* ``report.html``: one self-contained page (plots embedded as base64 PNG, inline CSS), so it can
  be mailed or archived without its folder;
* ``errors.csv``: every misclassified sentence with gold, prediction and probabilities, most
  confident mistakes first (these are the ones worth reading: label noise or a systematic blind spot).

The small HTML/Markdown helpers here are shared with :mod:`vistance.compare`.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import (
    Figure,  # the OO API: no pyplot global state, no GUI backend
)

from .evaluation import Evaluation

# --------------------------------------------------------------------------- formatting


def fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "—"
    if isinstance(x, (bool, np.bool_)):
        return str(x)
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{x:.{digits}f}"
    return str(x)


def fmt_ci(ci: dict | None) -> str:
    if not ci or ci.get("low") is None:
        return "—"
    return f"[{ci['low']:.3f}, {ci['high']:.3f}]"


def fmt_seconds(s) -> str:
    if s is None:
        return "—"
    s = float(s)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def fmt_bytes(b) -> str:
    if b is None:
        return "—"
    b = float(b)
    for unit in ("B", "KB", "MB", "GB"):
        if b < 1024 or unit == "GB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    return "—"  # pragma: no cover


class Html(str):
    """A table cell that is already HTML (not escaped)."""


class Num(str):
    """A formatted number as text (``0.71 ± 0.05``): aligned like numbers."""


class NumHtml(Html):
    """A number cell that is already HTML (a value with its interval below it)."""


def _is_num(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating, Num, NumHtml)) and not isinstance(v, bool)


def with_sub(value: str, sub: str) -> NumHtml:
    """A number with a small second line (its interval) in one cell."""
    return NumHtml(f'{html.escape(value)}<div class="sub">{html.escape(sub)}</div>' if sub else html.escape(value))


def _cell_html(v) -> str:
    if isinstance(v, NumHtml):
        return f'<td class="num">{v}</td>'
    if isinstance(v, Html):
        return f"<td>{v}</td>"
    if _is_num(v):
        return f'<td class="num">{html.escape(fmt(v))}</td>'
    return f"<td>{html.escape(fmt(v))}</td>"


def html_table(headers: Sequence[str], rows: Iterable[Sequence], cls: str = "", num_headers: bool = True) -> str:
    """A table; numbers are right-aligned with tabular digits, text is escaped."""
    rows = [list(r) for r in rows]
    head_cls = []
    for j, _ in enumerate(headers):
        col_num = num_headers and rows and all(_is_num(r[j]) or r[j] is None for r in rows)
        head_cls.append(' class="num"' if col_num else "")
    # <wbr>: long config keys (training.learning_rate) may break after a dot instead of widening the table
    head = "".join(f"<th{c}>{html.escape(h).replace('.', '.<wbr>')}</th>" for h, c in zip(headers, head_cls))
    body = "\n".join("<tr>" + "".join(_cell_html(v) for v in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'


def md_table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    def cell(v) -> str:
        return (v if isinstance(v, str) else fmt(v)).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


CSS = """
:root { --fg:#1f2328; --muted:#59636e; --line:#d8dee4; --head:#f3f5f7; --accent:#0b5cad; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif;
       margin: 0; background: #eef1f4; color: var(--fg); line-height: 1.45; }
main { max-width: 1240px; margin: 24px auto; padding: 28px 40px 40px; background: #fff;
       border: 1px solid var(--line); border-radius: 8px; }
h1 { font-size: 1.55rem; margin: 0 0 .2em; }
h2 { font-size: 1.15rem; margin: 2em 0 .6em; padding-bottom: .3em; border-bottom: 1px solid var(--line); }
p, li { max-width: 80ch; }
.meta { color: var(--muted); font-size: .85rem; margin: 0 0 1em; }
.meta code { font-size: .8rem; }
table { border-collapse: collapse; margin: .4em 0 1em; font-size: .88rem; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
tbody tr:hover td { background: #f0f6ff; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 1em 0; }
.kpi { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.kpi .v { font-size: 1.45rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.kpi .l { color: var(--muted); font-size: .8rem; }
.kpi .ci { color: var(--muted); font-size: .8rem; font-variant-numeric: tabular-nums; }
.figs { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: .8rem; margin-top: 4px; max-width: 520px; }
.scroll { max-height: 640px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
.scroll table { margin: 0; }
.scroll th { position: sticky; top: 0; z-index: 1; }
main.wide { max-width: 1560px; padding: 24px 24px 36px; }
table.runs { font-size: .82rem; }
table.runs td { white-space: nowrap; }
table.runs th { white-space: normal; min-width: 3.5em; }
.sub { font-size: .74rem; color: var(--muted); }
table.errors { font-size: .82rem; }
table.errors td:nth-child(2) { white-space: nowrap; }
table.errors td:nth-child(3) { min-width: 320px; max-width: 520px; }
.gold { color: #1a7f37; font-weight: 600; } .pred { color: #cf222e; font-weight: 600; }
.warn { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 8px 14px; margin: 1em 0; }
.best td { font-weight: 600; }
.note { color: var(--muted); font-size: .85rem; }
"""


WIDE = ' class="wide"'


def html_page(title: str, body: str, wide: bool = False) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n"
        f"<body><main{WIDE if wide else ''}>\n{body}\n</main></body></html>\n"
    )


def figure_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


def img_tag(png: bytes, alt: str, caption: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">{cap}</figure>'


# --------------------------------------------------------------------------- plots


def plot_confusion(cm: Sequence[Sequence[int]], labels: Sequence[str], title: str = "Confusion matrix") -> bytes:
    """Counts in each cell; colour = share of the gold row (recall), so rare classes stay readable."""
    cm = np.asarray(cm, dtype=float)
    k = len(labels)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    size = 1.4 + 0.75 * k
    fig = Figure(figsize=(size + 1.0, size))
    ax = fig.subplots()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{int(cm[i, j])}\n{share[i, j]:.0%}", ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.55 else "#1f2328")
    ax.set_xticks(range(k), labels, rotation=30, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=11)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of gold row")
    return figure_png(fig)


def plot_per_class(per_class: dict, title: str = "Per-class scores") -> bytes:
    labels = list(per_class)
    x = np.arange(len(labels))
    fig = Figure(figsize=(max(4.8, 1.3 * len(labels) + 1.5), 3.6))
    ax = fig.subplots()
    for off, key, colour in ((-0.27, "precision", "#9ecae1"), (0.0, "recall", "#4292c6"), (0.27, "f1", "#08519c")):
        vals = [per_class[lab][key] for lab in labels]
        bars = ax.bar(x + off, vals, width=0.26, label=key if key != "f1" else "F1", color=colour)
        if key == "f1":
            ax.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    ax.set_xticks(x, [f"{lab}\n(n={per_class[lab]['support']})" for lab in labels])
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("score")
    ax.set_title(title, fontsize=11)
    ax.legend(loc="upper center", ncols=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, -0.2))
    ax.spines[["top", "right"]].set_visible(False)
    return figure_png(fig)


def plot_reliability(cal: dict, title: str = "Reliability diagram") -> bytes:
    """Accuracy per confidence bin against the diagonal (perfect calibration); counts below.

    The red hatched part of a bar is the gap between the bin's accuracy and its mean confidence:
    above the blue bar = over-confident, inside it = under-confident.
    """
    bins = cal["bins"]
    width = 1.0 / max(cal["n_bins"], 1)
    centres = np.array([(b["low"] + b["high"]) / 2 for b in bins])
    filled = np.array([b["count"] > 0 for b in bins])
    acc = np.array([b["accuracy"] if b["count"] else 0.0 for b in bins])
    conf = np.array([b["confidence"] if b["count"] else 0.0 for b in bins])
    counts = np.array([b["count"] for b in bins])
    fig = Figure(figsize=(4.6, 4.6))
    ax, axc = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.08})
    ax.plot([0, 1], [0, 1], ls="--", color="#59636e", lw=1, label="perfect calibration", zorder=3)
    ax.bar(centres[filled], acc[filled], width=width * 0.92, color="#4292c6", edgecolor="#08519c", label="accuracy")
    lo, hi = np.minimum(acc, conf)[filled], np.maximum(acc, conf)[filled]
    ax.bar(centres[filled], hi - lo, bottom=lo, width=width * 0.92, fill=False, edgecolor="#cf222e", hatch="///",
           lw=1.2, label="gap to mean confidence")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title} (ECE = {fmt(cal.get('ece'))})", fontsize=11)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    axc.bar(centres, counts, width=width * 0.92, color="#8c959f")
    axc.set_ylabel("n", fontsize=9)
    axc.set_xlabel("confidence (top-label probability)")
    for a in (ax, axc):
        a.spines[["top", "right"]].set_visible(False)
    return figure_png(fig)


# --------------------------------------------------------------------------- report content

METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "f_avg": "F_avg", "claim_f1": "claim F1"}


def _title(ev: Evaluation) -> str:
    run = ev.source.get("run") or ev.source.get("checkpoint") or "model"
    name = "/".join(Path(run).parts[-2:])
    what = ev.source.get("split") or Path(ev.source.get("data", "data")).name
    return f"Evaluation of {name} on {what}"


def _summary_rows(ev: Evaluation) -> list[list]:
    m = ev.metrics
    rows = [["sentences", ev.n, ""], ["accuracy", m["accuracy"], ""],
            ["macro-F1", m["macro_f1"], fmt_ci(ev.ci.get("macro_f1"))]]
    if "f_avg" in m:
        rows.append(["F_avg (favor, against)", m["f_avg"], fmt_ci(ev.ci.get("f_avg"))])
    if "claim_f1" in m:
        rows.append(["claim-detection F1", m["claim_f1"], ""])
    rows.append(["ECE (10 bins)", ev.calibration.get("ece"), ""])
    rows.append(["misclassified", len(ev.errors), ""])
    return rows


def _per_class_rows(ev: Evaluation) -> list[list]:
    pc = ev.metrics["per_class"]
    return [[lab, pc[lab]["precision"], pc[lab]["recall"], pc[lab]["f1"], pc[lab]["support"]] for lab in ev.labels]


def _cv_rows(ev: Evaluation) -> tuple[list[str], list[list]]:
    keys = [k for k in METRIC_NAMES if k in ev.fold_summary["mean"]]
    rows = [[f["fold"], f["n"], *[f.get(k) for k in keys]] for f in ev.folds]
    rows.append(["mean ± std", sum(f["n"] for f in ev.folds),
                 *[Num(f"{ev.fold_summary['mean'][k]:.3f} ± {ev.fold_summary['std'][k]:.3f}") for k in keys]])
    return ["fold", "n", *[METRIC_NAMES[k] for k in keys]], rows


def _calibration_rows(ev: Evaluation) -> list[list]:
    return [[f"({b['low']:.1f}, {b['high']:.1f}]", b["count"], b["confidence"], b["accuracy"]]
            for b in ev.calibration["bins"] if b["count"]]


def _source_lines(ev: Evaluation) -> list[str]:
    s = ev.source
    keys = ("run", "checkpoint", "kind", "split", "split_file", "data", "data_sha256", "cv", "evaluated_at")
    lines = [f"{k}: {s[k]}" for k in keys if s.get(k) is not None]
    return lines + [f"task: {ev.task}", f"labels: {', '.join(ev.labels)}"]


BOOTSTRAP_NOTE = (
    "Intervals: 95 % percentile bootstrap over sentences ({n} resamples, seed {seed}). "
    "A difference between two models smaller than these intervals may be noise; use "
    "`evaluate.py --compare` for a paired test."
)
ECE_NOTE = (
    "ECE: sentences binned by the model's top probability; the weighted mean gap between the "
    "bin's accuracy and its mean confidence. 0 = probabilities can be read as chances."
)
MD_ERRORS_SHOWN = 100
"""Markdown is for skimming; errors.csv and the HTML hold every error."""


def render_markdown(ev: Evaluation, plots: dict[str, str] | None = None) -> str:
    """``plots`` maps plot name -> PNG file name beside report.md."""
    out = [f"# {_title(ev)}", ""]
    out += [f"- {line}" for line in _source_lines(ev)] + [""]
    if ev.folds:
        headers, rows = _cv_rows(ev)
        out += [f"## Cross-validation ({len(ev.folds)} folds)", "", md_table(headers, rows), "",
                "Scores below pool the test predictions of every fold (each sentence tested once).", ""]
    out += ["## Summary", "", md_table(["metric", "value", "95 % CI"], _summary_rows(ev)), "",
            BOOTSTRAP_NOTE.format(n=ev.bootstrap.n_resamples, seed=ev.bootstrap.seed), ""]
    out += ["## Per class", "", md_table(["label", "precision", "recall", "F1", "support"], _per_class_rows(ev)), ""]
    cm = ev.metrics["confusion_matrix"]
    out += ["## Confusion matrix", "", "Rows: gold, columns: predicted.", "",
            md_table(["gold \\ pred", *ev.labels], [[lab, *row] for lab, row in zip(ev.labels, cm)]), ""]
    out += ["## Calibration", "", ECE_NOTE, "", f"ECE = {fmt(ev.calibration.get('ece'))}", "",
            md_table(["confidence", "n", "mean confidence", "accuracy"], _calibration_rows(ev)), ""]
    if plots:
        out += ["## Plots", ""] + [f"![{name}]({file})" for name, file in plots.items()] + [""]
    errors = ev.errors
    out += [f"## Errors ({len(errors)} of {ev.n}, most confident first)", ""]
    if errors:
        shown = errors[:MD_ERRORS_SHOWN]
        rows = [[e["id"], e["text"], e["gold"], e["pred"], e["confidence"], e["p_gold"]] for e in shown]
        out += [md_table(["id", "text", "gold", "pred", "p(pred)", "p(gold)"], rows), ""]
        if len(errors) > len(shown):
            out += [f"… {len(errors) - len(shown)} more in errors.csv.", ""]
    else:
        out += ["No errors.", ""]
    return "\n".join(out)


def _kpis(ev: Evaluation) -> str:
    m = ev.metrics
    items = [("macro-F1", m["macro_f1"], ev.ci.get("macro_f1"))]
    if "f_avg" in m:
        items.append(("F_avg", m["f_avg"], ev.ci.get("f_avg")))
    if "claim_f1" in m:
        items.append(("claim F1", m["claim_f1"], None))
    items += [("accuracy", m["accuracy"], None), ("ECE", ev.calibration.get("ece"), None)]
    cards = []
    for label, v, ci in items:
        ci_html = f'<div class="ci">95 % CI {fmt_ci(ci)}</div>' if ci else ""
        cards.append(f'<div class="kpi"><div class="l">{label}</div><div class="v">{fmt(v)}</div>{ci_html}</div>')
    return '<div class="kpis">' + "".join(cards) + "</div>"


def _errors_html(ev: Evaluation) -> str:
    errors = ev.errors
    if not errors:
        return "<p>No errors.</p>"
    rows = []
    for k, e in enumerate(errors, 1):
        rows.append([k, e["id"], e["text"], Html(f'<span class="gold">{html.escape(e["gold"])}</span>'),
                     Html(f'<span class="pred">{html.escape(e["pred"])}</span>'), e["confidence"], e["p_gold"],
                     *[e["probs"][lab] for lab in ev.labels]])
    headers = ["#", "id", "text", "gold", "pred", "p(pred)", "p(gold)", *ev.labels]
    return (f'<p class="note">p(pred), p(gold): the model\'s probability of its prediction and of the gold label; '
            f'then the probability of each label. All {len(errors)} also in errors.csv.</p>'
            f'<div class="scroll">{html_table(headers, rows, cls="errors")}</div>')


def render_html(ev: Evaluation, pngs: dict[str, bytes]) -> str:
    title = _title(ev)
    meta = "<br>".join(html.escape(line) for line in _source_lines(ev))
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{meta}</p>', _kpis(ev)]
    if ev.folds:
        headers, rows = _cv_rows(ev)
        parts += [f"<h2>Cross-validation ({len(ev.folds)} folds)</h2>", html_table(headers, rows),
                  ('<p class="note">Everything below pools the test predictions of every fold '
                   "(each sentence tested once); the confusion matrix is the pooled one.</p>")]
    note = BOOTSTRAP_NOTE.format(n=ev.bootstrap.n_resamples, seed=ev.bootstrap.seed)
    parts += ["<h2>Summary</h2>", html_table(["metric", "value", "95 % CI"], _summary_rows(ev)),
              f'<p class="note">{html.escape(note)}</p>']
    parts += ["<h2>Per class</h2>", '<div class="figs">',
              html_table(["label", "precision", "recall", "F1", "support"], _per_class_rows(ev)),
              img_tag(pngs["per_class"], "per-class precision, recall and F1"), "</div>"]
    cm = ev.metrics["confusion_matrix"]
    parts += ["<h2>Confusion matrix</h2>", '<div class="figs">',
              img_tag(pngs["confusion"], "confusion matrix", "Rows: gold label, columns: prediction. "
                      "Colour: share of the gold row."),
              html_table(["gold \\ pred", *ev.labels], [[lab, *row] for lab, row in zip(ev.labels, cm)]), "</div>"]
    parts += ["<h2>Calibration</h2>", '<div class="figs">', img_tag(pngs["reliability"], "reliability diagram"),
              '<div style="max-width:440px">', f'<p class="note">{html.escape(ECE_NOTE)}</p>',
              html_table(["confidence", "n", "mean confidence", "accuracy"], _calibration_rows(ev)), "</div></div>"]
    parts += [f"<h2>Errors ({len(ev.errors)} of {ev.n}, most confident first)</h2>", _errors_html(ev)]
    return html_page(title, "\n".join(parts))


def write_errors_csv(ev: Evaluation, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "gold", "pred", "confidence", "p_gold", *[f"p_{lab}" for lab in ev.labels]])
        for e in ev.errors:
            w.writerow([e["id"], e["text"], e["gold"], e["pred"], f"{e['confidence']:.4f}", f"{e['p_gold']:.4f}",
                        *[f"{e['probs'][lab]:.4f}" for lab in ev.labels]])


def write_report(ev: Evaluation, out_dir: str | Path) -> dict[str, Path]:
    """Write metrics.json, report.md (+ PNGs), report.html and errors.csv into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pooled = " (pooled over folds)" if ev.folds else ""
    pngs = {
        "confusion": plot_confusion(ev.metrics["confusion_matrix"], ev.labels, "Confusion matrix" + pooled),
        "per_class": plot_per_class(ev.metrics["per_class"]),
        "reliability": plot_reliability(ev.calibration),
    }
    paths = {name: out_dir / f"{name}.png" for name in pngs}
    for name, png in pngs.items():
        paths[name].write_bytes(png)
    paths["metrics"] = out_dir / "metrics.json"
    paths["metrics"].write_text(json.dumps(ev.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["errors"] = out_dir / "errors.csv"
    write_errors_csv(ev, paths["errors"])
    paths["markdown"] = out_dir / "report.md"
    paths["markdown"].write_text(render_markdown(ev, {n: f"{n}.png" for n in pngs}), encoding="utf-8")
    paths["html"] = out_dir / "report.html"
    paths["html"].write_text(render_html(ev, pngs), encoding="utf-8")
    return paths
