"""Compare finished runs: which one to ship, and is its lead real?

``compare_runs(run_dirs)`` scores each complete run's saved test predictions (pooled folds for a
``--cv`` run) and ``write_comparison(cmp, out_dir)`` writes ``comparison.json``,
``comparison.md`` and a self-contained ``comparison.html``:

* one table of runs with the metrics and their bootstrap intervals, training time and model size, and
  one of the settings that differ between them (only those each run's model kind reads: a learning
  rate does not differ for the TF-IDF baseline, which has none);
* a paired bootstrap of every run against the best run on the *same* test sentences: both are
  scored on the same resamples, and ``p`` is the share of resamples in which the best run is not
  ahead (small p: the lead is unlikely to be luck of the draw);
* runs evaluated on different test sets (other ids, texts or gold labels) form separate groups,
  are flagged, and are never ranked against each other;
* incomplete runs (``status.json`` not "complete") are skipped with a warning naming them.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import yaml
from matplotlib.figure import Figure

from ..config import config_from_dict, flatten
from ..data.tables import atomic_write_text
from ..errors import VistanceError
from ..evaluation import BootstrapConfig, Evaluation, run_test_evaluation
from ..metrics.intervals import paired_bootstrap
from ..runs import read_json, run_status
from .format import Num, fmt, fmt_bytes, fmt_ci, fmt_seconds, md_table
from .plots import figure_png
from .templates import Cell, Table, png_uri, with_sub
from .templates import render_html as render_template

GROUP_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class RunResult:
    """One complete run in a comparison."""

    path: Path
    name: str
    """``<config name>/<timestamp>``: the last two parts of the run folder."""
    evaluation: Evaluation
    config: dict
    """Flattened config.yaml (``{"training.learning_rate": 2e-5, ...}``)."""
    train_seconds: float | None
    model_size_bytes: int | None
    num_parameters: int | None
    test_set: str = ""
    """Fingerprint of the test sentences (ids, texts, gold labels)."""
    uses: frozenset[str] | None = None
    """The flattened keys that can change this run's result (``Config.relevant_keys``); None when its
    config.yaml cannot be rebuilt (another version's kind, say): then every key counts."""
    group: str = ""
    """Letter of the test-set group; runs are ranked only within a group."""
    rank: int = 0
    vs_best: dict | None = None
    """Paired bootstrap against the group's best run: {metric: {delta, low, high, p}}; None for the best."""

    @property
    def macro_f1(self) -> float:
        return self.evaluation.metrics["macro_f1"]

    def reads(self, key: str) -> bool:
        return self.uses is None or key in self.uses


@dataclass
class Comparison:
    runs: list[RunResult]
    """Sorted by group, then rank."""
    skipped: list[dict] = field(default_factory=list)
    """[{run, reason}] for runs left out (incomplete, missing, unreadable)."""
    differing_keys: list[str] = field(default_factory=list)
    bootstrap: BootstrapConfig = field(default_factory=BootstrapConfig)

    @property
    def groups(self) -> dict[str, list[RunResult]]:
        out: dict[str, list[RunResult]] = {}
        for r in self.runs:
            out.setdefault(r.group, []).append(r)
        return out

    def to_dict(self) -> dict:
        return {
            "runs": [
                {
                    "run": str(r.path),
                    "name": r.name,
                    "group": r.group,
                    "rank": r.rank,
                    "test_set": r.test_set,
                    "n": r.evaluation.n,
                    "task": r.evaluation.task,
                    "config": {k: r.config.get(k) for k in self.differing_keys if r.reads(k)},
                    "metrics": {
                        k: r.evaluation.metrics.get(k)
                        for k in ("accuracy", "macro_f1", "f_avg", "claim_f1")
                        if k in r.evaluation.metrics
                    },
                    "per_class_f1": {lab: v["f1"] for lab, v in r.evaluation.metrics["per_class"].items()},
                    "ci": r.evaluation.ci,
                    "ece": r.evaluation.calibration.get("ece"),
                    "cv": r.evaluation.fold_summary,
                    "vs_best": r.vs_best,
                    "train_seconds": r.train_seconds,
                    "model_size_bytes": r.model_size_bytes,
                    "num_parameters": r.num_parameters,
                }
                for r in self.runs
            ],
            "skipped": self.skipped,
            "differing_config_keys": self.differing_keys,
            "bootstrap": vars(self.bootstrap),
        }


# --------------------------------------------------------------------------- building


def fingerprint_test_set(ev: Evaluation) -> str:
    """Same sentences (id, text) with the same gold labels <=> same fingerprint, whatever the order."""
    h = hashlib.sha256()
    for item in sorted(zip(ev.ids, ev.texts, ev.gold)):
        h.update(json.dumps(item, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:12]


def _run_name(path: Path) -> str:
    return "/".join(path.resolve().parts[-2:])


def _load_run(path: Path, bootstrap: BootstrapConfig) -> RunResult:
    ev = run_test_evaluation(path, bootstrap)
    cfg_path = path / "config.yaml"
    raw = (yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}) if cfg_path.is_file() else {}
    try:
        uses = frozenset(config_from_dict(raw).relevant_keys()) if raw else None
    except VistanceError:
        uses = None
    metrics = read_json(path / "metrics.json") if (path / "metrics.json").is_file() else {}
    status = read_json(path / "status.json")
    return RunResult(
        path=path,
        name=_run_name(path),
        evaluation=ev,
        config=flatten(raw),
        uses=uses,
        train_seconds=status.get("train_seconds", metrics.get("train_seconds")),
        model_size_bytes=metrics.get("model_size_bytes"),
        num_parameters=metrics.get("num_parameters"),
        test_set=fingerprint_test_set(ev),
    )


def differing_config_keys(configs: Sequence[dict], uses: Sequence[frozenset[str] | None] | None = None) -> list[str]:
    """Flattened keys whose value is not the same in every config that uses them (a key missing from one
    counts). ``uses``: per config, the keys its run reads (None: all); a key read by one run only never differs."""
    uses = list(uses) if uses is not None else [None] * len(configs)
    keys: list[str] = []
    for c in configs:
        keys += [k for k in c if k not in keys]

    def values(k):
        return [
            json.dumps(c[k], default=str) if k in c else "<missing>"
            for c, u in zip(configs, uses)
            if u is None or k in u
        ]

    return [k for k in keys if len(set(values(k))) > 1]


def _paired(best: RunResult, other: RunResult, bootstrap: BootstrapConfig) -> dict:
    """Paired bootstrap of best vs other, with other's predictions aligned to best's sentence order."""
    b, o = best.evaluation, other.evaluation
    where = {(i, t): k for k, (i, t) in enumerate(zip(o.ids, o.texts))}
    order = [where[(i, t)] for i, t in zip(b.ids, b.texts)]
    other_pred = [o.pred[k] for k in order]
    labels = list(b.labels) + [lab for lab in o.labels if lab not in b.labels]
    out = {}
    for metric in ("macro_f1", "f_avg"):
        if metric in b.metrics and metric in o.metrics:
            out[metric] = paired_bootstrap(
                b.gold, b.pred, other_pred, labels, metric, bootstrap.n_resamples, bootstrap.confidence, bootstrap.seed
            )
    return out


def compare_runs(run_dirs: Sequence[str | Path], bootstrap: BootstrapConfig | None = None) -> Comparison:
    """Score, group by test set, rank within groups and test each run against its group's best."""
    bootstrap = bootstrap or BootstrapConfig()
    runs, skipped = [], []
    for raw in run_dirs:
        path = Path(raw)
        status = run_status(path) if path.is_dir() else "missing folder"
        if status != "complete":
            reason = f"status is {status!r}, not 'complete'" if path.is_dir() else "no such folder"
            warnings.warn(f"skipping {path}: {reason}", UserWarning, stacklevel=2)
            skipped.append({"run": str(path), "reason": reason})
            continue
        try:
            runs.append(_load_run(path, bootstrap))
        except ValueError as e:  # EvaluationError, malformed files: report, keep comparing the rest
            warnings.warn(f"skipping {path}: {e}", UserWarning, stacklevel=2)
            skipped.append({"run": str(path), "reason": str(e)})
    names = [r.name for r in runs]
    for r in runs:
        if names.count(r.name) > 1:
            r.name = str(r.path)

    # Groups: the largest set of runs sharing a test set is A, and so on.
    by_set: dict[str, list[RunResult]] = {}
    for r in runs:
        by_set.setdefault(r.test_set, []).append(r)
    ordered = sorted(by_set.values(), key=lambda g: -len(g))  # stable: ties keep command-line order
    result: list[RunResult] = []
    for letter, group in zip(GROUP_NAMES, ordered):
        group = sorted(group, key=lambda r: -r.macro_f1)  # stable: ties keep command-line order
        best = group[0]
        for rank, r in enumerate(group, 1):
            r.group, r.rank = letter, rank
            r.vs_best = None if r is best else _paired(best, r, bootstrap)
        result += group
    # "name" is already in the run column (<name>/<timestamp>)
    keys = [k for k in differing_config_keys([r.config for r in result], [r.uses for r in result]) if k != "name"]
    return Comparison(runs=result, skipped=skipped, differing_keys=keys, bootstrap=bootstrap)


# --------------------------------------------------------------------------- plots


def plot_macro_f1(cmp: Comparison) -> bytes:
    """macro-F1 with its 95 % interval per run; one colour per test-set group."""
    runs = cmp.runs
    colours = ["#0b5cad", "#bc4c00", "#1a7f37", "#8250df", "#cf222e"]
    fig = Figure(figsize=(7.5, 0.9 + 0.45 * len(runs)))
    ax = fig.subplots()
    y = np.arange(len(runs))[::-1]
    for yi, r in zip(y, runs):
        ci = r.evaluation.ci.get("macro_f1", {})
        lo, hi = ci.get("low"), ci.get("high")
        err = None if lo is None else [[r.macro_f1 - lo], [hi - r.macro_f1]]
        ax.errorbar(r.macro_f1, yi, xerr=err, fmt="o", capsize=4, color=colours[GROUP_NAMES.index(r.group) % 5])
        ax.annotate(
            f"{r.macro_f1:.3f}", (r.macro_f1, yi), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8
        )
    ax.set_yticks(y, [f"{r.name}  [{r.group}]" for r in runs], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, len(runs) - 0.3)
    ax.set_xlabel("macro-F1 (95 % bootstrap interval)")
    ax.grid(axis="x", color="#e5e7eb")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("macro-F1 per run   [test-set group]", fontsize=11)
    return figure_png(fig)


def plot_per_class_f1(cmp: Comparison) -> bytes:
    """Grouped bars: per label, one bar per run."""
    labels: list[str] = []
    for r in cmp.runs:
        labels += [lab for lab in r.evaluation.labels if lab not in labels]
    runs = cmp.runs
    width = 0.8 / max(len(runs), 1)
    x = np.arange(len(labels))
    fig = Figure(figsize=(max(6.0, 1.0 + len(labels) * (0.5 + 0.35 * len(runs))), 3.8))
    ax = fig.subplots()
    palette = ["#08519c", "#4292c6", "#9ecae1", "#bc4c00", "#f0a35e", "#1a7f37", "#8250df", "#cf222e"]
    for k, r in enumerate(runs):
        pc = r.evaluation.metrics["per_class"]
        vals = [pc[lab]["f1"] if lab in pc else 0.0 for lab in labels]
        ax.bar(
            x - 0.4 + width * (k + 0.5),
            vals,
            width=width * 0.95,
            label=f"{r.name} [{r.group}]",
            color=palette[k % len(palette)],
        )
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1")
    ax.set_title("Per-class F1", fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(
        fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=min(3, max(len(runs), 1))
    )
    return figure_png(fig)


# --------------------------------------------------------------------------- rendering


def _table(cmp: Comparison, for_html: bool) -> tuple[list[str], list[list]]:
    """Runs as rows. In HTML an interval sits under its value, which keeps the table narrow."""

    def with_ci(value, ci: dict | None):
        sub = fmt_ci(ci) if ci and ci.get("low") is not None else ""
        return with_sub(fmt(value), sub) if for_html else Num(f"{fmt(value)} {sub}".strip())

    has_f_avg = any("f_avg" in r.evaluation.metrics for r in cmp.runs)
    has_claim = any("claim_f1" in r.evaluation.metrics for r in cmp.runs)
    headers = ["set", "rank", "run", "n", "macro-F1 [95 % CI]"]
    headers += ["F_avg [95 % CI]"] if has_f_avg else []
    headers += ["claim F1"] if has_claim else []
    headers += ["accuracy", "ECE", "Δ vs best [95 % CI]", "p", "train time", "model size"]
    rows = []
    for r in cmp.runs:
        m, ev = r.evaluation.metrics, r.evaluation
        cv = f" (CV {len(ev.folds)})" if ev.folds else ""
        name = _name_html(r.name, cv) if for_html else r.name + cv
        row = [r.group, r.rank, name, ev.n, with_ci(m["macro_f1"], ev.ci.get("macro_f1"))]
        if has_f_avg:
            row += [with_ci(m.get("f_avg"), ev.ci.get("f_avg"))]
        if has_claim:
            row += [m.get("claim_f1")]
        vs = (r.vs_best or {}).get("macro_f1")
        delta: Num | Cell = Num("best")
        if vs is not None:  # shown as run − best, so a run behind the best reads negative
            diff = f"{-vs['delta']:+.3f}"
            interval = f"[{-vs['high']:+.3f}, {-vs['low']:+.3f}]"
            delta = with_sub(diff, interval) if for_html else Num(f"{diff} {interval}")
        params = _params(r.num_parameters)
        size = (
            with_sub(fmt_bytes(r.model_size_bytes), params)
            if for_html
            else Num(f"{fmt_bytes(r.model_size_bytes)} ({params})" if params else fmt_bytes(r.model_size_bytes))
        )
        row += [
            m["accuracy"],
            ev.calibration.get("ece"),
            delta,
            Num("—") if vs is None else vs["p"],
            Num(fmt_seconds(r.train_seconds)),
            size,
        ]
        rows.append(row)
    return headers, rows


def _name_html(name: str, extra: str = "") -> Cell:
    """Config name over timestamp (narrower); a long folder path may break anywhere rather than widen the page."""
    if "/" in name and not name.startswith("/"):
        head, tail = name.split("/", 1)
        return Cell(head, sub=tail + extra)
    return Cell(name + extra, tag="span", cls="wrap")


NOT_READ = "n/a"


def _settings_table(cmp: Comparison, for_html: bool) -> tuple[list[str], list[list]]:
    """The settings that differ, one row per key and one column per run: however many keys differ, the
    table grows down, not across the page."""
    headers = ["setting"] + [f"{r.group}{r.rank} {'/'.join(Path(r.name).parts[-2:])}" for r in cmp.runs]
    rows: list[list] = []
    for k in cmp.differing_keys:
        if not for_html:
            rows.append([k] + [_cfg(r.config.get(k)) if r.reads(k) else NOT_READ for r in cmp.runs])
            continue
        cells = [
            Cell(_cfg(r.config.get(k)), tag="span", cls="wrap") if r.reads(k) else Cell(NOT_READ, tag="span", cls="sub")
            for r in cmp.runs
        ]
        rows.append([Cell(k, tag="code", breaks=True), *cells])
    return headers, rows


def _params(n) -> str:
    if not n:
        return ""
    return f"{n / 1e6:.1f} M params" if n >= 1e6 else f"{n / 1e3:.1f} k params" if n >= 1e3 else f"{n} params"


def _cfg(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return ", ".join(_cfg(x) for x in v)
    if isinstance(v, str) and v != v.strip() or v == "":  # "query: ", "": quoted, or the space is invisible
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _warnings(cmp: Comparison) -> list[str]:
    out = [f"Skipped {s['run']}: {s['reason']}." for s in cmp.skipped]
    groups = cmp.groups
    if len(groups) > 1:
        desc = "; ".join(f"{g}: {', '.join(r.name for r in rs)} (n={rs[0].evaluation.n})" for g, rs in groups.items())
        out.append(
            f"These runs were evaluated on {len(groups)} different test sets and are ranked only within "
            f"their group, never against each other — {desc}."
        )
    return out


NOTE = (
    "set: runs sharing a letter were tested on the same sentences. "
    "Δ vs best: this run's macro-F1 minus its group's best, with the 95 % interval of a paired "
    "bootstrap ({n} resamples of the same test sentences, seed {seed}). p: share of resamples in which the best "
    "run is not ahead (difference ≤ 0); a p above 0.05 means this run's gap to the best may be chance "
    "(p is one-sided, so it can fall just below 0.05 while the two-sided interval still touches 0)."
)
SETTINGS_NOTE = (
    "Only the settings a run's model kind reads count: data.*, the kind's model.* keys, training.seed and "
    "training.cv, and the other training.* keys for the kinds trained with them. "
    f"{NOT_READ}: this run's kind does not read the setting. Columns: the run's test-set group and rank (A1: the "
    "best of group A), then its name."
)
SAME_SETTINGS = "All runs share the same settings (among those their model kinds read)."


def render_markdown(cmp: Comparison, plots: dict[str, str] | None = None) -> str:
    headers, rows = _table(cmp, for_html=False)
    out = [f"# Comparison of {len(cmp.runs)} runs", ""]
    out += [f"> **Warning:** {w}" for w in _warnings(cmp)] + ([""] if _warnings(cmp) else [])
    out += [md_table(headers, rows), "", NOTE.format(n=cmp.bootstrap.n_resamples, seed=cmp.bootstrap.seed), ""]
    out += ["## Settings that differ", ""]
    if cmp.differing_keys:
        out += [md_table(*_settings_table(cmp, for_html=False)), "", SETTINGS_NOTE, ""]
    else:
        out += [SAME_SETTINGS, ""]
    out += ["## Runs", ""] + [f"- {r.name}: `{r.path}` (test set {r.group} = {r.test_set})" for r in cmp.runs] + [""]
    if plots:
        out += ["## Plots", ""] + [f"![{k}]({v})" for k, v in plots.items()] + [""]
    return "\n".join(out)


def render_html(cmp: Comparison, pngs: dict[str, bytes]) -> str:
    """comparison.html (``templates/comparison.html``): ``pngs`` are the plots, embedded in the page."""
    note = NOTE.format(n=cmp.bootstrap.n_resamples, seed=cmp.bootstrap.seed)
    folders = [
        [r.group, _name_html(r.name), Cell(str(r.path), tag="code", cls="wrap"), r.test_set, r.evaluation.n]
        for r in cmp.runs
    ]
    return render_template(
        "comparison.html",
        title=f"Comparison of {len(cmp.runs)} runs",
        wide=True,
        generated=datetime.now().strftime("%Y-%m-%d %H:%M"),
        bootstrap=cmp.bootstrap,
        warnings=_warnings(cmp),
        runs=Table(*_table(cmp, for_html=True), cls="runs"),
        note=note,
        settings=Table(*_settings_table(cmp, for_html=True), cls="settings", num_headers=False)
        if cmp.differing_keys
        else None,
        settings_note=SETTINGS_NOTE,
        same_settings=SAME_SETTINGS,
        png={name: png_uri(png) for name, png in pngs.items()},
        folders=Table(["group", "run", "folder", "test set", "n"], folders),
    )


def write_comparison(cmp: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """comparison.json, comparison.md (+ PNGs) and comparison.html in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not cmp.runs:
        raise ValueError("no complete run to compare")
    pngs = {"macro_f1": plot_macro_f1(cmp), "per_class_f1": plot_per_class_f1(cmp)}
    paths = {k: out_dir / f"{k}.png" for k in pngs}
    for k, png in pngs.items():
        paths[k].write_bytes(png)
    paths["json"] = out_dir / "comparison.json"
    atomic_write_text(paths["json"], json.dumps(cmp.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n")
    paths["markdown"] = out_dir / "comparison.md"
    atomic_write_text(paths["markdown"], render_markdown(cmp, {k: f"{k}.png" for k in pngs}))
    paths["html"] = out_dir / "comparison.html"
    atomic_write_text(paths["html"], render_html(cmp, pngs))
    return paths


def default_out_dir(root: str | Path = "comparisons") -> Path:
    """``comparisons/<timestamp>``: outside ``runs/``, so ``--compare runs/*/*`` never meets its own output."""
    return Path(root) / datetime.now().strftime("%Y%m%d-%H%M%S")
