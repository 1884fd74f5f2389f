"""Leak-free splits: stratified by label and grouped by near-duplicate text, so no sentence (or a
near-copy of it: the seeds repeat whole paragraphs across articles) is on both sides of a split.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


def near_duplicate_groups(texts: Sequence[str], threshold: float = 0.8) -> np.ndarray:
    """Group ids such that identical or near-identical texts share a group.

    Near-identical = cosine similarity of character 3-5-gram TF-IDF vectors >= ``threshold``
    (catches the seeds' paragraphs repeated across articles with a word changed). Groups are the
    connected components of that similarity graph, so splitting by group can never put two
    near-copies on opposite sides.
    """
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=int)
    keys = [" ".join(unicodedata.normalize("NFC", t).lower().split()) for t in texts]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=1)
    try:
        X = vec.fit_transform(keys)
    except ValueError:  # only empty / punctuation texts
        X = None
    if X is not None:
        sim = (X @ X.T).tocsr()
        sim.data = (sim.data >= threshold).astype(np.int8)
        sim.eliminate_zeros()
    else:
        from scipy.sparse import identity

        sim = identity(n, format="csr")
    # exact duplicates (after normalisation) always join, whatever the vectoriser thinks
    from scipy.sparse import coo_matrix

    first: dict[str, int] = {}
    rows, cols = [], []
    for i, k in enumerate(keys):
        j = first.setdefault(k, i)
        rows.append(i)
        cols.append(j)
    same = coo_matrix((np.ones(n), (rows, cols)), shape=(n, n)).tocsr()
    _, labels = connected_components(sim + same, directed=False)
    return labels


@dataclass
class Split:
    train: list[dict]
    dev: list[dict]
    test: list[dict]
    extra: dict[str, list[dict]] = field(default_factory=dict)
    """Further test sets by name (``data.extra_test``: whole sources kept out of train and dev)."""

    def sizes(self) -> dict:
        return {"train": len(self.train), "dev": len(self.dev), "test": len(self.test)}

    def items(self):
        return (("train", self.train), ("dev", self.dev), ("test", self.test))


def _group_fold(labels, groups, n_splits: int, seed: int):
    from sklearn.model_selection import StratifiedGroupKFold

    n_groups = len(set(groups))
    n_splits = max(2, min(n_splits, n_groups))
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(labels)), labels, groups))


def _grouped(examples, label_key: str, text_key: str):
    examples = list(examples)
    if len(examples) < 3:
        raise ValueError(f"need at least 3 examples to split, got {len(examples)}")
    labels = np.array([e[label_key] for e in examples])
    return examples, labels, near_duplicate_groups([e[text_key] for e in examples])


def _split_off_dev(examples, labels, groups, rest_idx, test_idx, k_dev: int, seed: int) -> Split:
    """Carve a grouped, stratified dev fold out of ``rest_idx``; the rest trains."""
    rest_idx = np.sort(rest_idx)
    tr, dv = _group_fold(labels[rest_idx], groups[rest_idx], k_dev, seed)[0]

    def pick(idx):
        return [examples[i] for i in sorted(idx)]

    return Split(train=pick(rest_idx[tr]), dev=pick(rest_idx[dv]), test=pick(test_idx))


def grouped_split(
    examples: Sequence[dict],
    dev_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 42,
    label_key: str = "label",
    text_key: str = "text",
) -> Split:
    """Deterministic train/dev/test split, stratified by label and grouped by near-duplicate text.

    sklearn's StratifiedGroupKFold does the work: the test fold is one of round(1/test_size)
    folds, the dev fold one of round((1-test_size)/dev_size) folds of what remains.
    """
    examples, labels, groups = _grouped(examples, label_key, text_key)
    rest_idx, test_idx = _group_fold(labels, groups, round(1 / test_size), seed)[0]
    k_dev = round((1 - test_size) / dev_size)
    return _split_off_dev(examples, labels, groups, rest_idx, test_idx, k_dev, seed + 1)


def grouped_kfold(
    examples: Sequence[dict],
    k: int = 5,
    seed: int = 42,
    dev_size: float = 0.15,
    label_key: str = "label",
    text_key: str = "text",
) -> list[Split]:
    """K grouped, stratified folds. Fold i tests on the i-th fold; its dev set comes from the rest."""
    examples, labels, groups = _grouped(examples, label_key, text_key)
    k_dev = max(2, round(1 / dev_size))
    return [
        _split_off_dev(examples, labels, groups, rest_idx, test_idx, k_dev, seed + 1 + i)
        for i, (rest_idx, test_idx) in enumerate(_group_fold(labels, groups, k, seed))
    ]


# --------------------------------------------------------------------------- out-of-domain splits
#
# In-domain CV overstates quality on news a model never saw by about 0.2 macro-F1: sentences of one
# article, one outlet's phrasing, one month's events sit on both sides. These splits test on what is
# new instead: the newest months (train on older articles, choose the decision on the months just before),
# or a whole source left out. Near-copies of a test sentence never train.

SPLIT_STRATEGIES = ("random", "temporal", "source", "loso")


def _drop_near_copies(pool: list[dict], test: list[dict], text_key: str = "text") -> list[dict]:
    """``pool`` without the examples that share a near-duplicate group with any ``test`` example."""
    if not pool or not test:
        return pool
    groups = near_duplicate_groups([e[text_key] for e in pool + test])
    test_groups = set(groups[len(pool) :].tolist())
    return [e for e, g in zip(pool, groups[: len(pool)]) if g not in test_groups]


def temporal_split(
    examples: Sequence[dict],
    test_from: str,
    dev_from: str | None = None,
    dev_size: float = 0.15,
    held_out: Sequence[dict] = (),
) -> Split:
    """Test on examples dated ``test_from`` or later; dev on ``[dev_from, test_from)`` (default: the most recent
    ``dev_size`` share of the dated rest); train on everything older or undated. ``held_out`` examples (a
    further test set) are kept out of train and dev, near-copies included."""
    examples = list(examples)
    test = [e for e in examples if (e.get("date") or "") >= test_from]
    rest = [e for e in examples if not (e.get("date") or "") >= test_from]
    rest = _drop_near_copies(rest, test + list(held_out))
    dated = sorted((e for e in rest if e.get("date")), key=lambda e: (e["date"], e["id"]))
    if dev_from is None:
        n_dev = max(1, round(dev_size * len(rest)))
        dev_from = dated[-n_dev]["date"] if len(dated) >= n_dev else test_from
    dev = [e for e in dated if e["date"] >= dev_from]
    dev_ids = {e["id"] for e in dev}
    train = _drop_near_copies([e for e in rest if e["id"] not in dev_ids], dev)
    if not test or not dev or not train:
        raise ValueError(
            f"temporal split at {test_from} (dev from {dev_from}) leaves train {len(train)}, "
            f"dev {len(dev)}, test {len(test)} examples"
        )
    return Split(train=train, dev=dev, test=test)


def source_split(
    examples: Sequence[dict],
    test_sources: Sequence[str],
    dev_size: float = 0.15,
    seed: int = 42,
    held_out: Sequence[dict] = (),
) -> Split:
    """Test on every example of ``test_sources`` (corpus file stems); a grouped, stratified dev part of the rest.

    Sentences of a test article never train, even from another file (a batch of the same pool kept apart)."""
    examples, sources = list(examples), set(test_sources)
    test = [e for e in examples if e.get("source") in sources]
    test_articles = {e["article"] for e in test if e.get("article")}
    rest = [e for e in examples if e.get("source") not in sources and e.get("article") not in test_articles]
    rest = _drop_near_copies(rest, test + list(held_out))
    if not test or len(rest) < 3:
        raise ValueError(f"source split on {list(test_sources)}: test {len(test)}, rest {len(rest)} examples")
    rest, labels, groups = _grouped(rest, "label", "text")
    tr, dv = _group_fold(labels, groups, max(2, round(1 / dev_size)), seed)[0]
    return Split(train=[rest[i] for i in sorted(tr)], dev=[rest[i] for i in sorted(dv)], test=test)


def leave_one_source_out(examples: Sequence[dict], dev_size: float = 0.15, seed: int = 42) -> list[Split]:
    """One fold per source: test on all of it, train and choose on the others."""
    sources = sorted({e.get("source") for e in examples if e.get("source")})
    if len(sources) < 2:
        raise ValueError(f"leave-one-source-out needs at least two sources, found {sources}")
    return [source_split(examples, [s], dev_size, seed) for s in sources]
