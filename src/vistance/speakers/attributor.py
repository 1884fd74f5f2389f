"""Who said it: the speaker of each sentence, from its own words and, in an article, from its neighbours.

Within a sentence (:func:`own_attribution`) the speaker is the mention that a quotation or a cue points at,
tried in this order, because each is more reliable than the next on the labelled data:

1. a trailing attribution after a closing quote: ``"...", ông X nói``;
2. ``X: ...`` opening the sentence (interview answers, headlines);
3. ``Theo X, ...``, ``..., theo trang tin X.`` and reporting frames (``dẫn lời X``, ``theo phân tích của X``,
   ``Báo cáo sơ bộ của X cho biết``);
4. the subject of the first speech or attitude verb: the mention right before it (over dates and fillers, across
   an apposition ``X, cựu chỉ huy ..., cảnh báo``; ``A, B và C`` sharing it are joined), else the one opening its
   clause; passive and noun uses (``bị cáo buộc``, ``một đề xuất``) have none; a media outlet or informed source
   gives way to an actor it reports (``Axios đưa tin ông Trump đã nói``); a new subject after ``nhưng/song``
   decides (GUIDELINES §2 step 5);
5. a clause-initial subject without a cue (``Nhà lãnh đạo Mỹ ủng hộ kế hoạch này``), kept as weak.

A digest lead (``A; B; C``, R29) is read item by item: the item reporting a position decides, the one about the
peace process first.

With article context (:meth:`SpeakerAttributor.attribute`) sentences are read in order: titles resolve to
the person the article names with that title, surnames to the full name it gave, acronyms to the name they
abbreviate, pronouns to the previous speaker, ``hai bên`` to the pair named before, role descriptions (``quan chức
Nga``) to the previous speaker or the headline's person of that country (else they stay as written, R27), and a
quotation split over several sentences takes the attribution of the sentence that opens or closes it. A sentence
with no attribution of its own is the interviewee's or author's when the article is an interview or an op-ed (its
"voice"), else that of its weak subject, else continues the previous speaker for up to ``CARRY_FORWARD`` sentences.

A learnt alias table (``fit``) maps mention strings that the rules leave unresolved or resolve differently
from the annotators (a spelling, a title, a surname) to the labelled speaker; roles that fit many people are
never aliased.
"""

from __future__ import annotations

import collections
import difflib
import functools
import itertools
import json
import os
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CheckpointError
from . import lexicon as lx
from .mentions import (
    CLAUSE_PUNCT,
    PREPOSITIONS,
    Mention,
    SentenceScan,
    tables,
    tokenize,
    vietnamese_words,
)
from .names import variant_key

if TYPE_CHECKING:
    from .candidates import Candidate
    from .ranker import SpeakerRanker

SPEAKERS_FILE = "speakers.json"
FORMAT_VERSION = 1
# What decides by default (data.speaker_attributor, bench): the rules. On the full-text yardstick they score 0.764,
# the learned ranker 0.730 with the abstentions its training folds chose and 0.755 without (docs/speakers.md).
DEFAULT_ATTRIBUTOR = "rules"
# A quotation left open for longer than this is a stray mark, not a quote spanning sentences.
MAX_QUOTE_SENTENCES = 8
# An unattributed sentence continues the previous speaker only this close to the last attribution: further
# on, a claim is more likely the outlet's own framing, and "(unattributed)" beats naming the wrong actor.
# (No loss on the labelled data from 3 up; 1 costs 0.01.)
CARRY_FORWARD = 3
# An interview is announced in the lead ("Thượng tướng X trò chuyện với phóng viên ..."): sentences counted
# from the top, headline and duplicated lead included.
LEAD_SENTENCES = 10
# How far into its clause the subject may start ("Còn nhà phân tích ...", "Mới đây Phát ngôn viên ...").
SUBJECT_OFFSET = 3
REPORT_FRAMES = (
    ("dẫn", "lời"),
    ("theo", "lời"),
    ("dẫn", "tuyên", "bố", "của"),
    ("tuyên", "bố", "của"),
    ("thông", "báo", "của"),
    ("dẫn", "báo", "cáo", "của"),
    ("báo", "cáo", "của"),
    ("dẫn", "lời", "của"),
    ("theo", "tuyên", "bố", "của"),
    ("theo", "thông", "báo", "của"),
    ("dẫn", "nguồn", "tin", "từ"),
    ("dẫn", "thông", "báo", "của"),
    ("phát", "biểu", "của"),
)
ALIAS_KINDS = frozenset(("person", "title", "org", "group"))
CONTEXT_KINDS = frozenset(("pronoun", "both"))
# Alias plausibility: a name's spelling variant shares most letters ("Sergey Volina" / "Serhiy Volyna": 0.77);
# a title longer than this is a mis-chunked clause, not a title.
ALIAS_SIMILARITY = 0.6
MAX_TITLE_WORDS = 6
SKIP_KINDS = frozenset(("caption", "heading"))
# "Chủ tịch Tập Cận Bình hồi tháng 3 thăm Moskva, hội đàm với Tổng thống Nga Vladimir Putin": two persons this
# close, joined by "và", "-" or "với", are a pair for a later "hai lãnh đạo".
PAIR_GAP = 10
# The headline's person stands behind a description in the lead, up to this sentence index.
LEAD_WITH_HEADLINE = 3


def _is_person_name(name: str) -> bool:
    parts = name.split()
    return len(parts) >= 2 and all(p[:1].isupper() for p in parts)


def _plausible_alias(m: Mention, gold: str) -> bool:
    """Whether labelled speaker ``gold`` can be what mention ``m`` stands for (see SpeakerAttributor.fit)."""
    if m.kind in ("person", "title") and m.actor:
        return False
    if m.kind == "title":  # a bare head ("ngoại trưởng") is anaphoric: whoever the article is about
        bare = tables()["title_heads"].match(tokenize(m.key), 0, [True] * len(m.key.split())) == (
            len(m.key.split()),
            m.key,
        )
        return _is_person_name(gold) and not bare and len(m.key.split()) <= MAX_TITLE_WORDS
    similar = difflib.SequenceMatcher(None, m.key, gold.lower()).ratio() >= ALIAS_SIMILARITY
    return similar or gold.lower().endswith(" " + m.key)


def normalize_speaker(name: str | None) -> str:
    """The light normalisation speakers are compared under: NFC, case-folded, single spaces, no end punctuation."""
    if not name:
        return ""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split()).strip(" .,;:\"'“”")


@dataclass
class Own:
    """A sentence's own attribution: the mention and how it was found."""

    mention: Mention
    rule: str
    """quote / theo / frame / colon / cue / subject"""

    @property
    def strong(self) -> bool:
        return self.rule != "subject"


# --------------------------------------------------------------------------- one sentence


def _segments(scan: SentenceScan, first: int, stop: int) -> list[tuple[int, int]]:
    """Clause pieces of tokens [first, stop) split at commas, colons, dashes and brackets outside quotes."""
    out, start = [], first
    for k in range(first, stop):
        if scan.tokens[k].text in CLAUSE_PUNCT and not scan.quote.inside[k]:
            if k > start:
                out.append((start, k))
            start = k + 1
    if stop > start:
        out.append((start, stop))
    return out


def _adverbial(scan: SentenceScan, seg: tuple[int, int]) -> bool:
    return bool(tables()["openers"].match(scan.tokens, seg[0], scan.every))


def _subject_of(scan: SentenceScan, first: int, stop: int) -> Mention | None:
    """The subject before token ``stop``: the first actor mention opening a non-adverbial clause piece."""
    for seg in _segments(scan, first, stop):
        cands = [
            m
            for m in scan.mentions
            if seg[0] <= m.first < seg[1] and not (m.first > 0 and scan.tokens[m.first - 1].lower in PREPOSITIONS)
        ]
        if _adverbial(scan, seg) and not (cands and cands[0].first == seg[0]):
            continue
        if cands and cands[0].first - seg[0] < SUBJECT_OFFSET:
            return _apposition(scan, cands[0], stop)
    return None


def _apposition(scan: SentenceScan, m: Mention, stop: int) -> Mention:
    """ "tỉnh trưởng Sumy, Dmytro Jyvytsky cho biết": a bare title before a comma and a name is that name."""
    if m.kind != "title" or m.actor or m.stop >= stop or scan.tokens[m.stop].text != ",":
        return m
    nxt = scan.mention_at(m.stop + 1) if m.stop + 1 < len(scan.tokens) else None
    return nxt if nxt is not None and nxt.kind == "person" and nxt.first == m.stop + 1 else m


def _passive(scan: SentenceScan, c_first: int) -> bool:
    """ "bị cáo buộc", "được coi là", "Mỹ được cho là đã đề xuất": the subject is talked about, not talking."""
    toks = scan.tokens
    before = [t.lower for t in toks[max(0, c_first - 5) : c_first]]
    return bool(before) and (before[-1] in ("bị", "được") or "cho là" in " ".join(before))


def _skip_back(scan: SentenceScan, k: int, lo: int) -> int:
    """Step back from token k over what may stand between a subject and its verb (``hôm 24/5``, ``đã``)."""
    toks = scan.tokens
    while (
        k > lo
        and k - 1 >= 0
        and (toks[k - 1].lower in lx.BETWEEN_SUBJECT_AND_VERB or any(ch.isdigit() for ch in toks[k - 1].text))
    ):
        k -= 1
    return k


def _free_subject(scan: SentenceScan, m: Mention | None, stop: int) -> bool:
    """``m`` ends at ``stop`` and is no preposition's object ("cũng như X" lists X, it does not compare it)."""
    if m is None or m.stop != stop:
        return False
    toks, k = scan.tokens, m.first
    listed = k > 1 and toks[k - 1].lower == "như" and toks[k - 2].lower == "cũng"
    return listed or not (k > 0 and toks[k - 1].lower in PREPOSITIONS)


def _adjacent_subject(scan: SentenceScan, lo: int, c_first: int) -> Mention | None:
    """The mention right before the verb (``Ông Trump hôm 24/5 khẳng định``), across an apposition.

    ``Tướng Mark Hertling, cựu chỉ huy lục quân Mỹ, cảnh báo`` / ``Sidharth Kaushal, nhà phân tích tại Viện ...
    Anh cho biết``: a comma piece opening with a description (a title, a lower-case word) between the clause's
    first name and the verb describes that name. Mentions joined by ``,``/``và``/``cũng như`` at the head of
    the clause share the verb (``Mỹ, Ukraine cho biết`` -> "Mỹ và Ukraine", R27).
    """
    toks = scan.tokens
    k = _skip_back(scan, c_first, lo)
    if k <= lo:
        return None
    trailing = toks[k - 1].text == "," and not scan.quote.inside[k - 1]
    p = (k - 1 if trailing else k) - 1
    while p > lo and not (toks[p].text in CLAUSE_PUNCT and not scan.quote.inside[p]):
        p -= 1
    if p > lo and toks[p].text == "," and p + 1 < k:
        head = scan.mention_at(p + 1)
        described = (
            head is not None and head.kind == "title" and head.first == p + 1 and not (head.actor and not trailing)
        ) or (head is None and toks[p + 1].text[:1].islower())
        named = scan.mention_at(p - 1)
        if (
            described
            and named is not None
            and named.kind not in CONTEXT_KINDS
            and _free_subject(scan, named, p)
            and _clause_start(scan, named, lo)
            and (trailing or named.kind == "person")
        ):
            return named
    if trailing:
        return None
    m = scan.mention_at(k - 1)
    if not _free_subject(scan, m, k):
        return None
    if m.kind == "title" and not m.actor and m.first - 1 > lo and toks[m.first - 1].text == ",":
        # "Bà Anita Anand, Bộ trưởng Quốc phòng cho biết": the title describes the name before it
        named = scan.mention_at(m.first - 2)
        if named is not None and named.kind == "person" and named.stop == m.first - 1:
            return named
    return _listed(scan, m, lo)


def _clause_start(scan: SentenceScan, m: Mention, lo: int) -> bool:
    """``m`` opens its clause (at most SUBJECT_OFFSET tokens after the range start or a clause mark)."""
    k = m.first
    while k > lo and not (scan.tokens[k - 1].text in CLAUSE_PUNCT and not scan.quote.inside[k - 1]):
        k -= 1
    return m.first - k <= SUBJECT_OFFSET


def _subordinate(scan: SentenceScan, m: Mention) -> bool:
    """``m`` is the subject of a relative or a "trong khi" clause ("kế hoạch mà Mỹ đề xuất")."""
    toks = scan.tokens
    return m.first > 0 and (
        toks[m.first - 1].lower in _RELATIVE
        or (m.first > 1 and toks[m.first - 2].lower == "trong" and toks[m.first - 1].lower == "khi")
    )


# A subject after these is a relative clause's ("kế hoạch mà Mỹ đề xuất", "Alaska, nơi ông Trump dự kiến gặp").
_RELATIVE = frozenset(("mà", "nơi"))


_LIST_JOINS = {",", "và", "lẫn"}
_LIST_KINDS = {
    "person": {"person"},
    "country": {"country", "org", "group", "pair", "title"},
    "org": {"country", "org", "group", "pair"},
    "group": {"country", "org"},
}


def _listed(scan: SentenceScan, m: Mention, lo: int) -> Mention:
    """Extend ``m`` back over ``A, B và C`` / ``A cũng như B`` opening the clause; one mention for them all."""
    toks, parts, first = scan.tokens, [m], m.first
    while True:
        j = first - 1
        if j - 1 >= lo and toks[j].lower == "như" and toks[j - 1].lower == "cũng":
            j -= 1
        elif not (j >= lo and toks[j].lower in _LIST_JOINS):
            break
        prev = scan.mention_at(j - 1) if j - 1 >= lo else None
        if (
            prev is None
            or prev.stop != j
            or prev.kind not in _LIST_KINDS.get(m.kind, ())
            or scan.quote.inside[prev.first]
        ):
            break
        parts.insert(0, prev)
        first = prev.first
    if len(parts) == 1:
        return m
    if not any(0 <= first - s[0] < SUBJECT_OFFSET and not _adverbial(scan, s) for s in _segments(scan, lo, len(toks))):
        return m  # "Tại Nga, Ukraine nói": not a list
    actor = None
    if m.kind != "person":
        # "Quan chức Mỹ, Ukraine": the role is shared -> "Quan chức Mỹ và Quan chức Ukraine"
        role = _role_of(scan, parts[0]) if parts[0].kind in ("group", "title") else None
        actor = join_actors(
            [p.actor or p.surface for p in parts[:1]]
            + [f"{role} {p.actor}" if role and p.kind == "country" else (p.actor or p.surface) for p in parts[1:]]
        )
    return Mention(
        "pair",
        first,
        m.stop,
        toks[first].start,
        m.end,
        actor=actor,
        surface=join_actors([p.surface for p in parts]),
        parts=parts,
    )


def join_actors(names: Sequence[str]) -> str:
    """ "A", "A và B", "A, B và C" (R27)."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " và " + names[-1]


def _role_of(scan: SentenceScan, m: Mention) -> str | None:
    """ "Quan chức" of the group or title mention "Quan chức Mỹ" (the words before its country)."""
    every = [True] * len(scan.tokens)
    for k in range(m.first + 1, m.stop):
        hit = tables()["countries"].match(scan.tokens, k, every)
        if hit and hit[0] == m.stop:
            role = " ".join(scan.span_text(m.first, k).split())
            if role.lower().startswith(("các ", "những ", "một số ", "nhiều ", "một ")):
                return None
            return role[:1].upper() + role[1:]
    return None


def _cue_subject(scan: SentenceScan, first: int, stop: int, *, adjacent_only: bool = False) -> Mention | None:
    """Subject of the first cue in tokens [first, stop) that has one; a media outlet yields to a later actor.

    The subject is the mention right before the verb if there is one (:func:`_adjacent_subject`), else the
    mention opening the clause (:func:`_subject_of`). A passive cue (``bị cáo buộc``) has no subject.
    """
    found = None
    for c_first, c_stop in scan.cues:
        if not first <= c_first < stop or _passive(scan, c_first):
            continue
        k = _skip_back(scan, c_first, first)
        if k > first and scan.tokens[k - 1].lower in lx.FIRST_PERSON:
            continue  # "tôi tin": the interviewee or the quote's speaker, not a name in the sentence
        subj = _adjacent_subject(scan, first, c_first)
        if subj is not None and _subordinate(scan, subj) and not adjacent_only:
            subj = _subject_of(scan, first, c_first) or subj  # the main clause's subject comes first
        if subj is None and not adjacent_only:
            subj = _subject_of(scan, first, c_first)
        if subj is None:
            continue
        if subj.kind != "media":
            return subj
        found = found or subj
        later = _cue_subject(scan, c_stop, stop)
        return later or found
    return found


def _after_theo(scan: SentenceScan, lo: int = 0, hi: int | None = None) -> Mention | None:
    """``Theo X, ...`` / ``..., theo X.`` and reporting frames (``dẫn lời X``, ``Trong tuyên bố của X``): X.

    ``theo`` may be followed by the kind of outlet (``theo trang tin X``) or a report noun and ``của``
    (``theo phân tích của AFP``, ``Báo cáo sơ bộ của Ukraine cho biết``). A frame without "theo"/"dẫn" counts
    only when it opens a clause: "Ukraine bác tuyên bố của Nga" mentions Russia's statement, it does not
    report it. A ``Theo X ...,`` piece opening the sentence names its source whatever follows X in it.
    """
    toks = scan.tokens
    hi = len(toks) if hi is None else hi
    every = [True] * len(toks)
    starts = [seg[0] for seg in _segments(scan, lo, hi)]
    for m in scan.mentions:
        if not lo <= m.first < hi or scan.quote.inside[m.first]:
            continue
        before = tuple(t.lower for t in toks[max(lo, m.first - 5) : m.first])
        closed = (
            m.stop >= len(toks)
            or toks[m.stop].text in ",.;:"
            or toks[m.stop].lower == "thì"
            or all(
                t.lower in lx.BETWEEN_SUBJECT_AND_VERB or any(ch.isdigit() for ch in t.text)
                for t in toks[m.stop : hi]
                if t.word
            )
        )
        k = m.first
        while k > lo and toks[k - 1].lower in lx.OUTLET_WORDS:
            k -= 1
        if k > lo and toks[k - 1].lower == "theo":
            opening = k - 1 in starts and any(toks[j].text == "," for j in range(m.stop, hi))
            if closed or opening or k < m.first:
                return m
        for frame in REPORT_FRAMES:
            if before[-len(frame) :] != frame:
                continue
            at = m.first - len(frame)
            if (
                frame[0] in ("theo", "dẫn")
                or at in starts
                or (at - 1 in starts and toks[at - 1].lower in lx.FRAME_OPENERS)
            ):
                return m
        if k > lo and toks[k - 1].lower in ("của", "từ"):
            # "<lead> <report noun> [modifiers] của X": theo/dẫn anywhere, else opening a clause
            for at in range(k - 2, max(lo, k - 7) - 1, -1):
                lead = toks[at - 1].lower if at > lo else None
                ends = m.stop >= hi or toks[m.stop].text in ".;!?"
                if tables()["plan_nouns"].match(toks, at, every) and lead == "theo" and ends:
                    return m  # "theo kế hoạch hòa bình mới của Mỹ."
                if not tables()["report_nouns"].match(toks, at, every):
                    continue
                if lead in ("theo", "dẫn") or at in starts or (at - 1 in starts and lead in lx.FRAME_OPENERS):
                    return m
                break
    return None


_CONTRAST = frozenset(("nhưng", "song"))
_PEACE = ("hòa bình", "hòa đàm", "ngừng bắn", "đình chiến", "ukraine", "kiev", "kyiv")


def _digest_items(scan: SentenceScan) -> list[tuple[int, int]]:
    """Token ranges of the items of a digest lead joined by ";" (R29); one range for an ordinary sentence."""
    out, start = [], 0
    for k, t in enumerate(scan.tokens):
        if t.text == ";" and not scan.quote.inside[k]:
            if k > start:
                out.append((start, k))
            start = k + 1
    if len(scan.tokens) > start:
        out.append((start, len(scan.tokens)))
    return out or [(0, len(scan.tokens))]


def own_attribution(scan: SentenceScan) -> Own | None:
    """The speaker mention this sentence names itself, or None (see the module docstring for the order).

    A digest lead ("A; B; C", R29) is read item by item: the item that reports a position (a cue, a quote,
    ``X:``) decides, the one bearing on the peace process first when several do, else the first.
    """
    if not scan.tokens:
        return None
    items = _digest_items(scan)
    if len(items) == 1:
        return _own_in(scan, 0, len(scan.tokens))
    owns = [(_own_in(scan, a, b), a, b) for a, b in items]
    strong = [(o, a, b) for o, a, b in owns if o is not None and o.strong]
    if not strong:
        return next((o for o, _, _ in owns if o is not None), None)
    peace = [(o, a, b) for o, a, b in strong if any(w in scan.span_text(a, b).lower() for w in _PEACE)]
    return (peace or strong)[0][0]


def _own_in(scan: SentenceScan, lo: int, hi: int) -> Own | None:
    toks = scan.tokens
    if scan.quote.last_close is not None and lo <= scan.quote.last_close < hi:
        # `"...", ông X nói`: the speaker follows the closing mark at once; a clause further on (`»; ngoại
        # trưởng Anh Liz Truss ... đòi`) is another actor's statement.
        tail = scan.quote.last_close + 1
        m = _cue_subject(scan, tail, hi)
        if m is not None and m.first - tail <= SUBJECT_OFFSET and (m.first == tail or toks[tail].text in ",–-"):
            return Own(m, "quote")
    first = next((m for m in scan.mentions if lo <= m.first < hi), None)
    if (
        first is not None
        and first.first - lo < SUBJECT_OFFSET
        and first.stop < hi
        and toks[first.stop].text == ":"
        and not any(t.cap for t in toks[lo : first.first])
    ):  # "Mặt trận Kharkiv: ..." names no speaker
        return Own(first, "colon")
    theo = _after_theo(scan, lo, hi)
    if theo is not None and theo.kind != "media":
        return Own(theo, "theo")
    m = _cue_subject(scan, lo, hi)
    if m is not None:
        # "..., nhưng Kiev bác bỏ": the part after "nhưng/song" decides (GUIDELINES §2 step 5)
        for j in range(m.stop, hi):
            if toks[j].lower in _CONTRAST and not scan.quote.inside[j] and j > lo + 1:
                later = _cue_subject(scan, j + 1, hi, adjacent_only=True)
                if later is not None and later.first == j + 1 and later.kind not in CONTEXT_KINDS:
                    m = later  # the new clause's own subject, not one inside it ("nhưng khả năng Nga chấp nhận")
                break
        return Own(m, "cue")
    if theo is not None:
        return Own(theo, "theo")
    # the subject opening the first clause piece, or a later one that opens with a known person, title or body
    # ("Đối mặt áp lực ..., ông Zelensky áp dụng ..."; not "... biên giới với Nga, Iran và Trung Quốc")
    for n, seg in enumerate(s for s in _segments(scan, lo, hi) if not _adverbial(scan, s)):
        cands = [m for m in scan.mentions if seg[0] <= m.first < seg[1]]
        if (
            cands
            and cands[0].first - seg[0] < SUBJECT_OFFSET
            and not scan.quote.inside[cands[0].first]
            and (
                n == 0
                or cands[0].kind in ("title", "org", "group")
                or (cands[0].kind == "person" and (cands[0].actor or cands[0].title))
            )
        ):
            return Own(cands[0], "subject")
    return None


# --------------------------------------------------------------------------- article context


@dataclass
class ArticleContext:
    """What an article says about its actors: full names behind surnames, persons behind titles."""

    titles: dict[str, str] = field(default_factory=dict)
    surnames: dict[str, str] = field(default_factory=dict)
    given: dict[str, str] = field(default_factory=dict)
    """First word -> full name ("Kim" -> "Kim Jong Un", "Yoon" -> "Yoon Suk-yeol"): family names written first."""
    bodies: set[str] = field(default_factory=set)
    """Organisations and groups named in the article, for a shortened mention ("Viện Nghiên cứu")."""
    variants: dict[str, str] = field(default_factory=dict)
    """variant_key -> the spelling of a person the article (or the fitted table) uses first."""
    countries: dict[str, str] = field(default_factory=dict)
    """Person -> country, from the lexicon or the title the article gives them ("Trợ lý Tổng thống Nga")."""
    pairs: list[str] = field(default_factory=list)
    person_pairs: list[str] = field(default_factory=list)
    previous: str | None = None
    """The speaker of the last body sentence read so far."""
    previous_person: str | None = None
    headline: str | None = None
    """The person the headline attributes itself to ("Ông Medvedev chỉ trích ..."), while reading the lead."""
    acronyms: dict[str, str] = field(default_factory=dict)
    """"RVC" -> "Binh đoàn Tình nguyện Nga", from "Binh đoàn Tình nguyện Nga (RVC)" in the article."""

    def learn_acronyms(self, scan: SentenceScan) -> None:
        """ "Full Name (ACR)": the acronym stands for the name before the bracket (not for a curated actor)."""
        toks, known = scan.tokens, tables()["known"]
        for k in range(2, len(toks) - 2):
            acr = toks[k + 1].text
            if (
                toks[k].text != "("
                or toks[k + 2].text != ")"
                or not acr.isupper()
                or not 2 <= len(acr) <= 6
                or acr in known
                or acr in self.acronyms
            ):
                continue
            j = k
            while j > 0 and (
                toks[j - 1].cap
                and toks[j - 1].word
                or (j > 1 and toks[j - 2].cap and f"{toks[j - 2].lower} {toks[j - 1].lower}" in vietnamese_words())
            ):
                j -= 1
            while j < k and toks[j].lower in _NAME_OPENERS:
                j += 1
            if k - j >= 2 and toks[j].cap:
                self.acronyms[acr] = " ".join(scan.span_text(j, k).split())

    def learn_names(self, scan: SentenceScan, resolve_name) -> None:
        """Full names and the titles written before them, organisation names, from anywhere in the article."""
        for m in scan.mentions:
            if m.kind in ("org", "group") and not scan.quote.inside[m.first]:
                self.bodies.add(m.actor or m.surface)
            if m.kind != "person":
                continue
            name = resolve_name(m)
            if " " in m.surface:  # a surname alone ("Yermak") would map to a namesake in the lexicon
                self.surnames.setdefault(name.split()[-1].lower(), name)
                self.surnames.setdefault(m.key.split()[-1], name)
                first = m.key.split()[0]
                if first not in lx.HONORIFICS:
                    self.given.setdefault(first, name)
                key = variant_key(name)
                if key:
                    self.variants.setdefault(key, name)
            if m.title:
                self.titles.setdefault(m.title, name)
            country = lx.NATIONALITY.get(name) or (affiliation_country(m.title) if m.title else None)
            if country:
                self.countries.setdefault(name, country)

    def learn_pairs(self, scan: SentenceScan, resolve_name=None) -> None:
        """ "Nga - Mỹ", "Mỹ và Nga", "Trump - Putin", "X ... hội đàm với Y" read so far: the parties a later
        "cả hai bên" / "hai lãnh đạo" refers to (R3, R27)."""
        countries = [m for m in scan.mentions if m.kind in ("country", "pair")]
        for a, b in itertools.pairwise(countries):
            if b.first - a.stop == 1 and scan.tokens[a.stop].text in ("-", "–", "và") and a.actor != b.actor:
                self.pairs.append(f"{a.actor} và {b.actor}")
        self.pairs += [m.actor for m in scan.mentions if m.kind == "pair" and m.actor]
        people = [m for m in scan.mentions if m.kind == "person" and not scan.quote.inside[m.first]]
        for a, b in itertools.pairwise(people):
            between = {t.lower for t in scan.tokens[a.stop : b.first]}
            if b.first - a.stop <= PAIR_GAP and between & {"-", "–", "và", "với"} and resolve_name is not None:
                x, y = resolve_name(a), resolve_name(b)
                if x and y and x != y:
                    self.person_pairs.append(f"{x} và {y}")

    def longer_body(self, name: str) -> str | None:
        """The one longer organisation or group name of the article that ``name`` shortens ("Viện Nghiên cứu" ->
        "Viện Nghiên cứu chiến tranh", "Bộ Ngoại giao" -> "Bộ Ngoại giao Nga"), else None."""
        low = name.lower() + " "
        found = {b for b in self.bodies if b.lower().startswith(low)}
        return found.pop() if len(found) == 1 else None

    def both(self, surface: str) -> str | None:
        """The two parties of "cả hai bên" (the last pair named), "hai lãnh đạo" (persons first)."""
        if any(w in surface for w in ("lãnh đạo", "tổng thống")):
            found = self.person_pairs or self.pairs
        elif "nước" in surface:
            found = self.pairs
        else:
            found = self.pairs or self.person_pairs
        return found[-1] if found else None

    def title_person(self, key: str) -> str | None:
        if key in self.titles:
            return self.titles[key]
        # A bare head ("Ngoại trưởng") names the one person the article gave that head.
        found = {v for k, v in self.titles.items() if k.startswith(key + " ") or k == key}
        return found.pop() if len(found) == 1 else None

    def described(self, key: str) -> str | None:
        """The person a description with a country stands for: the previous speaker or the headline's person,
        if the article or lexicon gives them that country ("Theo quan chức Nga" after Ushakov spoke)."""
        country = affiliation_country(key)
        if country is None:
            return None
        previous = self.previous if self.previous == self.previous_person else None
        for who in (previous, self.headline):
            if who and self.countries.get(who) == country and not (key.startswith("quan chức") and who in lx.LEADERS):
                return who  # an official is not the head of state ("Quan chức Nhà Trắng" under "Ông Trump ...")
        return None


# Capitalised words opening a clause before a name ("Gồm Binh đoàn ..."), not part of it.
_NAME_OPENERS = frozenset(("gồm", "các", "những", "nhóm", "và", "theo", "của", "là"))


def affiliation_country(title: str) -> str | None:
    """The country a description names ("quan chức nga" -> Nga, "cố vấn điện kremlin" -> Nga), or None."""
    toks = tokenize(title)
    every = [True] * len(toks)
    for k in range(len(toks)):
        hit = tables()["countries_any_case"].match(toks, k, every)
        if hit and toks[k].lower not in ("người", "phía"):
            return hit[1]
    low = title.lower()
    return next((c for inst, c in lx.INSTITUTION_COUNTRY.items() if inst.lower() in low), None)


def _bare(key: str) -> bool:
    """A title head alone ("ngoại trưởng", "tổng thống"): whoever the article is about."""
    toks = tokenize(key)
    hit = tables()["title_heads"].match(toks, 0, [True] * len(toks)) if toks else None
    return bool(hit) and hit[0] == len(toks)


def _role(key: str) -> bool:
    """A description that fits many people ("quan chức Nga", "đặc phái viên Mỹ"): never one person by default."""
    return key.removeprefix("cựu ").startswith(lx.ROLE_HEADS)  # "cựu sĩ quan ..." is a role too


# How sure an attribution is, by the way it was found: (correct + 1) / (claims + 2) of each way on the labelled
# claims of seed, pool-2022 and news-2025 (grouped 5-fold CV with context, "by rule" in ``python -m
# vistance.speakers evaluate``), never tuned on the full-text yardstick, where every way scores lower (cue 0.84,
# quoted 0.74, subject 0.36, carried 0.40): read it as a ranking, not a probability. A speaker named by a pronoun
# or "hai bên" is as sure as the context that resolves it; a speaker carried over 1-3 unattributed sentences
# was right 14 times in 35 (no trend with the distance on so few).
RULE_CONFIDENCE = {
    "quote": 0.97,
    "cue": 0.94,
    "voice": 0.94,
    "quoted": 0.92,
    "pronoun": 0.89,
    "theo": 0.88,
    "colon": 0.83,
    "subject": 0.78,
    "carry1": 0.41,
    "carry2": 0.41,
    "carry3": 0.41,
}


def _how(own: Own) -> str:
    """The RULE_CONFIDENCE key of a sentence's own attribution."""
    return "pronoun" if own.mention.kind in CONTEXT_KINDS else own.rule


def _result(speaker: str | None, span, how: str | None) -> dict:
    if not speaker:
        return {"speaker": None, "speaker_span": None, "speaker_confidence": None, "speaker_rule": None}
    return {
        "speaker": speaker,
        "speaker_span": span,
        "speaker_confidence": RULE_CONFIDENCE.get(how, 0.5),
        "speaker_rule": how,
    }


def _check_sentences(sentences: Sequence[dict]) -> None:
    for i, s in enumerate(sentences):
        if not isinstance(s, dict) or not isinstance(s.get("text"), str):
            raise TypeError(f"sentence {i}: expected a dict with a 'text' string")


def _articles(sentences: Sequence[dict]) -> list[list[int]]:
    """Indices of the sentences of each article (by ``article``; all one article without), in ``position`` order."""
    groups: dict[object, list[int]] = collections.defaultdict(list)
    for i, s in enumerate(sentences):
        groups[s.get("article")].append(i)
    for idx in groups.values():
        idx.sort(key=lambda i: (sentences[i].get("position") is None, sentences[i].get("position") or 0))
    return list(groups.values())


ATTRIBUTORS = ("rules", "learned")


class SpeakerAttributor:
    """Rule-based speaker attribution with a learnt alias table. See the module docstring."""

    def __init__(
        self,
        aliases: dict[str, str] | None = None,
        *,
        generic: bool = True,
        use_aliases: bool = True,
        ner: bool = False,
        canonical: dict[str, str] | None = None,
        attributor: str = "rules",
        ranker: SpeakerRanker | None = None,
    ):
        if attributor not in ATTRIBUTORS:
            raise ValueError(f"attributor must be one of {', '.join(ATTRIBUTORS)}, not {attributor!r}")
        self.attributor = attributor
        """rules: the rules decide; learned: a ranker trained on labelled speakers picks among the rules'
        candidates (see :mod:`vistance.speakers.ranker`)."""
        self.ranker = ranker
        """The learned attributor's ranker; None: the one shipped in the package, loaded when first needed."""
        self.aliases = dict(aliases or {})
        """Lower-case mention -> normalised speaker, learnt by :meth:`fit`."""
        self.canonical = dict(canonical or {})
        """variant_key -> the labelled spelling of a person ("serhy bratchuk" -> "Serhiy Bratchuk"), learnt by
        :meth:`fit`: every transliteration variant of a labelled name comes out as that one spelling."""
        self.generic = generic
        """Find names, titles, groups and organisations outside the curated lexicon (capitalisation rules)."""
        self.use_aliases = use_aliases
        self.ner = ner
        """Add underthesea NER person/organisation spans the rules missed (slower; measured, not default)."""

    # ------------------------------------------------------------------ learning
    @classmethod
    def fit(cls, records: Iterable[dict], **options) -> SpeakerAttributor:
        """Learn aliases from labelled records with ``text`` and ``speaker`` (claims only).

        The mention the rules pick in each sentence votes for the labelled speaker where the rules resolve it
        differently, if the pair is plausible: a title may denote any named person ("quan chức Nga" -> Yury
        Ushakov), a name or group only a similar name (a spelling: "Sergey Volina" -> Serhiy Volyna).
        Curated actors are never re-aliased, and an implausible pair (an interview answer whose sentence
        names someone else) teaches nothing. The majority vote wins per mention string.
        """
        plain = cls(generic=options.get("generic", True), use_aliases=False, ner=options.get("ner", False))
        votes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for rec in records:
            gold, text = rec.get("speaker"), rec.get("text")
            if not gold or not text or rec.get("claim") not in (None, "claim"):
                continue
            scan = plain._scan(text, rec.get("date"))
            own = own_attribution(scan)
            candidates = [own.mention] if own else []
            surname = gold.split()[-1].lower()
            candidates += [m for m in scan.mentions if m.kind == "person" and m.key.split()[-1] == surname]
            for m in candidates:
                if m.kind == "title" and _role(m.key):
                    continue  # "quan chức Nga" is Ushakov in one article and someone else in the next
                if (
                    m.kind in ALIAS_KINDS
                    and _plausible_alias(m, gold)
                    and normalize_speaker(plain._resolve(m, None)) != normalize_speaker(gold)
                ):
                    votes[m.key][gold] += 1
        aliases = {k: c.most_common(1)[0][0] for k, c in votes.items()}
        spellings: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for rec in records:
            key = variant_key(rec.get("speaker")) if rec.get("claim") in (None, "claim") else None
            if key:
                spellings[key][rec["speaker"]] += 1
        canonical = {k: c.most_common(1)[0][0] for k, c in spellings.items()}
        return cls(aliases, canonical=canonical, **options)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        """The table; a learned attributor carries its ranker, so that the checkpoint decodes itself."""
        d = {
            "format": FORMAT_VERSION,
            "attributor": self.attributor,
            "generic": self.generic,
            "use_aliases": self.use_aliases,
            "ner": self.ner,
            "aliases": dict(sorted(self.aliases.items())),
            "canonical": dict(sorted(self.canonical.items())),
        }
        if self.attributor == "learned":
            d["ranker"] = self.learned_ranker().to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SpeakerAttributor:
        if not isinstance(d, dict) or d.get("format") != FORMAT_VERSION or not isinstance(d.get("aliases"), dict):
            raise CheckpointError(
                f"not a speaker table of format {FORMAT_VERSION}: expected a JSON object with 'format' and 'aliases'"
            )
        canonical = d.get("canonical") or {}  # absent in tables saved before it existed
        if not isinstance(canonical, dict):
            raise CheckpointError("'canonical' must be a JSON object of variant key -> name")
        attributor = d.get("attributor", "rules")  # absent in tables saved before the ranker existed
        if attributor not in ATTRIBUTORS:
            raise CheckpointError(f"'attributor' must be one of {', '.join(ATTRIBUTORS)}, not {attributor!r}")
        ranker = None
        if attributor == "learned":
            from .ranker import SpeakerRanker

            ranker = SpeakerRanker.from_dict(d["ranker"]) if "ranker" in d else SpeakerRanker.load_default()
        return cls(
            d["aliases"],
            generic=bool(d.get("generic", True)),
            use_aliases=bool(d.get("use_aliases", True)),
            ner=bool(d.get("ner", False)),
            canonical=canonical,
            attributor=attributor,
            ranker=ranker,
        )

    def with_attributor(self, attributor: str) -> SpeakerAttributor:
        """This table deciding with ``attributor`` (rules or learned); the learned one's ranker is loaded now,
        so a missing or unreadable ranker file stops here with one line, not at the first sentence."""
        if attributor not in ATTRIBUTORS:
            raise CheckpointError(f"attributor must be one of {', '.join(ATTRIBUTORS)}, not {attributor!r}")
        other = SpeakerAttributor(
            self.aliases,
            generic=self.generic,
            use_aliases=self.use_aliases,
            ner=self.ner,
            canonical=self.canonical,
            attributor=attributor,
            ranker=self.ranker,
        )
        if attributor == "learned":
            other.learned_ranker()
        return other

    def save(self, directory: str | os.PathLike) -> Path:
        from ..data.tables import atomic_write_text

        return atomic_write_text(
            Path(directory) / SPEAKERS_FILE, json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"
        )

    @classmethod
    def load(cls, directory: str | os.PathLike) -> SpeakerAttributor:
        path = Path(directory)
        path = path if path.is_file() else path / SPEAKERS_FILE
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise CheckpointError(f"{path}: no speaker table") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path}: not a JSON speaker table ({e})") from None
        except CheckpointError as e:
            raise CheckpointError(f"{path}: {e}") from None

    # ------------------------------------------------------------------ attribution
    def attribute(self, sentences: Sequence[dict], *, context: bool = True) -> list[dict]:
        """``{"speaker", "speaker_span"}`` per sentence; see the module docstring.

        ``sentences`` are dicts with ``text`` and optionally ``article``, ``position``, ``paragraph``, ``kind``,
        ``date``. With ``context`` they are read as consecutive sentences of their articles (grouped by
        ``article`` when present, all one article otherwise) and sorted by ``position`` within each.
        """
        _check_sentences(sentences)
        if self.attributor == "learned":
            ranker = self.learned_ranker()
            return [ranker.choose(rule, cands) for rule, cands in self.readings(sentences, context=context)]
        out: list[dict] = [_result(None, None, None) for _ in sentences]
        if not context:
            for i, s in enumerate(sentences):
                scan = self._scan(s["text"], s.get("date"))
                own = own_attribution(scan)
                if own and own.mention.kind not in CONTEXT_KINDS:
                    name = self._resolve(own.mention, None)
                    if name:
                        out[i] = _result(self.spelling(name), [own.mention.start, own.mention.end], _how(own))
            return out
        for idx in _articles(sentences):
            for i, res in zip(idx, self._attribute_article([sentences[i] for i in idx])):
                out[i] = res
        return out

    def readings(self, sentences: Sequence[dict], *, context: bool = True) -> list[tuple[dict, list[Candidate]]]:
        """Per sentence: the rules' result and every candidate speaker they saw, with its features.

        Sentences are read as :meth:`attribute` reads them; without ``context`` each one is an article of its
        own. This is what the learned ranker is trained on and ranks (:mod:`vistance.speakers.candidates`).
        """
        _check_sentences(sentences)
        out: list[tuple[dict, list[Candidate]]] = [(_result(None, None, None), []) for _ in sentences]
        groups = _articles(sentences) if context else [[i] for i in range(len(sentences))]
        for idx in groups:
            results, cands = self._read_article([sentences[i] for i in idx], collect=True)
            for i, res, c in zip(idx, results, cands):
                out[i] = (res, c)
        return out

    def learned_ranker(self) -> SpeakerRanker:
        """The ranker this attributor decides with: its own, else the one shipped in the package (loaded once)."""
        if self.ranker is None:
            from .ranker import SpeakerRanker

            self.ranker = SpeakerRanker.load_default()
        return self.ranker

    def _attribute_article(self, sents: list[dict]) -> list[dict]:
        return self._read_article(sents, collect=False)[0]

    def _read_article(self, sents: list[dict], *, collect: bool) -> tuple[list[dict], list[list[Candidate]]]:
        """The rules' result per sentence and, with ``collect``, every candidate they saw (see candidates)."""
        scans, open_after = self._scan_article(sents)
        ctx = ArticleContext()
        collector = None
        if collect:
            from .candidates import CandidateCollector

            collector = CandidateCollector(lambda name: self.spelling(name, ctx))
        for scan in scans:
            ctx.learn_acronyms(scan)
        for scan in scans:
            ctx.learn_names(scan, lambda m: self._resolve(m, None) or m.surface)
        owns = [own_attribution(scan) for scan in scans]
        quoted = self._quote_groups(scans, open_after, owns)

        voice = self._voice(scans, owns, ctx)

        head = owns[0] if owns else None
        if head is not None and head.mention.kind == "person":
            ctx.headline = self._resolve(head.mention, ctx)

        out = []
        unattributed_run = 0
        for k, (s, own) in enumerate(zip(sents, owns)):
            if k == LEAD_WITH_HEADLINE:
                ctx.headline = None
            ctx.learn_pairs(scans[k], lambda m: self._resolve(m, ctx))
            speaker, span, how = None, None, None
            if own is not None and own.strong:
                speaker = self._resolve(own.mention, ctx)
                span = None if own.mention.kind in CONTEXT_KINDS else [own.mention.start, own.mention.end]
                how = _how(own)
            if speaker is None and k in quoted:
                speaker, how = self._resolve(quoted[k], ctx), "quoted"
            if speaker is None and voice:
                speaker, how = voice, "voice"
            if speaker is None and own is not None:
                speaker = self._resolve(own.mention, ctx)
                span = None if own.mention.kind in CONTEXT_KINDS else [own.mention.start, own.mention.end]
                how = _how(own)
            unattributed_run = unattributed_run + 1 if speaker is None else 0
            if speaker is None and unattributed_run <= CARRY_FORWARD:
                speaker, span, how = ctx.previous, None, f"carry{unattributed_run}"
            if collector is not None:
                nxt = owns[k + 1] if k + 1 < len(owns) else None
                collector.sentence(
                    k,
                    scans[k],
                    own,
                    self._resolve(nxt.mention, ctx) if nxt is not None and nxt.strong else None,
                    self._resolve(quoted[k], ctx) if k in quoted else None,
                    voice,
                    ctx.previous,
                    ctx.previous_person,
                    ctx.headline,
                    lambda m: self._resolve(m, ctx),
                    (speaker, span, how if speaker else None),
                    unattributed_run,
                )
            if s.get("kind") not in SKIP_KINDS and speaker:
                ctx.previous = speaker
                if own is not None and own.mention.kind == "person":
                    ctx.previous_person = speaker
            out.append(_result(self.spelling(speaker, ctx), span, how))
        return out, collector.finish() if collector is not None else []

    def spelling(self, name: str | None, ctx: ArticleContext | None = None) -> str | None:
        """One spelling per person: the fitted table's (the labelled spelling of that name), else the one the
        article used first for a transliteration variant ("Serhii" / "Serhiy", "Zelenskiy" / "Zelensky")."""
        key = variant_key(name) if self.use_aliases or ctx is not None else None
        if not key:
            return name
        if self.use_aliases and key in self.canonical:
            return self.canonical[key]
        return (ctx.variants.get(key) if ctx is not None else None) or name

    def _scan_article(self, sents: list[dict]) -> tuple[list[SentenceScan], list[bool]]:
        """Scan each sentence, and say which leave a quotation open for the next one.

        A sentence without quotation marks inside an open quotation is all quote, so it is rescanned
        masked: it cannot name its own speaker. A new paragraph closes any quotation left open.
        """
        scans, open_after, prev_open, run, prev_para = [], [], False, 0, None
        for s in sents:
            para = s.get("paragraph")
            if para is not None and para != prev_para:
                prev_open = False
            prev_para = para
            scan = self._scan(s["text"], s.get("date"), open_before=prev_open)
            if prev_open and not scan.quote.has_marks and s.get("kind") not in SKIP_KINDS:
                scan = self._scan(s["text"], s.get("date"), all_inside=True, open_before=True)
            still_open = scan.quote.ends_inside if scan.quote.has_marks else prev_open
            run = run + 1 if still_open else 0
            if run > MAX_QUOTE_SENTENCES:
                still_open, run = False, 0
            scans.append(scan)
            open_after.append(still_open)
            prev_open = still_open
        return scans, open_after

    def _quote_groups(self, scans: list[SentenceScan], open_after: list[bool], owns: list[Own | None]) -> dict:
        """Sentence index -> the mention that attributes the quotation spanning it.

        A quotation runs from the sentence that opens it to the one that closes it; its speaker is the
        closing sentence's trailing attribution (`", ông X nói`), else the opening sentence's own one.
        """
        out, i, n = {}, 0, len(scans)
        while i < n:
            if not open_after[i]:
                i += 1
                continue
            j = i + 1
            while j < n and open_after[j]:
                j += 1
            closer = owns[j] if j < n and scans[j].quote.starts_inside and owns[j] and owns[j].rule == "quote" else None
            opener = owns[i] if owns[i] and owns[i].strong else None
            source = closer or opener
            if source is not None:
                for k in range(i, min(j + 1, n)):
                    out[k] = source.mention
            i = j + 1
        return out

    def _voice(self, scans: list[SentenceScan], owns: list[Own | None], ctx: ArticleContext) -> str | None:
        """The interviewee or author whose words an article is, if it is an interview or an op-ed.

        Evidence: answers introduced as ``Đại tá Lê Thế Mẫu: ...``, a ``Nguồn: Dmitri Trenin, ...`` line, and a
        person beside "phỏng vấn / trò chuyện / trao đổi / chia sẻ với" in the article's lead (further down,
        that is one more source quoted, not the article's voice). Unattributed sentences of such an article
        are that person's (interview answers, the author's analysis), not the last actor named.
        """
        votes: collections.Counter = collections.Counter()
        for k, (scan, own) in enumerate(zip(scans, owns)):
            if own is not None and own.rule == "colon" and own.mention.kind == "person":
                votes[self._resolve(own.mention, ctx)] += 1
            toks = scan.tokens
            people = [
                m
                for m in scan.mentions
                if m.kind == "person" and not (m.first and toks[m.first - 1].lower in PREPOSITIONS)
            ]
            if not people:
                continue
            source_line = len(toks) > 2 and toks[0].lower == "nguồn" and toks[1].text == ":" and people[0].first == 2
            interview = k < LEAD_SENTENCES and any(
                tables()["interview"].match(toks, i, scan.every) for i in range(len(toks))
            )
            if source_line or interview:
                votes[self._resolve(people[0], ctx)] += 1
        return votes.most_common(1)[0][0] if votes else None

    def _scan(
        self, text: str, date: str | None, *, all_inside: bool = False, open_before: bool = False
    ) -> SentenceScan:
        return SentenceScan(
            text,
            date,
            all_inside=all_inside,
            generic=self.generic,
            open_before=open_before,
            ner_spans=_ner_spans(text) if self.ner else None,
        )

    def _resolve(self, m: Mention, ctx: ArticleContext | None) -> str | None:
        """The normalised speaker a mention denotes, or None when only missing context could tell."""
        alias = self.aliases.get(m.key) if self.use_aliases else None
        if m.kind == "pronoun":
            if ctx is None:
                return None
            person = m.surface in lx.HONORIFICS
            return (ctx.previous_person if person else None) or ctx.previous
        if m.kind == "both":
            return ctx.both(m.key) if ctx is not None else None
        if m.kind == "pair" and m.actor is None and m.parts:
            names = [self._resolve(p, ctx) for p in m.parts]
            return join_actors(names) if all(names) else m.surface
        if m.kind == "person":
            if ctx is not None and m.surface in ctx.acronyms:
                return ctx.acronyms[m.surface]
            if ctx is not None and " " not in m.surface:  # the article's "Bohdan Yermak" beats a namesake
                full = ctx.surnames.get(m.key) or ctx.given.get(m.key)
                if full:
                    return full
            return m.actor or alias or m.surface
        if m.kind == "title":
            found = (ctx.title_person(m.key) if ctx is not None else None) or m.actor
            if found:
                return found
            bare = _bare(m.key)
            if ctx is not None and not bare:
                found = ctx.described(m.key)  # "Quan chức Nga" after Ushakov spoke, under "Ông Medvedev: ..."
            if found or (alias and not _role(m.key)):
                return found or alias
            # a bare or specific title is the person the article is about; a role description is kept (R27)
            return (ctx.previous_person if ctx is not None and not _role(m.key) else None) or m.surface
        name = (alias if m.kind in ALIAS_KINDS else None) or m.actor or m.surface
        if ctx is not None and m.kind in ("org", "group") and not alias:
            return ctx.longer_body(name) or name
        return name


@functools.lru_cache(maxsize=50_000)
def _ner_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, PER|ORG) spans from underthesea's NER, located back in the text."""
    from underthesea import ner

    spans, cursor, cur = [], 0, None
    for word, _pos, _chunk, tag in ner(text):
        at = text.find(word, cursor)
        if at < 0:
            continue
        cursor = at + len(word)
        label = tag[2:] if tag != "O" else None
        if label in ("PER", "ORG") and tag.startswith("B-"):
            cur = [at, cursor, label]
            spans.append(cur)
        elif label in ("PER", "ORG") and cur is not None and cur[2] == label:
            cur[1] = cursor
        else:
            cur = None
    return tuple((s, e, lab) for s, e, lab in spans)
