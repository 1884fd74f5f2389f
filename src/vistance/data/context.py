"""Article context: what a model may read beside a sentence, the same way at training and prediction time.

A sentence of a full article often needs its neighbours: a quote's attribution sits in the next sentence,
"ông" refers back, and the title says what the article is about. The context of a sentence is its
article's title (unless the sentence is the title), the previous sentence (unless that is the title) and
the next sentence, joined by spaces. A sentence without an article around it has the empty context.

Training reads it from the corpus records' optional ``context`` field (``scripts/add_context.py`` fills it
from the source articles); prediction builds it with :func:`contexts` from the sentences of each parsed
article, in order. Kinds that read context say so in their options (``model.e5_frozen.context``).
"""

from __future__ import annotations

from collections.abc import Sequence

TITLE_KINDS = ("title", "heading")


def sentence_context(texts: Sequence[str], i: int, title: str | None = None, title_index: int | None = None) -> str:
    """The context of ``texts[i]`` among its article's sentences ``texts`` (in order): title, previous, next."""
    parts = []
    if title and i != title_index:
        parts.append(title)
    if i - 1 >= 0 and i - 1 != title_index:
        parts.append(texts[i - 1])
    if i + 1 < len(texts):
        parts.append(texts[i + 1])
    return " ".join(p for p in parts if p)


def contexts(sentences: Sequence[dict]) -> list[str]:
    """The context of every sentence dict, in input order.

    Sentences of one article are those with the same ``article`` and a ``position`` (or kind ``title``: the
    title row that ``predict --articles`` and ``batch`` add before the text), taken in input order, which
    is article order. The title is the ``title`` row, else a heading at position 0. Sentences without an
    ``article`` or ``position`` (a bare list of sentences) get "".
    """
    out = [""] * len(sentences)
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        if s.get("article") is not None and (s.get("position") is not None or s.get("kind") == "title"):
            groups.setdefault(str(s["article"]), []).append(i)
    for idx in groups.values():
        texts = [sentences[i]["text"] for i in idx]
        title_index = next((k for k, i in enumerate(idx) if sentences[i].get("kind") == "title"), None)
        first = sentences[idx[0]]
        if title_index is None and first.get("kind") in TITLE_KINDS and first.get("position") == 0:
            title_index = 0
        title = texts[title_index] if title_index is not None else None
        for k, i in enumerate(idx):
            out[i] = sentence_context(texts, k, title, title_index)
    return out
