"""How well speakers are attributed: accuracy on labelled claims under grouped cross-validation.

Each labelled claim's predicted speaker is compared with the labelled one after :func:`normalize_speaker`
(case-insensitive, white space collapsed). Two readings are scored:

* **sentence**: every claim alone, as if it were the only text given;
* **context**: every labelled article read whole, in order. Labelled files are samples, so an article's
  unlabelled sentences are taken from ``context`` sources (the article .txt files, the pool CSV) by id;
  the annotators read the article, so a fair attributor may too.

The alias table is fitted on the training folds only; folds group articles that share a sentence (duplicated
paragraphs), so no test sentence was seen in training. Intervals are 95% percentile bootstraps over articles,
because claims of one article stand or fall together (one missed interviewee costs ten claims).
"""

from __future__ import annotations

import collections
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..data import expand_files, iter_jsonl
from ..errors import DataError
from .attributor import SpeakerAttributor, normalize_speaker

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CONTEXT = (ROOT / "data" / "raw", ROOT.parent / "shared" / "pool" / "vfnd-ukraine-2022"
                   / "vfnd_ukraine2022_sentences.csv")
BOOTSTRAP = 1000
TOP_CONFUSIONS = 15


@dataclass(frozen=True)
class Approach:
    """One configuration of the attributor, from the plainest to the default."""

    name: str
    description: str
    generic: bool
    ner: bool
    aliases: bool

    def build(self, train: Sequence[dict]) -> SpeakerAttributor:
        options = {"generic": self.generic, "ner": self.ner}
        if self.aliases:
            return SpeakerAttributor.fit(train, **options)
        return SpeakerAttributor(use_aliases=False, **options)


APPROACHES = (
    Approach("cues", "cues + curated lexicon (actors, titles, institutions, countries)", False, False, False),
    Approach("+names", "+ capitalised names, generic titles, groups, organisations", True, False, False),
    Approach("+ner", "+ underthesea NER person/organisation spans", True, True, False),
    Approach("+aliases", "+ alias table fitted on the training folds (default)", True, False, True),
)
DEFAULT_APPROACH = "+aliases"

_POSITION = re.compile(r"-(\d+)$")


def load_labelled(files: Iterable[str | Path]) -> list[dict]:
    """Labelled records with a ``source`` key (the file stem); each needs id, article, text and claim."""
    out = []
    for path in expand_files(list(files)):
        for n, rec in iter_jsonl(path, error=DataError):
            missing = [k for k in ("id", "text", "claim") if not rec.get(k)]
            if missing:
                raise DataError(f"{path}:{n}: no {', '.join(missing)}")
            rec = dict(rec, source=path.stem)
            rec.setdefault("article", _POSITION.sub("", rec["id"]))
            out.append(rec)
    if not out:
        raise DataError("no labelled records in " + ", ".join(map(str, files)))
    return out


def load_context(paths: Iterable[str | Path]) -> dict[str, dict]:
    """Unlabelled sentences by id from article folders/.txt, sentence JSONL/CSV or the pool CSV."""
    from ..annotate.sources import SourceError, read_sentences

    out = {}
    for path in paths:
        try:
            rows = read_sentences(path)
        except (SourceError, OSError, ValueError) as e:
            raise DataError(f"context {path}: {e}") from None
        for r in rows:
            out.setdefault(r["id"], r)
    return out


def _position(rec: dict) -> int:
    if isinstance(rec.get("position"), int):
        return rec["position"]
    m = _POSITION.search(rec["id"])
    return int(m.group(1)) if m else 0


def build_articles(records: Sequence[dict], context: dict[str, dict]) -> dict[str, list[dict]]:
    """Article -> its sentences in order: the labelled ones plus any unlabelled neighbours from context."""
    labelled = {r["id"]: r for r in records}
    wanted = {r["article"] for r in records}
    articles: dict[str, dict[str, dict]] = collections.defaultdict(dict)
    for sid, row in context.items():
        if row.get("article") in wanted:
            articles[row["article"]][sid] = {"id": sid, "text": row["text"], "article": row["article"],
                                             "position": _position(row), "kind": row.get("kind"),
                                             "paragraph": row.get("paragraph"), "date": row.get("date")}
    for sid, rec in labelled.items():
        base = articles[rec["article"]].get(sid, {})
        articles[rec["article"]][sid] = {**base, "id": sid, "text": rec["text"], "article": rec["article"],
                                         "position": base.get("position", _position(rec)),
                                         "date": rec.get("date") or base.get("date")}
    out = {}
    for art, rows in articles.items():
        date = next((r["date"] for r in rows.values() if r.get("date")), None)
        out[art] = sorted(({**r, "date": r.get("date") or date} for r in rows.values()), key=lambda r: r["position"])
    return out


def grouped_folds(records: Sequence[dict], k: int, seed: int = 0) -> list[set[str]]:
    """K sets of articles; articles that share a sentence text always fall in the same set."""
    parent: dict[str, str] = {}

    def find(a):
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    first_seen: dict[str, str] = {}
    for r in records:
        key = normalize_speaker(r["text"])
        if key in first_seen:
            parent[find(r["article"])] = find(first_seen[key])
        else:
            first_seen[key] = r["article"]
        find(r["article"])
    groups = collections.defaultdict(set)
    for art in parent:
        groups[find(art)].add(art)
    ordered = sorted(groups.values(), key=lambda g: sorted(g))
    random.Random(seed).shuffle(ordered)
    # Largest groups first onto the emptiest fold keeps folds of similar size.
    folds: list[set[str]] = [set() for _ in range(k)]
    sizes = [0] * k
    counts = collections.Counter(r["article"] for r in records)
    for g in sorted(ordered, key=lambda g: -sum(counts[a] for a in g)):
        i = sizes.index(min(sizes))
        folds[i] |= g
        sizes[i] += sum(counts[a] for a in g)
    return [f for f in folds if f]


def predict_cv(records: Sequence[dict], articles: dict[str, list[dict]], approach: Approach, k: int,
               seed: int = 0) -> dict[str, dict[str, str | None]]:
    """Claim id -> {"sentence": speaker, "context": speaker}, each fold predicted by a model fitted without it."""
    claims = {r["id"]: r for r in records if r["claim"] == "claim"}
    folds = grouped_folds(records, k, seed) if k > 1 else [set(articles)]
    out: dict[str, dict[str, str | None]] = {}
    for test in folds:
        train = [r for r in records if r["article"] not in test] if k > 1 else list(records)
        model = approach.build(train)
        ids = [cid for cid, r in claims.items() if r["article"] in test]
        alone = model.attribute([claims[i] for i in ids], context=False)
        for cid, res in zip(ids, alone):
            out[cid] = {"sentence": res["speaker"]}
        sents = [s for art in sorted(test) for s in articles.get(art, [])]
        for s, res in zip(sents, model.attribute(sents, context=True)):
            if s["id"] in out:
                out[s["id"]]["context"] = res["speaker"]
    return out


def bootstrap_ci(hits_by_group: dict[str, list[bool]], n: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of accuracy, resampling groups (articles) with replacement."""
    groups = [v for v in hits_by_group.values() if v]
    if not groups:
        return (0.0, 0.0)
    rng = random.Random(seed)
    stats = []
    for _ in range(n):
        sample = [groups[rng.randrange(len(groups))] for _ in groups]
        total = sum(len(g) for g in sample)
        stats.append(sum(sum(g) for g in sample) / total)
    stats.sort()
    return stats[int(0.025 * n)], stats[min(n - 1, int(0.975 * n))]


def score(records: Sequence[dict], preds: dict[str, dict], mode: str) -> dict:
    """Accuracy, interval and count of one reading over the given labelled claims."""
    by_article: dict[str, list[bool]] = collections.defaultdict(list)
    for r in records:
        if r["claim"] == "claim" and r["id"] in preds:
            hit = normalize_speaker(preds[r["id"]].get(mode)) == normalize_speaker(r.get("speaker"))
            by_article[r["article"]].append(hit)
    n = sum(len(v) for v in by_article.values())
    correct = sum(sum(v) for v in by_article.values())
    lo, hi = bootstrap_ci(by_article)
    return {"accuracy": correct / n if n else 0.0, "ci95": [lo, hi], "correct": correct, "claims": n}


def confusions(records: Sequence[dict], preds: dict[str, dict], mode: str, top: int = TOP_CONFUSIONS) -> list[dict]:
    counts = collections.Counter()
    for r in records:
        if r["claim"] == "claim" and r["id"] in preds:
            got = preds[r["id"]].get(mode)
            if normalize_speaker(got) != normalize_speaker(r.get("speaker")):
                counts[(r.get("speaker"), got)] += 1
    return [{"gold": g, "predicted": p, "count": c} for (g, p), c in counts.most_common(top)]


def evaluate(files: Sequence[str | Path], *, cv: int = 5, context_paths: Sequence[str | Path] | None = None,
             approaches: Sequence[Approach] = APPROACHES, seed: int = 0) -> dict:
    """The full report: per approach and reading, overall and per source file, plus the top confusions."""
    records = load_labelled(files)
    if context_paths is None:
        context_paths = [p for p in DEFAULT_CONTEXT if p.exists()]
    articles = build_articles(records, load_context(context_paths))
    claims = [r for r in records if r["claim"] == "claim"]
    with_neighbours = sum(1 for r in claims if len(articles.get(r["article"], ())) > 1)
    report = {
        "files": [str(f) for f in files], "context_sources": [str(p) for p in context_paths], "cv": cv,
        "claims": len(claims), "articles": len({r["article"] for r in claims}),
        "claims_with_neighbours": with_neighbours, "approaches": {}, "default": DEFAULT_APPROACH,
    }
    sources = sorted({r["source"] for r in records})
    for approach in approaches:
        preds = predict_cv(records, articles, approach, cv, seed)
        entry = {"description": approach.description}
        for mode in ("sentence", "context"):
            entry[mode] = score(records, preds, mode)
            entry[mode]["by_source"] = {src: score([r for r in records if r["source"] == src], preds, mode)
                                        for src in sources}
        if approach.name == DEFAULT_APPROACH:
            report["confusions"] = confusions(records, preds, "context")
        report["approaches"][approach.name] = entry
    return report


def _fmt(s: dict) -> str:
    return f"{s['accuracy']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]"


def format_report(report: dict) -> str:
    """The printed table: approaches x readings, then per source, then the confusions."""
    lines = [(f"{report['claims']} labelled claims in {report['articles']} articles "
             f"({report['claims_with_neighbours']} with neighbouring sentences); "
             f"{'grouped ' + str(report['cv']) + '-fold CV' if report['cv'] > 1 else 'no CV (fit on all)'}; "
             f"95% article bootstrap"),
             f"context from: {', '.join(report['context_sources']) or '(labelled files only)'}", "",
             f"{'approach':<10} {'sentence only':<24} {'with article context':<24} description"]
    for name, e in report["approaches"].items():
        lines.append(f"{name:<10} {_fmt(e['sentence']):<24} {_fmt(e['context']):<24} {e['description']}")
    lines += ["", "per source (accuracy, claims):",
              f"{'approach':<10} {'source':<16} {'sentence only':<24} {'with article context':<24} claims"]
    for name, e in report["approaches"].items():
        for src, s in e["sentence"]["by_source"].items():
            c = e["context"]["by_source"][src]
            lines.append(f"{name:<10} {src:<16} {_fmt(s):<24} {_fmt(c):<24} {s['claims']}")
    if report.get("confusions"):
        lines += ["", f"top confusions ({report['default']}, with context): gold -> predicted"]
        lines += [f"  {c['count']:>3}  {c['gold']} -> {c['predicted']}" for c in report["confusions"]]
    return "\n".join(lines)
