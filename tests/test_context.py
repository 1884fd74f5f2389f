"""Article context (vistance.data.context): the same at training (corpus ``context``) and at prediction."""

from __future__ import annotations

import json

from conftest import ROOT

from vistance.data.articles import article_sentences
from vistance.data.context import contexts


def test_title_previous_and_next_sentence_of_each_article_sentence():
    sents = article_sentences("Câu một. Câu hai.\n\nCâu ba.", "a", title="Tiêu đề")
    sents += [{"id": "x", "text": "Một câu lẻ."}]  # no article around it
    ctx = contexts(sents)
    assert [s["text"] for s in sents] == ["Tiêu đề", "Câu một.", "Câu hai.", "Câu ba.", "Một câu lẻ."]
    assert ctx == ["Câu một.", "Tiêu đề Câu hai.", "Tiêu đề Câu một. Câu ba.", "Tiêu đề Câu hai.", ""]


def test_the_labelled_records_context_is_what_prediction_builds_from_the_article():
    """seed.jsonl's ``context`` (scripts/add_context.py) equals the context StanceClassifier builds for the same
    sentences of the parsed data/raw articles, so training and prediction read the same thing."""
    from vistance.data.articles import parse_folder

    records = {
        json.loads(line)["id"]: json.loads(line)
        for line in (ROOT / "data/annotated/seed.jsonl").read_text(encoding="utf-8").splitlines()
    }
    checked = 0
    for art in parse_folder(ROOT / "data/raw"):
        sents = [dict(s.to_dict()) for s in art.sentences]
        for s, c in zip(sents, contexts(sents)):
            rec = records.get(s["id"])
            if rec is not None and rec["text"] == s["text"]:
                assert rec["context"] == c, s["id"]
                checked += 1
    assert checked >= 100
