"""The tiny tokenizer is in PhoBERT's format and PhobertTokenizer reads it the way fastBPE wrote it."""

from __future__ import annotations

import json

import pytest
from conftest import SEED_CORPUS

from vistance.models.tokenization import (
    CODES_FILE,
    VOCAB_FILE,
    apply_merges,
    build_tiny_tokenizer,
    load_phobert_tokenizer,
    phobert_form,
)
from vistance.text import preprocess


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    texts = [json.loads(line)["text"] for line in SEED_CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return preprocess(texts)


@pytest.fixture(scope="module")
def built(sentences, tmp_path_factory):
    out = tmp_path_factory.mktemp("tok")
    return build_tiny_tokenizer(sentences, out, num_merges=500), out


def test_files_have_fastbpe_layout(built):
    _, out = built
    codes = (out / CODES_FILE).read_text(encoding="utf-8")
    assert codes.endswith("\n")  # PhobertTokenizer drops what follows the last newline
    lines = codes.splitlines()
    assert len(lines) == 500
    for line in lines:
        left, right, count = line.split(" ")
        assert left and right and int(count) >= 0
    # Merges are applied most frequent first: the first one is used far more than the last.
    assert int(lines[0].split()[2]) > int(lines[-1].split()[2])
    vocab = [line.rsplit(" ", 1) for line in (out / VOCAB_FILE).read_text(encoding="utf-8").splitlines()]
    counts = [int(c) for _, c in vocab]
    assert counts == sorted(counts, reverse=True)
    tokens = {t for t, _ in vocab}
    assert "Tổng_thống" in tokens and "," in tokens
    assert any(t.endswith("@@") for t in tokens) and "</w>" not in "".join(tokens)


def test_round_trip_without_unknown_tokens(built, sentences):
    tok, _ = built
    for s in sentences:
        ids = tok(s, truncation=True, max_length=256)["input_ids"]
        assert ids[0] == tok.bos_token_id == 0 and ids[-1] == tok.eos_token_id == 2
        assert tok.unk_token_id not in ids
        if len(ids) < 256:
            assert tok.decode(ids, skip_special_tokens=True) == s


def test_phobert_special_ids(built):
    tok, _ = built
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert tok.convert_tokens_to_ids("<mask>") == len(tok) - 1


def test_phobert_tokenizer_applies_our_merges(built, sentences):
    """PhobertTokenizer.bpe and our replay of the merges agree word for word, and so does HF tokenizers' BPE."""
    from tokenizers import Tokenizer, models

    tok, out = built
    merges = [tuple(line.split()[:2]) for line in (out / CODES_FILE).read_text(encoding="utf-8").splitlines()]
    ranks = {m: i for i, m in enumerate(merges)}
    # HF BPE built from the same merges, vocabulary in the </w> convention.
    symbols = {s for w in " ".join(sentences).split() for s in apply_merges(w, ranks)[0]}
    symbols |= {c for w in " ".join(sentences).split() for c in w} | {
        c + "</w>" for c in " ".join(sentences) if c != " "
    }
    symbols |= {a + b for a, b in merges} | {x for m in merges for x in m}
    vocab = {s: i for i, s in enumerate(sorted(symbols))}
    hf = Tokenizer(models.BPE(vocab=vocab, merges=merges, end_of_word_suffix="</w>"))
    for word in sorted(set(" ".join(sentences).split()))[:400]:
        ours = [phobert_form(s) for s in apply_merges(word, ranks)[0]]
        assert tok.tokenize(word) == ours
        assert [phobert_form(s) for s in hf.encode(word).tokens] == ours


def test_unseen_words_split_into_known_pieces(built):
    tok, _ = built
    pieces = tok.tokenize("Tổng_thống bất_ngờ tuyên_bố")
    assert tok.unk_token not in pieces
    assert tok.convert_tokens_to_string(pieces) == "Tổng_thống bất_ngờ tuyên_bố"


def test_saved_tokenizer_reloads_identically(built, sentences):
    from transformers import AutoTokenizer, PhobertTokenizer

    tok, out = built
    again = AutoTokenizer.from_pretrained(out)
    plain = load_phobert_tokenizer(out)
    assert isinstance(again, PhobertTokenizer)
    for s in sentences[:20]:
        assert again(s)["input_ids"] == tok(s)["input_ids"] == plain(s)["input_ids"]


def test_long_input_is_truncated_to_256(built):
    tok, _ = built
    ids = tok(" ".join(["Tổng_thống Nga"] * 400), truncation=True, max_length=256)["input_ids"]
    assert len(ids) == 256 and ids[-1] == tok.eos_token_id


def test_same_sentences_same_files(sentences, tmp_path):
    """Ties between equally frequent pairs are broken the same way every time: one seed, one vocabulary."""
    for name in ("a", "b"):
        build_tiny_tokenizer(sentences, tmp_path / name, num_merges=500)
    for f in (CODES_FILE, VOCAB_FILE):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_empty_corpus_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no text"):
        build_tiny_tokenizer(["", "  "], tmp_path)
