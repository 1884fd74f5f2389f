"""Turn an :class:`~vistance.evaluation.Evaluation` into files a person reads.

``write_report(ev, out_dir)`` writes

* ``metrics.json``: every number (metrics, intervals, calibration bins, CV folds);
* ``report.md``: the same as tables, with the plots beside it as PNG files;
* ``report.html``: one self-contained page (plots embedded as base64 PNG, inline CSS), so it can
  be mailed or archived without its folder;
* ``errors.csv``: every misclassified sentence with gold, prediction and probabilities, most
  confident mistakes first (these are the ones worth reading: label noise or a systematic blind spot).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..data.tables import atomic_path, atomic_write_text
from ..evaluation import Evaluation
from .format import Num, fmt, fmt_ci, md_table
from .plots import plot_confusion, plot_per_class, plot_reliability
from .templates import Cell, Table, png_uri
from .templates import render_html as render_template

# --------------------------------------------------------------------------- report content

METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "f_avg": "F_avg", "claim_f1": "claim F1"}


def _title(ev: Evaluation) -> str:
    run = ev.source.get("run") or ev.source.get("checkpoint") or "model"
    name = "/".join(Path(run).parts[-2:])
    what = ev.source.get("split") or Path(ev.source.get("data", "data")).name
    return f"Evaluation of {name} on {what}"


def _summary_rows(ev: Evaluation) -> list[list]:
    m = ev.metrics
    rows = [
        ["sentences", ev.n, ""],
        ["accuracy", m["accuracy"], ""],
        ["macro-F1", m["macro_f1"], fmt_ci(ev.ci.get("macro_f1"))],
    ]
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
    rows.append(
        [
            "mean ± std",
            sum(f["n"] for f in ev.folds),
            *[Num(f"{ev.fold_summary['mean'][k]:.3f} ± {ev.fold_summary['std'][k]:.3f}") for k in keys],
        ]
    )
    return ["fold", "n", *[METRIC_NAMES[k] for k in keys]], rows


def _calibration_rows(ev: Evaluation) -> list[list]:
    return [
        [f"({b['low']:.1f}, {b['high']:.1f}]", b["count"], b["confidence"], b["accuracy"]]
        for b in ev.calibration["bins"]
        if b["count"]
    ]


def _source_lines(ev: Evaluation) -> list[str]:
    s = ev.source
    keys = ("run", "checkpoint", "kind", "split", "split_file", "data", "data_sha256", "cv", "evaluated_at")
    lines = [f"{k}: {s[k]}" for k in keys if s.get(k) is not None]
    decision = s.get("decision")
    if decision:
        lines.append(
            f"decision: claim iff calibrated claim_score >= {decision['claim_threshold']}, temperature "
            f"{decision['temperature']} (fitted on {decision.get('fitted_on', {}).get('split', 'dev')})"
        )
    return lines + [f"task: {ev.task}", f"labels: {', '.join(ev.labels)}"]


GROUPS_NOTE = (
    "The largest kinds of mistake (gold → predicted), each with its share of all errors and the "
    "most confident examples: read these before changing a model."
)


def _group_rows(ev: Evaluation) -> list[list]:
    return [
        [
            f"{g['gold']} → {g['pred']}",
            g["count"],
            f"{100 * g['share']:.0f} %",
            " · ".join(f"“{x['text'][:140]}” ({x['confidence']:.2f})" for x in g["examples"][:3]),
        ]
        for g in ev.error_groups()
    ]


def _by_rows(ev: Evaluation, key: str) -> list[list]:
    return [
        [name, g["n"], g["macro_f1"], fmt_ci(g.get("macro_f1_ci")), g["accuracy"]]
        for name, g in ev.by_group(key).items()
    ]


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
        out += [
            f"## Cross-validation ({len(ev.folds)} folds)",
            "",
            md_table(headers, rows),
            "",
            "Scores below pool the test predictions of every fold (each sentence tested once).",
            "",
        ]
    out += [
        "## Summary",
        "",
        md_table(["metric", "value", "95 % CI"], _summary_rows(ev)),
        "",
        BOOTSTRAP_NOTE.format(n=ev.bootstrap.n_resamples, seed=ev.bootstrap.seed),
        "",
    ]
    out += ["## Per class", "", md_table(["label", "precision", "recall", "F1", "support"], _per_class_rows(ev)), ""]
    cm = ev.metrics["confusion_matrix"]
    out += [
        "## Confusion matrix",
        "",
        "Rows: gold, columns: predicted.",
        "",
        md_table(["gold \\ pred", *ev.labels], [[lab, *row] for lab, row in zip(ev.labels, cm)]),
        "",
    ]
    out += [
        "## Calibration",
        "",
        ECE_NOTE,
        "",
        f"ECE = {fmt(ev.calibration.get('ece'))}",
        "",
        md_table(["confidence", "n", "mean confidence", "accuracy"], _calibration_rows(ev)),
        "",
    ]
    for key in ("source", "part"):
        if len(ev.by_group(key)) > 1:
            out += [f"## By {key}", "", md_table([key, "n", "macro-F1", "95 % CI", "accuracy"], _by_rows(ev, key)), ""]
    if ev.error_groups():
        out += [
            "## Largest error groups",
            "",
            GROUPS_NOTE,
            "",
            md_table(["gold → predicted", "n", "share", "examples (p(pred))"], _group_rows(ev)),
            "",
        ]
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


def _kpis(ev: Evaluation) -> list[dict]:
    m = ev.metrics
    items = [("macro-F1", m["macro_f1"], ev.ci.get("macro_f1"))]
    if "f_avg" in m:
        items.append(("F_avg", m["f_avg"], ev.ci.get("f_avg")))
    if "claim_f1" in m:
        items.append(("claim F1", m["claim_f1"], None))
    items += [("accuracy", m["accuracy"], None), ("ECE", ev.calibration.get("ece"), None)]
    return [{"label": label, "value": v, "ci": ci} for label, v, ci in items]


def _errors_table(ev: Evaluation) -> Table | None:
    if not ev.errors:
        return None
    rows = [
        [
            k,
            e["id"],
            e["text"],
            Cell(e["gold"], tag="span", cls="gold"),
            Cell(e["pred"], tag="span", cls="pred"),
            e["confidence"],
            e["p_gold"],
            *[e["probs"][lab] for lab in ev.labels],
        ]
        for k, e in enumerate(ev.errors, 1)
    ]
    return Table(["#", "id", "text", "gold", "pred", "p(pred)", "p(gold)", *ev.labels], rows, cls="errors")


def render_html(ev: Evaluation, pngs: dict[str, bytes]) -> str:
    """report.html (``templates/evaluation.html``): ``pngs`` are the plots, embedded in the page."""
    cv = None
    if ev.folds:
        headers, rows = _cv_rows(ev)
        cv = {"folds": len(ev.folds), "table": Table(headers, rows)}
    cm = ev.metrics["confusion_matrix"]
    groups = ev.error_groups()
    return render_template(
        "evaluation.html",
        title=_title(ev),
        meta_lines=_source_lines(ev),
        kpis=_kpis(ev),
        cv=cv,
        summary=Table(["metric", "value", "95 % CI"], _summary_rows(ev)),
        bootstrap_note=BOOTSTRAP_NOTE.format(n=ev.bootstrap.n_resamples, seed=ev.bootstrap.seed),
        per_class=Table(["label", "precision", "recall", "F1", "support"], _per_class_rows(ev)),
        confusion=Table(["gold \\ pred", *ev.labels], [[lab, *row] for lab, row in zip(ev.labels, cm)]),
        by_group=[
            (key, Table([key, "n", "macro-F1", "95 % CI", "accuracy"], _by_rows(ev, key)))
            for key in ("source", "part")
            if len(ev.by_group(key)) > 1
        ],
        error_groups=Table(["gold → predicted", "n", "share", "examples (p(pred))"], _group_rows(ev))
        if groups
        else None,
        groups_note=GROUPS_NOTE,
        calibration=Table(["confidence", "n", "mean confidence", "accuracy"], _calibration_rows(ev)),
        ece_note=ECE_NOTE,
        png={name: png_uri(png) for name, png in pngs.items()},
        n_errors=len(ev.errors),
        n=ev.n,
        errors=_errors_table(ev),
    )


def write_errors_csv(ev: Evaluation, path: Path) -> None:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:  # all or nothing
        w = csv.writer(f)
        w.writerow(["id", "text", "gold", "pred", "confidence", "p_gold", *[f"p_{lab}" for lab in ev.labels]])
        for e in ev.errors:
            w.writerow(
                [
                    e["id"],
                    e["text"],
                    e["gold"],
                    e["pred"],
                    f"{e['confidence']:.4f}",
                    f"{e['p_gold']:.4f}",
                    *[f"{e['probs'][lab]:.4f}" for lab in ev.labels],
                ]
            )


def write_report(ev: Evaluation, out_dir: str | Path) -> dict[str, Path]:
    """Write metrics.json, report.md (+ PNGs), report.html and errors.csv into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pooled = " (pooled over folds)" if ev.folds else ""
    pngs = {
        "confusion": plot_confusion(ev.metrics["confusion_matrix"], ev.labels, "Confusion matrix" + pooled),
        "per_class": plot_per_class(ev.metrics["per_class"]),
        "reliability": plot_reliability(
            ev.calibration, "Reliability (calibrated)" if ev.calibration_raw else "Reliability diagram"
        ),
    }
    if ev.calibration_raw is not None:  # the checkpoint's temperature: the diagram before it, beside the one after
        pngs["reliability_uncalibrated"] = plot_reliability(ev.calibration_raw, "Before calibration")
    paths = {name: out_dir / f"{name}.png" for name in pngs}
    for name, png in pngs.items():
        paths[name].write_bytes(png)
    paths["metrics"] = out_dir / "metrics.json"
    atomic_write_text(paths["metrics"], json.dumps(ev.to_dict(), ensure_ascii=False, indent=2) + "\n")
    paths["errors"] = out_dir / "errors.csv"
    write_errors_csv(ev, paths["errors"])
    paths["markdown"] = out_dir / "report.md"
    atomic_write_text(paths["markdown"], render_markdown(ev, {n: f"{n}.png" for n in pngs}))
    paths["html"] = out_dir / "report.html"
    atomic_write_text(paths["html"], render_html(ev, pngs))
    return paths
