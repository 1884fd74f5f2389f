"""Learning curve: how much does the baseline gain from more labelled data?

For each of K grouped folds (:func:`vistance.data.grouped_kfold`, near-copies never straddle a
split) the training part is subsampled to each fraction and the TF-IDF baseline is trained on it,
then scored on the fold's dev and test parts (all of them, whatever the fraction). Subsamples are
nested (the 25 % set is inside the 50 % set) and stratified by label, so a curve measures data
size rather than which sentences happened to be drawn. Mean ± std over folds per fraction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import grouped_kfold
from ..errors import ConfigError, InputError
from ..metrics import classification_metrics
from ..tasks import TASKS

DEFAULT_FRACTIONS = (0.25, 0.5, 0.75, 1.0)


@dataclass
class CurvePoint:
    fraction: float
    n_train: list[int]
    """Training sentences per fold at this fraction."""
    dev_macro_f1: list[float]
    test_macro_f1: list[float]

    def to_dict(self) -> dict:
        def ms(xs):
            return {"mean": float(np.mean(xs)), "std": float(np.std(xs))}

        return {
            "fraction": self.fraction,
            "n_train": ms(self.n_train),
            "dev_macro_f1": ms(self.dev_macro_f1),
            "test_macro_f1": ms(self.test_macro_f1),
            "folds": {"n_train": self.n_train, "dev_macro_f1": self.dev_macro_f1, "test_macro_f1": self.test_macro_f1},
        }


def nested_subsample(examples: Sequence[dict], fractions: Sequence[float], seed: int) -> dict[float, list[dict]]:
    """For each fraction, a stratified subsample; smaller fractions are subsets of larger ones.

    Each label keeps ``ceil(fraction * n_label)`` examples (at least one), in one seeded
    permutation per label, so no class vanishes from a small subsample.
    """
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        by_label.setdefault(e["label"], []).append(i)
    perms = {lab: [idx[j] for j in rng.permutation(len(idx))] for lab, idx in sorted(by_label.items())}
    out = {}
    for f in fractions:
        chosen = sorted(i for idx in perms.values() for i in idx[: max(1, math.ceil(f * len(idx)))])
        out[f] = [examples[i] for i in chosen]
    return out


def learning_curve(
    examples: Sequence[dict],
    make_model: Callable[[], object],
    preprocess: Callable[[list[str]], list[str]],
    labels: Sequence[str],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    k: int = 5,
    seed: int = 42,
    progress: bool = True,
) -> list[CurvePoint]:
    """Macro-F1 per fraction and fold. ``examples`` have ``text`` and ``label``.

    ``make_model()`` returns an unfitted classifier with ``fit(texts, labels)``, ``labels`` and
    ``predict_proba(texts)`` (the baseline's API); ``preprocess`` maps raw to model input.
    """
    from ..logs import progress as progress_bar

    for f in fractions:
        if not 0 < f <= 1:
            raise InputError(f"fractions must be in (0, 1], got {f}")
    folds = grouped_kfold(examples, k=k, seed=seed)
    # Preprocess every sentence once: word segmentation dominates the cost of a baseline fit.
    texts = preprocess([e["text"] for e in examples])
    pre = {id(e): t for e, t in zip(examples, texts)}
    points = {f: CurvePoint(f, [], [], []) for f in fractions}
    bar = progress_bar(total=len(folds) * len(fractions), desc="learning curve", unit="fit", disable=not progress)
    for fi, split in enumerate(folds):
        subsets = nested_subsample(split.train, fractions, seed + fi)
        for f in fractions:
            train = subsets[f]
            model = make_model()
            model.fit([pre[id(e)] for e in train], [e["label"] for e in train])
            point = points[f]
            point.n_train.append(len(train))
            for part, scores in ((split.dev, point.dev_macro_f1), (split.test, point.test_macro_f1)):
                proba = np.asarray(model.predict_proba([pre[id(e)] for e in part]))
                pred = [model.labels[i] for i in proba.argmax(axis=1)]
                scores.append(classification_metrics([e["label"] for e in part], pred, labels)["macro_f1"])
            bar.update(1)
    bar.close()
    return [points[f] for f in fractions]


def plot_curve(points: Sequence[CurvePoint], path: str | Path, title: str = "") -> Path:
    """Mean ± std macro-F1 against the number of training sentences, dev and test, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = [float(np.mean(p.n_train)) for p in points]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for key, name, fmt in (("dev_macro_f1", "dev", "o-"), ("test_macro_f1", "test fold", "s--")):
        ys = [getattr(p, key) for p in points]
        ax.errorbar(x, [np.mean(y) for y in ys], yerr=[np.std(y) for y in ys], fmt=fmt, capsize=4, label=name)
    ax.set_xticks(x, [f"{xi:.0f}\n({p.fraction:.0%})" for xi, p in zip(x, points)])
    ax.set_xlabel("training sentences per fold, mean (share of the training part)")
    ax.set_ylabel("macro-F1, mean ± std over folds")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    ax.set_title(title or "Baseline learning curve (grouped CV)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def run_curve(
    config_path: str | Path,
    fractions: Sequence[float],
    k: int,
    out: str | Path,
    overrides: Sequence[str] = (),
    seed: int | None = None,
) -> dict:
    """The ``curve`` command: config → labelled data → curve → ``out`` (PNG) and ``<out>.json``."""
    from ..config import load_config
    from ..data import expand_files, file_sha256, load_corpus
    from ..models.baseline import BaselineClassifier
    from ..text import Preprocessor

    cfg = load_config(config_path, overrides)
    if cfg.data.train_file is not None:
        raise ConfigError("the learning curve needs corpus-format data.files (data.train_file is set)")
    records = load_corpus(cfg.data.files)
    examples = TASKS[cfg.data.task].examples(records)
    seed = cfg.data.split_seed if seed is None else seed
    points = learning_curve(
        examples,
        make_model=lambda: BaselineClassifier(cfg.model.baseline),
        preprocess=Preprocessor(cfg.data.preprocess),
        labels=TASKS[cfg.data.task].labels,
        fractions=fractions,
        k=k,
        seed=seed,
    )
    out = Path(out)
    title = f"Baseline learning curve: {cfg.data.task} task, {len(examples)} sentences\n{k}-fold grouped CV"
    plot_curve(points, out, title)
    result = {
        "config": str(config_path),
        "files": {str(p): file_sha256(p) for p in expand_files(cfg.data.files)},
        "task": cfg.data.task,
        "sentences": len(examples),
        "cv": k,
        "seed": seed,
        "points": [p.to_dict() for p in points],
    }
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result
