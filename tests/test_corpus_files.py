"""The labelled files in the repository: each validates, and the test-only sets stay out of training."""

from pathlib import Path

import pytest

from vistance.config import DataConfig
from vistance.data.corpus import expand_files, load_corpus

ROOT = Path(__file__).resolve().parents[1]
TRAINING = expand_files([str(ROOT / p) for p in DataConfig().files])
OFFTOPIC = ROOT / "data/offtopic/offtopic.jsonl"


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "data/annotated").glob("**/*.jsonl")) + [OFFTOPIC, ROOT / "data/offtopic/agreement-blind.jsonl"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_labelled_file_validates(path):
    assert load_corpus(path)


def test_offtopic_set_is_a_test_set_only():
    """Not read by the default training glob, and no article shares a sentence with the training files."""
    assert TRAINING and OFFTOPIC not in TRAINING
    offtopic = load_corpus(OFFTOPIC)
    trained_articles = {r["article"] for r in load_corpus(TRAINING)}
    assert not {r["article"] for r in offtopic} & trained_articles
    assert len(offtopic) == 165 and sum(r["claim"] == "not_claim" for r in offtopic) == 122
    assert {r["stance"] for r in offtopic if r["claim"] == "claim"} == {"neutral"}
