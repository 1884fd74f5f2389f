"""The labelled corpus: its format, validation, task labels and leak-free splits.

One JSON object per line with the keys ``id, article, date, text, claim, stance, speaker``
(``data/GUIDELINES.md`` defines the labels). A few optional keys (``kind``, ``position``, ``batch``,
``note``) may ride along; anything else is a typo and is reported.

Command line::

    python -m vistance.data validate data/annotated/*.jsonl
    python -m vistance.data sentences data/raw --out sentences.jsonl   # the corpus pipeline
    python -m vistance.data split data/annotated/*.jsonl [--k 5]       # show split sizes
"""

from __future__ import annotations

import argparse
import collections
import glob
import hashlib
import json
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REQUIRED_KEYS = ("id", "article", "date", "text", "claim", "stance", "speaker")
OPTIONAL_KEYS = ("kind", "position", "batch", "note")
CLAIM_LABELS = ("claim", "not_claim")
STANCE_LABELS = ("favor", "against", "neutral")
TASKS = ("joint", "claim", "stance")
# Label order used for id2label; fixed so checkpoints of the same task are comparable.
TASK_LABELS = {
    "joint": ("not_claim", "favor", "against", "neutral"),
    "claim": ("not_claim", "claim"),
    "stance": STANCE_LABELS,
}


class CorpusError(ValueError):
    """A labelled file is not valid; the message lists ``file:line: problem`` lines."""


# --------------------------------------------------------------------------- validation


def _check_record(obj, seen: dict, where: str) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: expected a JSON object, got {type(obj).__name__}"]
    errs = []
    for k in REQUIRED_KEYS:
        if k not in obj:
            errs.append(f"{where}: missing key {k!r}")
    for k in obj:
        if k not in REQUIRED_KEYS and k not in OPTIONAL_KEYS:
            errs.append(f"{where}: unknown key {k!r} (allowed: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)})")
    rid = obj.get("id")
    if "id" in obj:
        if not isinstance(rid, str) or not rid.strip():
            errs.append(f"{where}: id must be a non-empty string")
        elif rid in seen:
            errs.append(f"{where}: duplicate id {rid!r} (first at {seen[rid]})")
        else:
            seen[rid] = where
    text = obj.get("text")
    if "text" in obj:
        if not isinstance(text, str) or not text.strip():
            errs.append(f"{where}: empty text")
        elif unicodedata.normalize("NFC", text) != text:
            errs.append(f"{where}: text is not NFC-normalised (run unicodedata.normalize('NFC', text))")
    claim, stance = obj.get("claim"), obj.get("stance")
    if "claim" in obj and claim not in CLAIM_LABELS:
        errs.append(f"{where}: unknown claim label {claim!r} (expected one of {', '.join(CLAIM_LABELS)})")
    if "stance" in obj and stance is not None and stance not in STANCE_LABELS:
        errs.append(f"{where}: unknown stance label {stance!r} (expected one of {', '.join(STANCE_LABELS)} or null)")
    if claim == "not_claim" and stance is not None:
        errs.append(f"{where}: stance {stance!r} on a not_claim sentence (must be null)")
    if claim == "claim" and "stance" in obj and stance is None:
        errs.append(f"{where}: claim without a stance")
    if "date" in obj and obj["date"] is not None and not isinstance(obj["date"], str):
        errs.append(f"{where}: date must be a YYYY-MM-DD string or null")
    return errs


def validate_files(paths: Sequence[str | Path]) -> tuple[list[dict], list[str]]:
    """Read and check labelled files. Returns (records, error lines). Ids must be unique across files."""
    records, errors, seen = [], [], {}
    for path in paths:
        path = Path(path)
        try:
            # JSON lines end at "\n" only: splitlines() would also break at U+2028/U+0085, which
            # json.dumps leaves unescaped inside strings.
            lines = path.read_text(encoding="utf-8-sig").split("\n")
        except FileNotFoundError:
            errors.append(f"{path}: no such file")
            continue
        except UnicodeDecodeError as e:
            errors.append(f"{path}: not UTF-8 ({e.reason} at byte {e.start})")
            continue
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{where}: malformed JSON ({e.msg} at column {e.colno})")
                continue
            errs = _check_record(obj, seen, where)
            errors.extend(errs)
            if not errs:
                records.append(obj)
    return records, errors


def expand_files(patterns: str | Path | Sequence[str | Path]) -> list[Path]:
    """Paths and glob patterns (``data/annotated/*.jsonl``) -> sorted, de-duplicated files.

    A pattern that matches nothing is an error, so a typo cannot silently train on less data.
    """
    if isinstance(patterns, (str, Path)):
        patterns = [patterns]
    out: list[Path] = []
    for pat in patterns:
        pat = str(pat)
        if any(ch in pat for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(pat))
            if not matches:
                raise FileNotFoundError(f"{pat}: no file matches")
            out.extend(matches)
        else:
            out.append(Path(pat))
    seen: set[Path] = set()
    return [p for p in out if not (p in seen or seen.add(p))]


def load_corpus(paths: str | Path | Sequence[str | Path]) -> list[dict]:
    """Load one or more labelled files (paths or globs), raising :class:`CorpusError` listing every problem."""
    try:
        paths = expand_files(paths)
    except FileNotFoundError as e:
        raise CorpusError(str(e)) from None
    records, errors = validate_files(paths)
    if errors:
        raise CorpusError("\n".join(errors))
    return records


def corpus_stats(records: Sequence[dict]) -> dict:
    claims = collections.Counter(r["claim"] for r in records)
    stances = collections.Counter(r["stance"] for r in records if r["claim"] == "claim")
    return {
        "sentences": len(records),
        "articles": len({r["article"] for r in records}),
        "claim": dict(sorted(claims.items())),
        "stance": {k: stances.get(k, 0) for k in STANCE_LABELS},
        "joint": dict(collections.Counter(task_label(r, "joint") for r in records)),
        "speakers": len({r["speaker"] for r in records if r.get("speaker")}),
    }


# --------------------------------------------------------------------------- tasks


def task_label(record: dict, task: str) -> str | None:
    """The training label of ``record`` for ``task``; None when the record is not part of that task."""
    if task == "joint":
        return "not_claim" if record["claim"] == "not_claim" else record["stance"]
    if task == "claim":
        return record["claim"]
    if task == "stance":
        return record["stance"] if record["claim"] == "claim" else None
    raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")


def task_examples(records: Iterable[dict], task: str) -> list[dict]:
    """Records of ``task`` with a ``label`` key added (non-claims dropped for ``stance``)."""
    out = []
    for r in records:
        label = task_label(r, task)
        if label is not None:
            out.append({**r, "label": label})
    return out


# --------------------------------------------------------------------------- grouping and splits


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
    pick = lambda idx: [examples[i] for i in sorted(idx)]  # noqa: E731
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


# --------------------------------------------------------------------------- fingerprints


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def iter_jsonl(path: str | Path, text: str | None = None, error: type[ValueError] = ValueError):
    """``(line number, object)`` for each non-blank line of a JSONL file (or of ``text`` read from it).

    Fails on the first bad line with ``path:line: what is wrong`` (raised as ``error``), so every
    reader of user files reports problems the same way.
    """
    if text is None:
        text = Path(path).read_text(encoding="utf-8-sig")
    for n, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may sit inside a string
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise error(f"{path}:{n}: malformed JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise error(f"{path}:{n}: expected a JSON object, got {type(obj).__name__}")
        yield n, obj


def read_jsonl(path: str | Path) -> list[dict]:
    return [obj for _, obj in iter_jsonl(path)]


# --------------------------------------------------------------------------- CLI


def _print_stats(stats: dict) -> None:
    print(f"  sentences: {stats['sentences']}   articles: {stats['articles']}   speakers: {stats['speakers']}")
    print("  claim:  " + "  ".join(f"{k}={v}" for k, v in stats["claim"].items()))
    print("  stance: " + "  ".join(f"{k}={v}" for k, v in stats["stance"].items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vistance.data", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("validate", help="check labelled JSONL files; exit 1 with file:line errors")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("sentences", help="parse and split articles (.txt) into a sentence JSONL")
    p.add_argument("input", help="an article .txt or a folder of them")
    p.add_argument("--out", required=True)
    p = sub.add_parser("split", help="show the grouped, stratified splits of labelled files")
    p.add_argument("files", nargs="+")
    p.add_argument("--task", default="joint", choices=TASKS)
    p.add_argument("--k", type=int, default=0, help="K grouped folds instead of one train/dev/test split")
    p.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    if args.cmd == "validate":
        records, errors = validate_files(expand_files(args.files))
        if errors:
            for e in errors:
                print(e, file=sys.stderr)
            print(f"{len(errors)} problem(s) in {len(args.files)} file(s)", file=sys.stderr)
            return 1
        for f in args.files:
            print(f"{f}: OK")
        _print_stats(corpus_stats(records))
        return 0

    if args.cmd == "sentences":
        from .articles import parse_file, parse_folder

        src = Path(args.input)
        articles = parse_folder(src) if src.is_dir() else [parse_file(src)]
        rows = [s.to_dict() for a in articles for s in a.sentences]
        write_jsonl(args.out, rows)
        kinds = collections.Counter(r["kind"] for r in rows)
        print(f"{len(articles)} article(s) -> {len(rows)} sentences ({dict(kinds)}) -> {args.out}")
        return 0

    if args.cmd == "split":
        examples = task_examples(load_corpus(args.files), args.task)
        splits = grouped_kfold(examples, args.k, args.seed) if args.k else [grouped_split(examples, seed=args.seed)]
        for i, s in enumerate(splits):
            counts = {n: dict(collections.Counter(e["label"] for e in part)) for n, part in s.items()}
            print(f"split {i}: {s.sizes()}  {counts}")
        return 0
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
