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
import difflib
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..data import expand_files
from ..data.tables import iter_table, table_format, table_stem
from ..errors import DataError
from ..metrics.intervals import cluster_bootstrap_ci
from .attributor import SpeakerAttributor, normalize_speaker
from .names import variant_key

ROOT = Path(__file__).resolve().parents[3]
POOL = ROOT.parent / "shared" / "pool"
DEFAULT_CONTEXT = (
    ROOT / "data" / "raw",
    POOL / "vfnd-ukraine-2022" / "vfnd_ukraine2022_sentences.csv",
    POOL / "news-2024-fulltext" / "articles.jsonl",
    POOL / "news-2023-2025" / "articles.jsonl",
)
BOOTSTRAP = 1000
TOP_CONFUSIONS = 15
# The labelled files of full-text articles from outlets the rules were never written on: the yardstick.
FULLTEXT_SUFFIX = "-fulltext"
ERROR_KINDS = ("none", "wrong actor", "truncated", "variant")
# "Lithuania" / "Litva" 0.62, "Sergey Volina" / "Serhiy Volyna" 0.77, "Mỹ" / "Nga" 0.0.
VARIANT_SIMILARITY = 0.75


@dataclass(frozen=True)
class Approach:
    """One configuration of the attributor, from the plainest to the default."""

    name: str
    description: str
    generic: bool
    ner: bool
    aliases: bool
    attributor: str = "rules"

    def build(
        self, train: Sequence[dict], articles: dict[str, list[dict]] | None = None, seed: int = 0
    ) -> SpeakerAttributor:
        """The attributor fitted on ``train``; the learned one also trains its ranker on ``train`` read in
        ``articles`` (article -> sentences, :func:`build_articles`; the labelled sentences alone without)."""
        if self.attributor == "learned":
            from .ranker import train_ranker

            arts = articles if articles is not None else build_articles(train, {})
            ranker = train_ranker(train, arts, seed=seed, generic=self.generic, ner=self.ner)
            return SpeakerAttributor.fit(train, attributor="learned", ranker=ranker, generic=self.generic, ner=self.ner)
        if self.aliases:
            return SpeakerAttributor.fit(train, generic=self.generic, ner=self.ner)
        return SpeakerAttributor(use_aliases=False, generic=self.generic, ner=self.ner)


APPROACHES = (
    Approach("cues", "cues + curated lexicon (actors, titles, institutions, countries)", False, False, False),
    Approach("+names", "+ capitalised names, generic titles, groups, organisations", True, False, False),
    Approach("+ner", "+ underthesea NER person/organisation spans", True, True, False),
    Approach("+aliases", "+ alias table fitted on the training folds: the rules", True, False, True),
    Approach(
        "learned",
        "+ a ranker trained on the training folds picks among the rules' candidates",
        True,
        False,
        True,
        "learned",
    ),
)
# The approach python -m vistance.speakers evaluate lists its confusions for, and what "rules" and "learned" are.
DEFAULT_APPROACH = "+aliases"
ATTRIBUTOR_APPROACH = {"rules": "+aliases", "learned": "learned"}

_POSITION = re.compile(r"-(\d+)$")


def load_labelled(files: Iterable[str | Path]) -> list[dict]:
    """Labelled records with a ``source`` key (the file stem); each needs id, article, text and claim.

    Any table :mod:`vistance.data.tables` reads (JSONL as written by the annotation loop, CSV, Parquet)."""
    out = []
    for path in expand_files(list(files)):
        for n, rec in iter_table(path, error=DataError):
            missing = [k for k in ("id", "text", "claim") if not rec.get(k)]
            if missing:
                raise DataError(f"{path}:{n}: no {', '.join(missing)}")
            rec = dict(rec, source=table_stem(path))
            rec.setdefault("article", _POSITION.sub("", rec["id"]))
            out.append(rec)
    if not out:
        raise DataError("no labelled records in " + ", ".join(map(str, files)))
    return out


def _article_rows(path: Path) -> list[dict] | None:
    """Sentences of an article JSONL (one article per row: ``id``, ``text``, ``title``, ``date``), or None
    when the file holds sentences instead. Each article is split as ``vistance.predict --articles`` splits
    ``date YYYY-MM-DD\\n<title>\\n\\n<text>``, so ids are ``<article id>-<NN>`` like the labelled ones; the
    article's outlet (its ``source`` field) rides along as ``outlet``."""
    from ..data.articles import parse_article

    if (table_format(path) or ("",))[0] != "jsonl":
        return None
    rows = [row for _, row in iter_table(path, error=DataError)]
    if not rows or any("article" in r or "title" not in r or "\n" not in str(r.get("text") or "") for r in rows[:5]):
        return None
    out = []
    for r in rows:
        raw = (f"date {r['date']}\n" if r.get("date") else "") + f"{r.get('title') or ''}\n\n{r.get('text') or ''}"
        for s in parse_article(raw, str(r["id"])).sentences:
            out.append({**s.to_dict(), "outlet": r.get("source")})
    return out


def load_context(paths: Iterable[str | Path]) -> dict[str, dict]:
    """Unlabelled sentences by id from article folders/.txt, article or sentence JSONL/CSV, or the pool CSV."""
    from ..annotate.sources import SourceError, read_sentences

    out = {}
    for path in paths:
        try:
            rows = _article_rows(Path(path))
            if rows is None:
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
    """Article -> its sentences in order: the labelled ones plus any unlabelled neighbours from context.

    A labelled sentence takes the place of the context sentence with its text (the one nearest its id's position),
    and only without one the place of the context sentence with its id: the news-2023-2025 full-text labels were
    made on a parse whose ids run one ahead of today's, so placing them by id alone put each one a sentence late,
    over the sentence that follows it, and read their articles with a sentence twice and one missing.
    """
    labelled = {r["id"]: r for r in records}
    wanted = {r["article"] for r in records}
    articles: dict[str, list[dict]] = collections.defaultdict(list)
    for sid, row in context.items():
        if row.get("article") in wanted:
            articles[row["article"]].append(
                {
                    "id": sid,
                    "text": row["text"],
                    "article": row["article"],
                    "position": _position(row),
                    "kind": row.get("kind"),
                    "paragraph": row.get("paragraph"),
                    "date": row.get("date"),
                }
            )
    by_text: dict[str, dict[str, list[int]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    by_id: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for art, rows in articles.items():
        for i, row in enumerate(rows):
            by_text[art][normalize_speaker(row["text"])].append(i)
            by_id[art][row["id"]] = i
    taken: dict[str, set[int]] = collections.defaultdict(set)
    for sid, rec in labelled.items():
        art, want, rows = rec["article"], _position(rec), articles[rec["article"]]
        found = by_text[art].get(normalize_speaker(rec["text"]), [])
        same = [i for i in found if i not in taken[art]]
        if found and not same:  # one sentence labelled in two files under two ids: one sentence, both ids
            i = min(found, key=lambda i: abs(rows[i]["position"] - want))
            rows[i].setdefault("also", []).append(sid)
            continue
        at = min(same, key=lambda i: abs(rows[i]["position"] - want)) if same else by_id[art].get(sid)
        if at is None or at in taken[art]:
            rows.append({"id": sid, "text": rec["text"], "article": art, "position": want, "date": rec.get("date")})
            at = len(rows) - 1
        else:
            rows[at] = {**rows[at], "id": sid, "text": rec["text"], "date": rec.get("date") or rows[at].get("date")}
        taken[art].add(at)
    out = {}
    for art, rows in articles.items():
        for i, row in enumerate(rows):  # ids stay unique
            if i not in taken[art] and row["id"] in labelled:  # the context's sentence under a label's id
                row["id"] += "~context"
        date = next((r["date"] for r in rows if r.get("date")), None)
        out[art] = sorted(({**r, "date": r.get("date") or date} for r in rows), key=lambda r: r["position"])
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


def predict_cv(
    records: Sequence[dict], articles: dict[str, list[dict]], approach: Approach, k: int, seed: int = 0
) -> dict[str, dict[str, str | None]]:
    """Claim id -> {"sentence": speaker, "context": speaker}, each fold predicted by a model fitted without it."""
    folds = grouped_folds(records, k, seed) if k > 1 else [set(articles)]
    out: dict[str, dict[str, str | None]] = {}
    for test in folds:
        train = [r for r in records if r["article"] not in test] if k > 1 else list(records)
        model = approach.build(train, articles, seed)
        out.update(_predict(model, [r for r in records if r["article"] in test], articles))
    return out


def _predict(model: SpeakerAttributor, test: Sequence[dict], articles: dict[str, list[dict]]) -> dict[str, dict]:
    """Claim id -> {"sentence", "context", "rule", "confidence"} (and "context_all": the learned attributor's
    choice had it never abstained) for the claims of ``test``, their articles read whole."""
    claims = {r["id"]: r for r in test if r["claim"] == "claim"}
    ids = list(claims)
    out: dict[str, dict] = {
        cid: {"sentence": res["speaker"]}
        for cid, res in zip(ids, model.attribute([claims[i] for i in ids], context=False))
    }
    sents = [s for art in sorted({r["article"] for r in test}) for s in articles.get(art, [])]
    if model.attributor == "learned":
        ranker = model.learned_ranker()
        readings = model.readings(sents, context=True)
        found = [ranker.choose(rule, cands) for rule, cands in readings]
        never = [ranker.choose(rule, cands, threshold=0.0)["speaker"] for rule, cands in readings]
    else:
        found, never = model.attribute(sents, context=True), []
    for n, (s, res) in enumerate(zip(sents, found)):
        for sid in labelled_ids(s):
            if sid in out:
                out[sid].update(
                    context=res["speaker"], rule=res.get("speaker_rule"), confidence=res.get("speaker_confidence")
                )
                if never:
                    out[sid]["context_all"] = never[n]
    return out


def labelled_ids(sentence: dict) -> list[str]:
    """The labelled ids an article sentence of :func:`build_articles` stands for (a sentence labelled in two
    files under two ids is one sentence)."""
    return [sentence["id"], *sentence.get("also", ())]


def predict_heldout(
    train: Sequence[dict], test: Sequence[dict], articles: dict[str, list[dict]], approach: Approach, seed: int = 0
) -> dict[str, dict]:
    """Claim id -> predictions for the ``test`` claims, by a model fitted on ``train`` alone (no folds)."""
    return _predict(approach.build(train, articles, seed), test, articles)


def paired_difference(
    records: Sequence[dict],
    preds: dict[str, dict],
    base: dict[str, dict],
    mode: str = "context",
    base_mode: str = "context",
    n: int = BOOTSTRAP,
    seed: int = 0,
) -> dict:
    """Accuracy of ``preds`` (its ``mode`` reading) minus that of ``base`` (its ``base_mode``) on the same claims,
    with a 95% interval resampling articles (both scored on each resample, so what they share does not widen it)."""
    pairs: dict[str, list[tuple[bool, bool]]] = collections.defaultdict(list)
    for r in records:
        if r["claim"] == "claim" and r["id"] in preds and r["id"] in base:
            gold = normalize_speaker(r.get("speaker"))
            pairs[r["article"]].append(
                (
                    normalize_speaker(preds[r["id"]].get(mode)) == gold,
                    normalize_speaker(base[r["id"]].get(base_mode)) == gold,
                )
            )
    groups = list(pairs.values())
    total = sum(len(g) for g in groups)
    if not total:
        return {"difference": 0.0, "ci95": [0.0, 0.0], "claims": 0}
    diff = sum(a - b for g in groups for a, b in g) / total
    rng, stats = random.Random(seed), []
    for _ in range(n):
        sample = [groups[rng.randrange(len(groups))] for _ in groups]
        stats.append(sum(a - b for g in sample for a, b in g) / sum(len(g) for g in sample))
    stats.sort()
    return {"difference": diff, "ci95": [stats[int(0.025 * n)], stats[min(n - 1, int(0.975 * n))]], "claims": total}


def score(records: Sequence[dict], preds: dict[str, dict], mode: str) -> dict:
    """Accuracy, interval and count of one reading over the given labelled claims."""
    by_article: dict[str, list[bool]] = collections.defaultdict(list)
    for r in records:
        if r["claim"] == "claim" and r["id"] in preds:
            hit = normalize_speaker(preds[r["id"]].get(mode)) == normalize_speaker(r.get("speaker"))
            by_article[r["article"]].append(hit)
    n = sum(len(v) for v in by_article.values())
    correct = sum(sum(v) for v in by_article.values())
    attributed = sum(1 for r in records if r["claim"] == "claim" and r["id"] in preds and preds[r["id"]].get(mode))
    lo, hi = cluster_bootstrap_ci(by_article, BOOTSTRAP)
    return {
        "accuracy": correct / n if n else 0.0,
        "ci95": [lo, hi],
        "correct": correct,
        "claims": n,
        "attributed": attributed,
    }


def confusions(records: Sequence[dict], preds: dict[str, dict], mode: str, top: int = TOP_CONFUSIONS) -> list[dict]:
    counts = collections.Counter()
    for r in records:
        if r["claim"] == "claim" and r["id"] in preds:
            got = preds[r["id"]].get(mode)
            if normalize_speaker(got) != normalize_speaker(r.get("speaker")):
                counts[(r.get("speaker"), got)] += 1
    return [{"gold": g, "predicted": p, "count": c} for (g, p), c in counts.most_common(top)]


def _contains(words: list[str], part: list[str]) -> bool:
    n = len(part)
    return 0 < n < len(words) and any(words[i : i + n] == part for i in range(len(words) - n + 1))


def error_kind(gold: str | None, predicted: str | None) -> str | None:
    """Why a prediction misses (None when it does not): one of ERROR_KINDS.

    *none*: no speaker given. *truncated*: one name is a part of the other ("Các nước" for "Các nước Baltic",
    "Nga" for "Bộ Quốc phòng Nga", a word too many). *variant*: another spelling of the same name (same
    :func:`variant_key`, or at least VARIANT_SIMILARITY alike). *wrong actor*: anyone else.
    """
    g, p = normalize_speaker(gold), normalize_speaker(predicted)
    if g == p:
        return None
    if not p:
        return "none"
    gw, pw = g.split(), p.split()
    if _contains(gw, pw) or _contains(pw, gw):
        return "truncated"
    if (variant_key(gold) is not None and variant_key(gold) == variant_key(predicted)) or difflib.SequenceMatcher(
        None, g, p
    ).ratio() >= VARIANT_SIMILARITY:
        return "variant"
    return "wrong actor"


def error_kinds(records: Sequence[dict], preds: dict[str, dict], mode: str = "context") -> dict[str, int]:
    counts = collections.Counter({k: 0 for k in ERROR_KINDS})
    for r in records:
        if r["claim"] == "claim" and r["id"] in preds:
            kind = error_kind(r.get("speaker"), preds[r["id"]].get(mode))
            if kind:
                counts[kind] += 1
    return dict(counts)


def _breakdown(records: Sequence[dict], preds: dict[str, dict], key) -> dict[str, dict]:
    """Context accuracy per value of ``key(record)`` (a source file, an outlet, a year, a rule)."""
    groups = collections.defaultdict(list)
    for r in records:
        if r["claim"] == "claim" and r["id"] in preds:
            groups[key(r)].append(r)
    return {k: score(groups[k], preds, "context") for k in sorted(groups, key=str)}


def _year(r: dict) -> str:
    return str(r.get("date") or "")[:4] or "undated"


def split_heldout(records: Sequence[dict], heldout: Iterable[str] | None = None) -> tuple[list[dict], list[dict]]:
    """(older, yardstick) records: the yardstick is the files named ``*-fulltext`` (or the stems ``heldout``)."""
    stems = (
        set(heldout) if heldout is not None else {r["source"] for r in records if r["source"].endswith(FULLTEXT_SUFFIX)}
    )
    return [r for r in records if r["source"] not in stems], [r for r in records if r["source"] in stems]


def _entry(
    approach_name: str, description: str, records: Sequence[dict], preds: dict[str, dict], outlets: dict[str, str]
) -> dict:
    entry = {"description": description}
    for mode in ("sentence", "context"):
        entry[mode] = score(records, preds, mode)
    if any("context_all" in p for p in preds.values()):
        entry["context_all"] = score(records, preds, "context_all")
    entry["by_source"] = _breakdown(records, preds, lambda r: r["source"])
    entry["by_outlet"] = _breakdown(records, preds, lambda r: outlets.get(r["article"]) or "unknown")
    entry["by_year"] = _breakdown(records, preds, _year)
    entry["by_rule"] = _breakdown(records, preds, lambda r: preds[r["id"]].get("rule") or "(none)")
    entry["errors"] = error_kinds(records, preds)
    return entry


def evaluate(
    files: Sequence[str | Path],
    *,
    cv: int = 5,
    context_paths: Sequence[str | Path] | None = None,
    approaches: Sequence[Approach] = APPROACHES,
    seed: int = 0,
    heldout: Iterable[str] | None = None,
) -> dict:
    """The full report: the yardstick, then grouped CV on the older data, per approach.

    **Yardstick**: every approach fitted on the older files (seed, pool-2022, news-2025: where the rules were
    written) and scored on the full-text files (``*-fulltext``, labelled after the rules, from other outlets)
    read with their whole articles, by source file, outlet, year, rule and error kind. **CV**: grouped k-fold
    over the older files alone (over everything when there is no older file), as before.
    """
    records = load_labelled(files)
    if context_paths is None:
        context_paths = [p for p in DEFAULT_CONTEXT if p.exists()]
    context = load_context(context_paths)
    articles = build_articles(records, context)
    outlets = {row["article"]: row["outlet"] for row in context.values() if row.get("outlet") and row.get("article")}
    older, new = split_heldout(records, heldout)
    cv_records = older or list(records)
    claims = [r for r in records if r["claim"] == "claim"]
    with_neighbours = sum(1 for r in claims if len(articles.get(r["article"], ())) > 1)
    report = {
        "files": [str(f) for f in files],
        "context_sources": [str(p) for p in context_paths],
        "cv": cv,
        "claims": len(claims),
        "articles": len({r["article"] for r in claims}),
        "claims_with_neighbours": with_neighbours,
        "default": DEFAULT_APPROACH,
        "cv_sources": sorted({r["source"] for r in cv_records}),
        "cv_claims": sum(1 for r in cv_records if r["claim"] == "claim"),
        "yardstick_sources": sorted({r["source"] for r in new}),
        "yardstick_claims": sum(1 for r in new if r["claim"] == "claim"),
        "approaches": {},
        "yardstick": {},
    }
    cv_preds, held_preds = {}, {}
    for approach in approaches:
        preds = cv_preds[approach.name] = predict_cv(cv_records, articles, approach, cv, seed)
        report["approaches"][approach.name] = _entry(approach.name, approach.description, cv_records, preds, outlets)
        if approach.name == DEFAULT_APPROACH:
            report["confusions"] = confusions(cv_records, preds, "context")
        if new:
            held = held_preds[approach.name] = predict_heldout(older, new, articles, approach, seed)
            report["yardstick"][approach.name] = _entry(approach.name, approach.description, new, held, outlets)
            if approach.name == DEFAULT_APPROACH:
                report["yardstick_confusions"] = confusions(new, held, "context")
    rules = ATTRIBUTOR_APPROACH["rules"]
    for name in cv_preds:  # each approach against the rules on the same claims
        if name == rules or rules not in cv_preds:
            continue
        for part, records_, preds_ in (("approaches", cv_records, cv_preds), ("yardstick", new, held_preds)):
            if name not in preds_:
                continue
            entry = report[part][name]
            entry["vs_rules"] = paired_difference(records_, preds_[name], preds_[rules])
            if "context_all" in entry:
                entry["vs_rules_all"] = paired_difference(records_, preds_[name], preds_[rules], "context_all")
    return report


def _fmt(s: dict) -> str:
    return f"{s['accuracy']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]"


def _table(entries: dict[str, dict], title: str) -> list[str]:
    lines = [
        title,
        (
            f"{'approach':<10} {'sentence only':<24} {'with article context':<24} "
            f"{'none':>5} {'wrong':>6} {'trunc':>6} {'var':>4}  description"
        ),
    ]
    for name, e in entries.items():
        err = e["errors"]
        lines.append(
            f"{name:<10} {_fmt(e['sentence']):<24} {_fmt(e['context']):<24} {err['none']:>5} "
            f"{err['wrong actor']:>6} {err['truncated']:>6} {err['variant']:>4}  {e['description']}"
        )
        if "vs_rules" in e:
            d = e["vs_rules"]
            lines.append(
                f"{'':<10} {'':<24} {d['difference']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]"
                "  against the rules, same claims (paired article bootstrap)"
            )
        if "context_all" in e:
            c, d = e["context"], e.get("vs_rules_all")
            against = (
                f", {d['difference']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}] against the rules" if d else ""
            )
            lines.append(
                f"{'':<10} {'':<24} {_fmt(e['context_all']):<24} never abstaining{against}; abstaining, "
                f"{c['attributed']} of {c['claims']} attributed, "
                f"{c['correct'] / max(1, c['attributed']):.3f} of them right"
            )
    return lines


def _groups(entries: dict[str, dict], field: str, label: str) -> list[str]:
    lines = [f"{'approach':<10} {label:<26} {'with article context':<24} claims"]
    for name, e in entries.items():
        for key, sc in e[field].items():
            lines.append(f"{name:<10} {str(key)[:26]:<26} {_fmt(sc):<24} {sc['claims']}")
    return lines


def format_report(report: dict) -> str:
    """The printed report: the yardstick (what to expect on new articles) first, then grouped CV."""
    lines = [
        (
            f"{report['claims']} labelled claims in {report['articles']} articles "
            f"({report['claims_with_neighbours']} with neighbouring sentences); 95% article bootstrap"
        ),
        f"context from: {', '.join(report['context_sources']) or '(labelled files only)'}",
    ]
    ys = report.get("yardstick") or {}
    if ys:
        lines += [
            "",
            (
                f"YARDSTICK (expect this on new articles): fitted on {', '.join(report['cv_sources'])}, "
                f"scored on {report['yardstick_claims']} claims of {', '.join(report['yardstick_sources'])} "
                "(full text, other outlets, labelled after the rules were written)"
            ),
        ]
        lines += _table(ys, "accuracy; misses by kind (with context): none / wrong actor / truncated / variant")
        for field, label in (("by_source", "file"), ("by_outlet", "outlet"), ("by_year", "year"), ("by_rule", "rule")):
            lines += ["", f"yardstick by {label}:"] + _groups(ys, field, label)
        if report.get("yardstick_confusions"):
            lines += ["", f"yardstick top confusions ({report['default']}, with context): gold -> predicted"]
            lines += [f"  {c['count']:>3}  {c['gold']} -> {c['predicted']}" for c in report["yardstick_confusions"]]
        lines.append("")
    cv = report["cv"]
    lines += [
        "",
        (f"GROUPED {cv}-FOLD CV" if cv > 1 else "NO CV (fit and test on all)")
        + f" on {report['cv_claims']} claims of {', '.join(report['cv_sources'])} "
        "(the data the rules were written on: optimistic)",
    ]
    lines += _table(report["approaches"], "accuracy; misses by kind (with context)")
    lines += ["", "CV per source:"] + _groups(report["approaches"], "by_source", "file")
    if report.get("confusions"):
        lines += ["", f"CV top confusions ({report['default']}, with context): gold -> predicted"]
        lines += [f"  {c['count']:>3}  {c['gold']} -> {c['predicted']}" for c in report["confusions"]]
    return "\n".join(lines)
