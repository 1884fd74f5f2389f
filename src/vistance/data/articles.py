"""Parse Vietnamese news articles into sentences with stable ids, kinds and character offsets.

The format is what users paste from news sites:

* an optional ``date YYYY-MM-DD`` marker at the very start of the first line,
* a leading photo caption ending in ``(Ảnh: Reuters).``,
* sub-headings: a short line without final punctuation,
* paragraphs separated by blank lines (or single newlines).

Sentence splitting is underthesea's ``sent_tokenize``, checked against the seeds for quotes
spanning sentences, abbreviations and numbers such as ``16/11`` and ``4-5/2``. We repair the one
thing it gets wrong on news text: a closing quote mark split off onto the next sentence.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..text import cut_at_space, normalize

DATE_RE = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b\s*")
CAPTION_RE = re.compile(r"\((?:Ảnh|Ảnh minh họa|Ảnh minh hoạ|Photo|Nguồn)\s*:[^)]*\)\s*\.?\s*$", re.IGNORECASE)
FINAL_PUNCT = tuple(".!?…:;\"”»')")
HEADING_MAX_CHARS = 160
HEADING_MAX_WORDS = 25
_CLOSING_ONLY = re.compile(r"^[\"”»’')\]]+\s*")
MAX_SENTENCE_CHARS = 2000
"""Longer sentences (a page without punctuation, a table pasted as one line) are cut at white space into
pieces of at most this many characters. The longest labelled sentence has 1,588, and a model reads about
1,200 (256 tokens) of each; the cap keeps the work per sentence bounded, so an article costs time in
proportion to its length."""

KINDS = ("caption", "heading", "body")


@dataclass
class Sentence:
    id: str
    article: str
    date: str | None
    text: str
    kind: str
    position: int
    paragraph: int
    start: int
    end: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Article:
    id: str
    date: str | None
    text: str
    """The article body after NFC normalisation and removal of the date marker; offsets index into it."""
    sentences: list[Sentence] = field(default_factory=list)


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences (underthesea), re-attaching orphaned closing quotes."""
    from underthesea import sent_tokenize

    out: list[str] = []
    for s in sent_tokenize(paragraph):
        s = s.strip()
        if not s:
            continue
        m = _CLOSING_ONLY.match(s)
        if m and out:
            out[-1] += m.group(0).rstrip()
            s = s[m.end() :].strip()
            if not s:
                continue
        out.append(s)
    return out


def split_long(sentence: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[str]:
    """``sentence`` in pieces of at most ``max_chars`` characters, cut at white space where there is any."""
    pieces = []
    while len(sentence) > max_chars:
        cut = cut_at_space(sentence, max_chars)
        pieces.append(sentence[:cut].rstrip())
        sentence = sentence[cut:].lstrip()
    return pieces + [sentence] if sentence else pieces


def is_heading(paragraph: str) -> bool:
    p = paragraph.strip()
    return (
        "\n" not in p
        and len(p) <= HEADING_MAX_CHARS
        and len(p.split()) <= HEADING_MAX_WORDS
        and not p.endswith(FINAL_PUNCT)
    )


def parse_article(raw: str, article_id: str) -> Article:
    """Parse an article's raw text. ``article_id`` is usually the file stem."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    date = None
    m = DATE_RE.match(text)
    if m:
        date = m.group(1)
        text = text[m.end() :]
    article = Article(id=article_id, date=date, text=text)

    # Paragraph spans: blank-line separated blocks; inside a block, single newlines also separate
    # paragraphs unless the line is a wrapped continuation (doesn't end a sentence).
    spans: list[tuple[int, int]] = []
    for block in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text):
        for line in re.finditer(r"[^\n]+", block.group(0)):
            s, e = block.start() + line.start(), block.start() + line.end()
            if text[s:e].strip():
                spans.append((s, e))

    position = 0
    first_content = True
    for pi, (ps, pe) in enumerate(spans):
        para = text[ps:pe]
        if first_content and CAPTION_RE.search(para):
            kind = "caption"
        elif is_heading(para) and pi < len(spans) - 1:
            kind = "heading"
        else:
            kind = "body"
        first_content = False
        pieces = [para.strip()] if kind in ("caption", "heading") else split_sentences(para)
        pieces = [short for piece in pieces for short in split_long(piece)]
        cursor = ps
        for piece in pieces:
            start = text.find(piece, cursor, pe)
            if start < 0:  # the splitter changed white space: fall back to a fuzzy position
                start = cursor
            end = start + len(piece) if start >= 0 else cursor
            cursor = end
            article.sentences.append(
                Sentence(
                    id=f"{article_id}-{position:02d}",
                    article=article_id,
                    date=date,
                    text=" ".join(piece.split()),
                    kind=kind,
                    position=position,
                    paragraph=pi,
                    start=start,
                    end=end,
                )
            )
            position += 1
    return article


def article_sentences(raw: str, article_id: str, *, date: str | None = None, title: str | None = None) -> list[dict]:
    """The sentences to score for one article, as ``predict`` and ``batch`` both score them.

    A ``title`` (given apart from the text, as news tables give it) comes first as one sentence of kind
    ``title`` with id ``<article>-title`` and no position or offsets (it is not in ``raw``); then the
    parsed sentences with their ids ``<article>-<nn>``, positions, kinds and character offsets into the
    normalised text. ``date`` (the row's) wins over a ``date YYYY-MM-DD`` marker in the text. An article
    with neither text nor title gives no sentences.
    """
    article = parse_article(raw, article_id)
    date = date or article.date
    out = []
    title = " ".join(normalize(title or "").split())
    if title:
        out.append({"id": f"{article_id}-title", "text": title, "article": article_id, "date": date, "kind": "title"})
    out += [
        {
            "id": s.id,
            "text": s.text,
            "article": article_id,
            "date": date,
            "position": s.position,
            "kind": s.kind,
            "start": s.start,
            "end": s.end,
        }
        for s in article.sentences
    ]
    return out


def read_text(path: str | Path) -> str:
    """Read a UTF-8 file, failing with a message that names the file."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); re-save it as UTF-8") from None


def parse_file(path: str | Path) -> Article:
    path = Path(path)
    return parse_article(read_text(path), path.stem)


def parse_folder(folder: str | Path, pattern: str = "*.txt") -> list[Article]:
    files = sorted(Path(folder).glob(pattern))
    if not files:
        raise FileNotFoundError(f"{folder}: no {pattern} files")
    return [parse_file(f) for f in files]
