"""The building blocks every report shares: number formatting, HTML and Markdown tables, one CSS,
self-contained pages (plots embedded as base64 PNG) and the common plots. The reports themselves
(:mod:`.evaluation`, :mod:`.comparison`, the actor report, the model card) are built from these.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Sequence

import numpy as np
from matplotlib.figure import (
    Figure,  # the OO API: no pyplot global state, no GUI backend
)

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
.wrap { white-space: normal; overflow-wrap: anywhere; }
table.settings { table-layout: fixed; width: 100%; font-size: .82rem; }
table.settings th { white-space: normal; overflow-wrap: anywhere; }
table.settings th:first-child { width: 15em; }
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


