"""A tiny tokenizer in PhoBERT's own format (``vocab.txt`` + ``bpe.codes``) learnt from our sentences.

The tiny model exists to run PhoBERT's exact code path offline: ``PhobertTokenizer`` on
word-segmented NFC text, ``@@`` subwords, ids 0-3 for ``<s> <pad> </s> <unk>`` and the 256-token
limit. So instead of a generic tokenizer it gets files that ``PhobertTokenizer`` reads as it reads
VinAI's, in fastBPE's layout:

* ``bpe.codes``: one merge per line, ``left right count``, in the order they are applied;
  ``</w>`` marks the end of a word. ``PhobertTokenizer`` drops the last field and reads every line
  up to the final newline, which is why the file must end with one.
* ``vocab.txt``: ``token count`` per line; a subword that does not end its word carries ``@@``.

The merges are learnt by ``subword-nmt`` (the algorithm fastBPE implements, deterministic); the
counts are recomputed here by replaying the merges over the corpus.
"""

from __future__ import annotations

import collections
import io
import itertools
from collections.abc import Iterable
from pathlib import Path

EOW = "</w>"
CONTINUATION = "@@"
VOCAB_FILE = "vocab.txt"
CODES_FILE = "bpe.codes"
PHOBERT_MAX_TOKENS = 256
"""PhoBERT's token limit (258 positions minus the two RoBERTa offsets); model.max_length's default."""
MIN_PAIR_FREQUENCY = 2
"""A pair seen once only glues one rare word into a token no other sentence will use."""


def word_counts(sentences: Iterable[str]) -> collections.Counter:
    """Words as PhobertTokenizer sees them: white-space separated (segmented words keep their ``_``)."""
    counts: collections.Counter = collections.Counter()
    for s in sentences:
        counts.update(s.split())
    return counts


def learn_merges(counts: collections.Counter, num_merges: int) -> list[tuple[str, str]]:
    """The first ``num_merges`` BPE merges of the corpus, in rank order (``subword-nmt``'s learn_bpe).

    subword-nmt is the reference implementation that fastBPE (which built PhoBERT's codes) ports,
    with the same ``</w>`` convention. It breaks ties between equally frequent pairs by the pair
    itself, so the same sentences always give the same codes; HF ``tokenizers``' trainer breaks
    them by hash order, which made two runs with one seed train different vocabularies.
    """
    from unittest import mock

    from subword_nmt import learn_bpe as module

    from ..logs import progress

    if not any(len(w) > 1 for w in counts):
        return []  # nothing to merge (and learn_bpe cannot handle an empty pair table)
    # Most frequent first, then alphabetical: a fixed input order for a deterministic result.
    words = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    out = io.StringIO()
    # subword-nmt shows a bar without a name; this phase's bar says what it is
    with mock.patch.object(module, "tqdm", lambda it: progress(it, desc="tokenizer: BPE merges", unit="merge")):
        module.learn_bpe(
            [f"{w} {n}" for w, n in words], out, num_merges, min_frequency=MIN_PAIR_FREQUENCY, is_dict=True
        )
    lines = out.getvalue().splitlines()[1:]  # after the "#version: 0.2" header
    return [tuple(line.split(" ")) for line in lines if line]


def apply_merges(word: str, ranks: dict[tuple[str, str], int]) -> tuple[list[str], list[tuple[str, str]]]:
    """Split ``word`` as PhobertTokenizer.bpe does; returns (symbols ending in ``</w>``, merges applied)."""
    symbols = list(word[:-1]) + [word[-1] + EOW]
    applied = []
    while len(symbols) > 1:
        pairs = set(itertools.pairwise(symbols))
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        out, i = [], 0
        while i < len(symbols):
            if i < len(symbols) - 1 and (symbols[i], symbols[i + 1]) == best:
                out.append(symbols[i] + symbols[i + 1])
                applied.append(best)
                i += 2
            else:
                out.append(symbols[i])
                i += 1
        symbols = out
    return symbols, applied


def phobert_form(symbol: str) -> str:
    """``abc</w>`` -> ``abc`` (ends its word), ``abc`` -> ``abc@@`` (continues)."""
    return symbol[: -len(EOW)] if symbol.endswith(EOW) else symbol + CONTINUATION


def build_phobert_tokenizer_files(sentences: Iterable[str], out_dir: str | Path, num_merges: int = 2000) -> Path:
    """Learn BPE on (word-segmented) ``sentences`` and write ``vocab.txt`` and ``bpe.codes`` into ``out_dir``.

    The vocabulary holds both forms of every character and the result of every merge, so any word
    made of characters seen in training tokenises without ``<unk>``.
    """
    counts = word_counts(sentences)
    if not counts:
        raise ValueError("cannot build a tokenizer from no text")
    merges = learn_merges(counts, num_merges)
    ranks = {m: i for i, m in enumerate(merges)}

    merge_counts: collections.Counter = collections.Counter()
    token_counts: collections.Counter = collections.Counter()
    for word, n in counts.items():
        symbols, applied = apply_merges(word, ranks)
        for m in applied:
            merge_counts[m] += n
        for s in symbols:
            token_counts[phobert_form(s)] += n

    # Candidate tokens in a stable order: characters, then merge results in rank order.
    chars = sorted({c for w in counts for c in w})
    candidates = [f for c in chars for f in (c, c + CONTINUATION)]
    candidates += [phobert_form(a + b) for a, b in merges]
    seen: dict[str, int] = {}
    for tok in candidates:
        seen.setdefault(tok, len(seen))
    # fastBPE lists the vocabulary most frequent first.
    vocab = sorted(seen, key=lambda t: (-token_counts.get(t, 0), seen[t]))

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / VOCAB_FILE).write_text("".join(f"{t} {token_counts.get(t, 0)}\n" for t in vocab), encoding="utf-8")
    codes = "".join(f"{a} {b} {merge_counts.get((a, b), 0)}\n" for a, b in merges)
    (out_dir / CODES_FILE).write_text(codes, encoding="utf-8")
    return out_dir


def load_phobert_tokenizer(directory: str | Path, max_length: int = PHOBERT_MAX_TOKENS):
    """``PhobertTokenizer`` over the files in ``directory`` (ours or VinAI's)."""
    from transformers import PhobertTokenizer

    directory = Path(directory)
    return PhobertTokenizer(
        vocab_file=str(directory / VOCAB_FILE), merges_file=str(directory / CODES_FILE), model_max_length=max_length
    )


def build_tiny_tokenizer(
    sentences: Iterable[str], out_dir: str | Path, num_merges: int = 2000, max_length: int = PHOBERT_MAX_TOKENS
):
    """Write the files, then ``save_pretrained`` into the same folder so ``AutoTokenizer`` can load it."""
    out_dir = build_phobert_tokenizer_files(sentences, out_dir, num_merges)
    tokenizer = load_phobert_tokenizer(out_dir, max_length)
    tokenizer.save_pretrained(out_dir)
    return tokenizer
