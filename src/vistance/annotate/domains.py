"""Does what a model learnt on one kind of news carry over to another? The cross-domain table.

Sources are the labelled files (``seed``, ``pool-2022``, ``news-2025``). For each training set (a
group of sources) and each test source:

* test source outside the training set: train on the whole training set (a grouped dev part carved
  out of it, for the kinds that pick C or stop early on dev) and test on all of the test source;
* test source inside it: K grouped folds of the test source; each fold is tested on after training
  on the rest of the training set plus the other folds. Scores are pooled over the folds.

Joint macro-F1 with a 95% bootstrap interval, per cell. ``python -m vistance.annotate domains
--config configs/baseline.yaml --out data/annotated/cross-domain``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..data import grouped_kfold, grouped_split, load_corpus
from ..metrics import classification_metrics
from ..metrics.intervals import bootstrap_ci
from ..tasks import TASKS, decide

TRAIN_SETS = {"seed + 2022": ("seed", "pool-2022"), "2025": ("news-2025",), "all": ("seed", "pool-2022", "news-2025")}


def _fit_predict(cfg, task, train: list[dict], test: list[dict], seed: int, tmp: Path) -> np.ndarray:
    from ..training import make_learner

    split = grouped_split(train, cfg.data.dev_size, 0.15, seed=seed)
    learner = make_learner(cfg, task, tmp, split.train + split.test)
    learner.fit(split.train + split.test, split.dev)
    return learner.predict_proba(test)


def cross_domain(cfg, files: dict[str, str], k: int = 5, seed: int = 42, work: Path | None = None) -> dict:
    import tempfile

    task = TASKS[cfg.data.task]
    data = {name: task.examples(load_corpus(path)) for name, path in files.items()}
    out: dict = {
        "task": task.name,
        "kind": cfg.model.kind,
        "cv": k,
        "sizes": {n: len(ex) for n, ex in data.items()},
        "labels": {n: {lab: sum(e["label"] == lab for e in ex) for lab in task.labels} for n, ex in data.items()},
        "cells": {},
    }
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        for train_name, sources in TRAIN_SETS.items():
            for test_name in files:
                gold, probs = [], []
                if test_name not in sources:
                    train = [e for s in sources for e in data[s]]
                    probs.append(_fit_predict(cfg, task, train, data[test_name], seed, Path(tmp)))
                    gold += [e["label"] for e in data[test_name]]
                else:
                    others = [e for s in sources if s != test_name for e in data[s]]
                    for fold in grouped_kfold(data[test_name], k, seed=seed):
                        rest = fold.train + fold.dev
                        probs.append(_fit_predict(cfg, task, others + rest, fold.test, seed, Path(tmp)))
                        gold += [e["label"] for e in fold.test]
                pred = decide(np.vstack(probs), task)
                m = classification_metrics(gold, pred, task.labels)
                ci = bootstrap_ci(gold, pred, task.labels, 1000, 0.95, 0)["macro_f1"]
                out["cells"][f"{train_name} → {test_name}"] = {
                    "train": train_name,
                    "test": test_name,
                    "in_domain": test_name in sources,
                    "n": len(gold),
                    "macro_f1": round(m["macro_f1"], 4),
                    "ci": [round(ci["low"], 4), round(ci["high"], 4)],
                    "f_avg": round(m["f_avg"], 4),
                    "claim_f1": round(m.get("claim_f1", float("nan")), 4),
                }
                print(
                    f"{cfg.model.kind}: train {train_name:12s} test {test_name:10s} macro-F1 {m['macro_f1']:.3f} "
                    f"[{ci['low']:.3f}, {ci['high']:.3f}] (n={len(gold)})",
                    flush=True,
                )
    return out


def markdown(results: Sequence[dict]) -> str:
    tests = list(results[0]["sizes"])
    lines = [
        "| model | trained on | " + " | ".join(f"test: {t}" for t in tests) + " |",
        "|---|---|" + "---|" * len(tests),
    ]
    for r in results:
        for train in TRAIN_SETS:
            cells = []
            for t in tests:
                c = r["cells"][f"{train} → {t}"]
                mark = "*" if c["in_domain"] else ""
                cells.append(f"{c['macro_f1']:.3f}{mark} [{c['ci'][0]:.2f}, {c['ci'][1]:.2f}]")
            lines.append(f"| {r['kind']} | {train} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_domains(config_paths: Sequence[str], files: dict[str, str], k: int, out: str | Path) -> list[dict]:
    from ..config import load_config

    results = [cross_domain(load_config(c), files, k) for c in config_paths]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    note = f"\n\n* in-domain: grouped {k}-fold CV of the test source\n"
    out.with_suffix(".md").write_text(markdown(results) + note, encoding="utf-8")
    return results
