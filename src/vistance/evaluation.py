"""Evaluate a trained model: predictions on a labelled set, the metrics, their uncertainty, its errors.

With test sets of a few dozen sentences one macro-F1 number misleads, so every evaluation carries
a 95 % percentile bootstrap interval (sentences resampled with replacement, fixed seed) for
macro-F1 and F_avg, the calibration of its probabilities (ECE and the bins of a reliability
diagram), and the table of misclassified sentences, most confident first.

Three sources of predictions, one result type (:class:`Evaluation`):

* ``evaluate_run(RUN, split="test"|"dev")``: the run's checkpoint on ``<run>/splits/<split>.jsonl``;
* ``evaluate_run(RUN_OR_CHECKPOINT, data=FILE)``: on any labelled corpus file (e.g. a new batch) or
  another run's ``splits/<part>.jsonl``;
* a ``--cv`` run: the saved test predictions of every fold, pooled (each sentence is tested once),
  plus mean ± std of the fold scores.

:mod:`vistance.reports.evaluation` turns an :class:`Evaluation` into files; :mod:`vistance.reports.comparison`
ranks runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .data import file_sha256, load_corpus, read_jsonl, read_labelled_table
from .errors import VistanceError
from .metrics import (
    HEADLINE_METRICS,
    calibration,
    encode,
    fold_mean_std,
    load_stance_metric,
)
from .metrics.intervals import bootstrap_ci
from .runs import existing_folds as fold_dirs
from .runs import is_cv_run, run_labels, run_status
from .tasks import TASKS, as_task, get_task

FOLD_METRICS = HEADLINE_METRICS
CI_METRICS = ("macro_f1", "f_avg")
"""Metrics reported with a bootstrap interval (the issue's two headline scores)."""


class EvaluationError(VistanceError):
    """Something to evaluate is missing or inconsistent; the message names the path."""


@dataclass
class BootstrapConfig:
    n_resamples: int = 1000
    """Resamples of the test sentences; 1000 gives intervals stable to about ±0.005."""
    confidence: float = 0.95
    seed: int = 0
    """Fixed so that re-running a report gives the same interval."""


@dataclass
class Evaluation:
    """One model's predictions on one labelled set and everything measured on them."""

    task: str
    labels: list[str]
    """Label names, columns of ``probs``: the task's order (``vistance.tasks``) for the corpus tasks, else the
    model's."""
    ids: list[str]
    texts: list[str]
    gold: list[str]
    pred: list[str]
    probs: np.ndarray
    """(n, len(labels)) probabilities, rows sum to 1."""
    source: dict
    """What was evaluated: run / checkpoint / split or data file (with sha256), time."""
    metrics: dict = field(default_factory=dict)
    """The stance metric's output: accuracy, macro_f1, per_class, f_avg, claim_f1, confusion_matrix."""
    ci: dict = field(default_factory=dict)
    """{metric: {estimate, low, high}} percentile bootstrap intervals."""
    calibration: dict = field(default_factory=dict)
    """{ece, n_bins, bins: [{low, high, count, accuracy, confidence}]}."""
    bootstrap: BootstrapConfig = field(default_factory=BootstrapConfig)
    folds: list[dict] | None = None
    """CV runs only: per-fold metrics of the fold's test predictions."""
    fold_summary: dict | None = None
    """CV runs only: {"mean": {metric: v}, "std": {metric: v}} over folds (population std, as train.py)."""
    raw_probs: np.ndarray | None = None
    """The model's probabilities before the checkpoint's temperature (None when not recorded)."""
    calibration_raw: dict | None = None
    """Calibration of ``raw_probs``: the reliability diagram before calibration."""
    meta: list[dict] | None = None
    """Per sentence: ``source`` (corpus file stem) and ``part`` (title / lede / body) where known."""
    claim_threshold: float | None = None
    """The claim threshold of the decision that made ``pred``."""

    @property
    def n(self) -> int:
        return len(self.gold)

    @property
    def errors(self) -> list[dict]:
        """Every misclassified sentence, the most confident mistakes first."""
        rows = []
        for i, (g, p) in enumerate(zip(self.gold, self.pred)):
            if g == p:
                continue
            probs = {lab: float(self.probs[i, j]) for j, lab in enumerate(self.labels)}
            rows.append(
                {
                    "id": self.ids[i],
                    "text": self.texts[i],
                    "gold": g,
                    "pred": p,
                    "confidence": probs[p],
                    "p_gold": probs[g],
                    "probs": probs,
                }
            )
        rows.sort(key=lambda r: (-r["confidence"], r["id"]))
        return rows

    def error_groups(self, top: int = 6, examples: int = 4) -> list[dict]:
        """The largest gold -> predicted confusions, each with its share of all errors and example
        sentences (the most confident mistakes first)."""
        errors = self.errors
        groups: dict[tuple[str, str], list[dict]] = {}
        for e in errors:
            groups.setdefault((e["gold"], e["pred"]), []).append(e)
        ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]
        return [
            {
                "gold": g,
                "pred": p,
                "count": len(rows),
                "share": round(len(rows) / max(1, len(errors)), 3),
                "examples": [
                    {"id": r["id"], "text": r["text"], "confidence": round(r["confidence"], 3)} for r in rows[:examples]
                ],
            }
            for (g, p), rows in ranked
        ]

    def by_group(self, key: str) -> dict[str, dict]:
        """Metrics (with macro-F1 intervals) per value of a per-sentence ``meta`` key (``source``, ``part``)."""
        if not self.meta:
            return {}
        values = sorted({m.get(key) for m in self.meta if m.get(key)})
        out = {}
        for v in values:
            idx = [i for i, m in enumerate(self.meta) if m.get(key) == v]
            gold = [self.gold[i] for i in idx]
            pred = [self.pred[i] for i in idx]
            m = score_metrics(gold, pred, self.labels)
            ci = bootstrap_ci(
                gold, pred, self.labels, self.bootstrap.n_resamples, self.bootstrap.confidence, self.bootstrap.seed
            )
            out[v] = {
                "n": len(idx),
                "macro_f1": m["macro_f1"],
                "accuracy": m["accuracy"],
                "macro_f1_ci": ci.get("macro_f1"),
            }
        return out

    def to_dict(self) -> dict:
        """The content of the report's ``metrics.json`` (no per-sentence data: see errors.csv)."""
        out = {
            "source": self.source,
            "task": self.task,
            "labels": self.labels,
            "n": self.n,
            "metrics": self.metrics,
            "ci": self.ci,
            "bootstrap": vars(self.bootstrap),
            "calibration": self.calibration,
            "n_errors": sum(g != p for g, p in zip(self.gold, self.pred)),
            "error_groups": self.error_groups(),
        }
        if self.calibration_raw is not None:
            out["calibration_uncalibrated"] = self.calibration_raw
        if self.claim_threshold is not None:
            out["claim_threshold"] = self.claim_threshold
        for key in ("source", "part"):
            groups = self.by_group(key)
            if len(groups) > 1:
                out[f"by_{key}"] = groups
        if self.folds is not None:
            out["cv"] = {"k": len(self.folds), "folds": self.folds, **(self.fold_summary or {})}
        return out


# --------------------------------------------------------------------------- scoring


def score_metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    """The packaged ``evaluate`` stance metric on label names."""
    return load_stance_metric().compute(predictions=list(pred), references=list(gold), labels=list(labels))


def score(
    ids: Sequence[str],
    texts: Sequence[str],
    gold: Sequence[str],
    probs: np.ndarray,
    labels: Sequence[str],
    task: str,
    source: dict,
    pred: Sequence[str] | None = None,
    bootstrap: BootstrapConfig | None = None,
    raw_probs: np.ndarray | None = None,
    meta: list[dict] | None = None,
    claim_threshold: float = 0.5,
    items: Sequence[dict] | None = None,
) -> Evaluation:
    """Measure predictions: metrics, bootstrap intervals, calibration. ``pred`` defaults to the task's decision
    at ``claim_threshold``; ``raw_probs`` (before calibration) add the uncalibrated reliability diagram."""
    labels = list(labels)
    probs = np.asarray(probs, dtype=float).reshape(len(gold), len(labels))
    task_obj = get_task(task, labels)
    canonical = list(task_obj.labels)
    if sorted(labels) == sorted(canonical) and labels != canonical:
        # a checkpoint from before labels had one order: show every report in the task's order
        order = [labels.index(lab) for lab in canonical]
        probs = probs[:, order]
        if raw_probs is not None:
            raw_probs = np.asarray(raw_probs, dtype=float)[:, order]
        labels = canonical
    if len(gold) == 0:
        raise EvaluationError(f"{source.get('split_file') or source.get('data') or source}: no sentences to evaluate")
    unknown = sorted(set(gold) - set(labels))
    if unknown:
        raise EvaluationError(f"gold labels {unknown} are not among the model's labels {labels}")
    if pred is None:  # the decision users get (claim threshold, then stance): see vistance.tasks.decide
        from .decision import Decision

        pred = Decision(claim_threshold=claim_threshold).labels(probs, task_obj, items)
    bootstrap = bootstrap or BootstrapConfig()
    ci = bootstrap_ci(gold, pred, labels, bootstrap.n_resamples, bootstrap.confidence, bootstrap.seed)
    return Evaluation(
        task=task,
        labels=labels,
        ids=[str(i) for i in ids],
        texts=list(texts),
        gold=list(gold),
        pred=list(pred),
        probs=probs,
        source=source,
        metrics=score_metrics(gold, pred, labels),
        ci={m: ci[m] for m in CI_METRICS if m in ci},
        calibration=calibration(probs, encode(gold, labels)),
        bootstrap=bootstrap,
        raw_probs=None if raw_probs is None else np.asarray(raw_probs, dtype=float),
        calibration_raw=None
        if raw_probs is None
        else calibration(np.asarray(raw_probs, dtype=float), encode(gold, labels)),
        meta=meta,
        claim_threshold=claim_threshold if task_obj.detects_claims and task_obj.has_stance else None,
    )


# --------------------------------------------------------------------------- run folders


def _rows_to_arrays(rows: list[dict], labels: list[str], where: Path):
    """predictions.jsonl rows -> (ids, texts, gold, pred, probs) with probs in ``labels`` order."""
    probs = np.zeros((len(rows), len(labels)))
    for i, r in enumerate(rows):
        missing = [k for k in ("id", "text", "gold", "probs") if k not in r]
        if missing:
            raise EvaluationError(f"{where}: row {i + 1} lacks {', '.join(map(repr, missing))}")
        # a label the model never outputs (absent from its probs) has probability 0
        probs[i] = [float(r["probs"].get(lab, 0.0)) for lab in labels]
    pred = [r.get("pred") or labels[j] for r, j in zip(rows, probs.argmax(axis=1))]
    return [r["id"] for r in rows], [r["text"] for r in rows], [r["gold"] for r in rows], pred, probs


def _rows_extras(rows: list[dict], labels: list[str]) -> tuple[np.ndarray | None, list[dict]]:
    """The uncalibrated probabilities (when every row has them) and the per-sentence source / part."""
    raw = None
    if rows and all("raw_probs" in r for r in rows):
        raw = np.array([[float(r["raw_probs"].get(lab, 0.0)) for lab in labels] for r in rows])
    return raw, [{k: r.get(k) for k in ("source", "part")} for r in rows]


def evaluate_predictions_file(
    path: str | Path, labels: list[str], task: str, source: dict, bootstrap: BootstrapConfig | None = None
) -> Evaluation:
    """Score a saved ``predictions.jsonl`` (rows ``{id, text, gold, pred, probs}``) without re-running a model."""
    path = Path(path)
    if not path.is_file():
        raise EvaluationError(f"{path}: missing (the run saved no test predictions)")
    rows = read_jsonl(path)
    ids, texts, gold, pred, probs = _rows_to_arrays(rows, labels, path)
    raw, meta = _rows_extras(rows, labels)
    return score(
        ids, texts, gold, probs, labels, task, source, pred=pred, bootstrap=bootstrap, raw_probs=raw, meta=meta
    )


def evaluate_cv(run_dir: str | Path, bootstrap: BootstrapConfig | None = None) -> Evaluation:
    """Pool the fold test predictions of a ``--cv`` run; fold scores give mean ± std."""
    run_dir = Path(run_dir)
    folds = fold_dirs(run_dir)
    if not folds:
        raise EvaluationError(f"{run_dir}: no fold-* folders; not a --cv run")
    task, labels = run_labels(run_dir)
    if labels is None:
        task, labels = run_labels(folds[0])
    if labels is None:
        raise EvaluationError(f"{run_dir}: neither metrics.json nor data.json records the labels")
    ids, texts, gold, pred, probs, fold_scores, raws, meta = [], [], [], [], [], [], [], []
    for fold in folds:
        path = fold / "predictions.jsonl"
        if not path.is_file():
            raise EvaluationError(f"{path}: missing (fold did not finish)")
        rows = read_jsonl(path)
        i, t, g, p, pr = _rows_to_arrays(rows, labels, path)
        raw, m_rows = _rows_extras(rows, labels)
        raws.append(raw)
        meta += m_rows
        m = score_metrics(g, p, labels)
        fold_scores.append({"fold": fold.name, "n": len(g), **{k: m[k] for k in FOLD_METRICS if k in m}})
        ids += i
        texts += t
        gold += g
        pred += p
        probs.append(pr)
    source = {"run": str(run_dir), "split": "test (pooled over folds)", "cv": len(folds), "evaluated_at": _now()}
    raw = None if any(r is None for r in raws) else np.concatenate(raws)
    ev = score(
        ids,
        texts,
        gold,
        np.concatenate(probs),
        labels,
        task,
        source,
        pred=pred,
        bootstrap=bootstrap,
        raw_probs=raw,
        meta=meta,
    )
    ev.folds = fold_scores
    ev.fold_summary = fold_mean_std(fold_scores)
    return ev


def run_test_evaluation(run_dir: str | Path, bootstrap: BootstrapConfig | None = None) -> Evaluation:
    """A finished run's saved test predictions (pooled folds for ``--cv``); no model is loaded."""
    run_dir = Path(run_dir)
    if is_cv_run(run_dir):
        return evaluate_cv(run_dir, bootstrap)
    task, labels = run_labels(run_dir)
    if labels is None:
        raise EvaluationError(f"{run_dir}: neither metrics.json nor data.json records the labels")
    source = {"run": str(run_dir), "split": "test", "evaluated_at": _now()}
    return evaluate_predictions_file(run_dir / "predictions.jsonl", labels, task, source, bootstrap)


# --------------------------------------------------------------------------- running a model


def _load_predictor(path: Path):
    from .checkpoint import load_predictor

    return load_predictor(path)


def _is_split_file(path: Path) -> bool:
    """Whether ``path`` is a run's ``splits/<part>.jsonl`` (corpus records plus the derived ``label``)."""
    if path.suffix != ".jsonl":
        return False
    try:
        with path.open(encoding="utf-8") as f:
            first = next((line for line in f if line.strip()), "")
        record = json.loads(first)
    except (OSError, ValueError):  # not UTF-8 or not JSON: the corpus reader says what is wrong, in one line
        return False
    return isinstance(record, dict) and "label" in record and "text" in record


def _labelled_file(path: Path, task: str, run_dir: Path | None) -> list[dict]:
    """Examples ``{id, text, label}`` of a labelled file for ``task``.

    The three corpus tasks read the corpus format; a ``custom`` model (trained on a generic
    CSV/TSV/JSONL) reads the file with training's own reader and the run's column names, so a
    row is read here exactly as it was read for training (BOM, label white space, empty rows).
    """
    if not path.is_file():
        raise EvaluationError(f"{path}: no such file")
    if task in TASKS:
        if _is_split_file(path):  # a run's splits/<part>.jsonl: already examples, with the run's labels
            examples = read_jsonl(path)
            labels = set(TASKS[task].labels)
            for n, e in enumerate(examples, 1):
                if e.get("label") not in labels:
                    raise EvaluationError(f"{path}:{n}: label {e.get('label')!r} is not one of the {task} task's")
            return examples
        return TASKS[task].examples(load_corpus(path))

    text_col, label_col = "text", "label"
    if run_dir is not None and (run_dir / "config.yaml").is_file():
        import yaml

        data_cfg = (yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")) or {}).get("data", {})
        text_col, label_col = data_cfg.get("text_column", "text"), data_cfg.get("label_column", "label")
    return read_labelled_table(path, text_col, label_col, EvaluationError)


def evaluate_run(
    path: str | Path,
    split: str = "test",
    data: str | Path | None = None,
    predictor=None,
    batch_size: int = 32,
    bootstrap: BootstrapConfig | None = None,
) -> Evaluation:
    """Evaluate a run (or, with ``data``, a checkpoint folder) on its split or on a labelled file.

    ``predictor`` replaces ``load_predictor(path)`` (tests pass a fake one). A ``--cv`` run has no
    single checkpoint: its evaluation pools the saved fold test predictions instead.
    """
    path = Path(path)
    if not path.exists():
        raise EvaluationError(f"{path}: no such run or checkpoint folder")
    is_run = (path / "status.json").is_file()
    if is_run:
        status = run_status(path)
        if status != "complete":
            raise EvaluationError(f"{path}: run is {status!r}, not complete; nothing to evaluate")
        if is_cv_run(path):
            if data is not None or split != "test":
                hint = (
                    f"; or evaluate one fold's model: {path / 'fold-1' / 'checkpoint'} --data FILE"
                    if (path / "fold-1" / "checkpoint").is_dir()
                    else ""
                )
                raise EvaluationError(
                    f"{path}: a --cv run keeps only its folds' test predictions (no single checkpoint); "
                    f"evaluate it without --split/--data{hint}"
                )
            return evaluate_cv(path, bootstrap)
    elif data is None:
        raise EvaluationError(f"{path}: not a run folder (no status.json); give --data FILE to evaluate a checkpoint")
    if split not in ("test", "dev"):
        raise EvaluationError(f"--split must be test or dev, not {split!r}")

    if data is None:  # check the split exists before spending seconds on loading a model
        split_file = path / "splits" / f"{split}.jsonl"
        if not split_file.is_file():
            raise EvaluationError(f"{split_file}: missing")
    predictor = predictor if predictor is not None else _load_predictor(path)
    labels = list(predictor.labels)
    task = as_task(predictor.task, labels).name
    if data is None:
        examples = read_jsonl(split_file)
        source = {"run": str(path), "split": split, "split_file": str(split_file)}
    else:
        data = Path(data)
        examples = _labelled_file(data, task, path if is_run else None)
        source = {"run": str(path) if is_run else None, "data": str(data), "data_sha256": file_sha256(data)}
    source.update(
        {
            "checkpoint": str(getattr(predictor, "path", path)),
            "kind": getattr(predictor, "kind", None),
            "evaluated_at": _now(),
        }
    )
    for n, e in enumerate(examples, 1):
        if "text" not in e or "label" not in e:
            raise EvaluationError(f"{source.get('split_file') or data}:{n}: needs 'text' and 'label'")
    texts = [e["text"] for e in examples]
    # The checkpoint's decision (vistance.decision): calibrated probabilities and its claim threshold.
    decision = getattr(predictor, "decision", None)
    try:
        ctx = (
            {"contexts": [e.get("context") or "" for e in examples]}
            if getattr(predictor, "reads_context", False)
            else {}
        )
        raw = np.asarray(
            predictor.predict_proba(texts, batch_size=batch_size, progress=True, calibrated=False, **ctx), dtype=float
        )
    except TypeError:  # a predictor of another origin (tests, plugins) without the calibrated switch
        raw, decision = (
            np.asarray(predictor.predict_proba(texts, batch_size=batch_size, progress=True), dtype=float),
            None,
        )
    probs = decision.calibrate(raw) if decision is not None else raw
    threshold = decision.claim_threshold if decision is not None else 0.5
    if decision is not None:
        source["decision"] = decision.to_dict()
    ids = [e.get("id", str(n)) for n, e in enumerate(examples, 1)]
    from .training import sentence_part

    meta = [
        {"source": e.get("source"), "part": e.get("part") or (sentence_part(e) if "kind" in e else None)}
        for e in examples
    ]
    return score(
        ids,
        texts,
        [e["label"] for e in examples],
        probs,
        labels,
        task,
        source,
        bootstrap=bootstrap,
        raw_probs=raw if decision is not None and decision.temperature != 1.0 else None,
        meta=meta,
        claim_threshold=threshold,
        items=examples,
    )


def default_out_dir(path: str | Path, split: str = "test", data: str | Path | None = None) -> Path:
    """``<run>/eval-<split>/`` or ``<run>/eval-<data file stem>/``.

    A checkpoint folder is never written into (it is what gets shipped): its run or fold folder
    gets the report, or, for a stand-alone checkpoint, a sibling ``<checkpoint>-eval-<stem>/``.
    """
    path = Path(path)
    name = f"eval-{Path(data).stem}" if data is not None else f"eval-{split}"
    if (path / "vistance.json").is_file():
        parent = path.parent
        if (parent / "metrics.json").is_file() or (parent / "status.json").is_file():
            return parent / name
        return parent / f"{path.name}-{name}"
    return path / name


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
