"""Fill the optional ``context`` field of labelled records from their source articles (vistance.data.context).

    python scripts/add_context.py data/annotated/*.jsonl [--shared ../shared]

Each record's article is parsed as it was when its sentences were labelled (BATCHES.md): the seed articles in
data/raw, the 2022 pool CSV by document, and the news pools' ``date`` marker + title + blank line + text. The
context is then the one prediction builds (title, previous and next sentence). Records whose article or
sentence cannot be found keep an empty context. Files are rewritten atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vistance.annotate.sources import read_pool_csv
from vistance.data import read_jsonl, write_jsonl
from vistance.data.articles import parse_article, parse_folder
from vistance.data.context import contexts


def article_sentences(shared: Path, raw: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for art in parse_folder(raw):
        out[art.id] = [s.to_dict() for s in art.sentences]
    for path in (shared / "pool/news-2024-fulltext/articles.jsonl", shared / "pool/news-2023-2025/articles.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            a = json.loads(line)
            # An item without a title (most news-2023-2025 full texts) has none: not a line reading "None".
            title = f"{a['title']}\n\n" if a.get("title") else ""
            text = (f"date {a['date'][:10]}\n" if a.get("date") else "") + title + a["text"]
            out[a["id"]] = [s.to_dict() for s in parse_article(text, a["id"]).sentences]
    for r in read_pool_csv(shared / "pool/vfnd-ukraine-2022/vfnd_ukraine2022_sentences.csv"):
        out.setdefault(r["article"], []).append(r)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+")
    p.add_argument("--shared", default="../shared", help="the shared data folder (pools)")
    p.add_argument("--raw", default="data/raw", help="the seed articles")
    args = p.parse_args(argv)
    articles = article_sentences(Path(args.shared), Path(args.raw))
    ctx: dict[tuple[str, str], str] = {}
    for art, sents in articles.items():
        for s, c in zip(sents, contexts(sents)):
            ctx[(art, s["text"])] = c
    for f in args.files:
        records = read_jsonl(f)
        found = 0
        for r in records:
            c = ctx.get((r["article"], r["text"]))
            found += c is not None
            r["context"] = c or ""
        write_jsonl(f, records)
        print(f"{f}: {found}/{len(records)} records with their article found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
