"""Find actor mentions, attribution cues and quotations in one sentence.

A sentence is tokenised once; mentions are chunks of tokens found in a fixed order, each step claiming tokens
the earlier ones left free: curated persons, institutions and media, curated titles, unnamed groups ("các
quan chức Nga"), "cả hai bên", generic titles and organisations, countries, capitalised name runs and
pronouns. A title directly followed by a name is one mention of that person. Text inside quotation marks is
left out, because a name inside a quote is talked about, not talking.

Nothing here looks at other sentences; :mod:`vistance.speakers.attributor` adds the article context.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import lexicon as lx

TOKEN_RE = re.compile(r"(?:[^\W\d_]\.)+(?=\s?[^\W\d_])|\w+(?:[’'\-./]\w+)*|[^\w\s]")
OPEN_ONLY = "“«‘"
CLOSE_ONLY = "”»’"
QUOTES = OPEN_ONLY + CLOSE_ONLY + '"'
CLAUSE_PUNCT = frozenset(",;:()[]–—-")
# A mention right after one of these is an object or a complement, never the subject.
PREPOSITIONS = frozenset(
    (
        "theo",
        "của",
        "với",
        "về",
        "tới",
        "đến",
        "từ",
        "cho",
        "tại",
        "ở",
        "giữa",
        "trước",
        "sau",
        "bởi",
        "lên",
        "vào",
        "nhằm",
        "chống",
        "như",
        "giống",
        "là",
        "thay",
        "do",
        "trong",
    )
)
MAX_TAIL = 6
# "Volodymir"/"Volodymyr" 0.89, "Vladimir"/"Volodymyr" 0.71, "Bohdan"/"Andriy" 0.17.
GIVEN_NAME_SIMILARITY = 0.7

_MEDIA_HEADS = frozenset(("báo", "tờ", "hãng", "kênh", "đài", "trang", "thông tấn xã"))
# Administrative units: a capitalised word after one is a place ("vùng Krasnodar", "tỉnh Sumy").
_ADMIN_UNITS = frozenset(("vùng", "tỉnh", "phố", "bang", "quận", "huyện", "trấn", "làng", "đô", "đảo", "khu"))
# Words that end a title's or group's tail: verbs and auxiliaries, conjunctions, prepositions, demonstratives.
_TAIL_STOPS = frozenset(
    (
        "dẫn",
        "có",
        "thấy",
        "khiến",
        "cần",
        "phải",
        "được",
        "bị",
        "làm",
        "không",
        "chưa",
        "đưa",
        "hỏi",
        "rằng",
        "là",
        "và",
        "hoặc",
        "nhưng",
        "tuy",
        "dù",
        "mặc",
        "song",
        "khi",
        "sau",
        "trước",
        "trong",
        "tại",
        "ở",
        "với",
        "về",
        "này",
        "đó",
        "ấy",
        "tháng",
        "tuần",
        "khuya",
        "trưa",
        "rạng",
    )
)


@dataclass
class Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()

    @property
    def cap(self) -> bool:
        return self.text[:1].isupper()

    @property
    def word(self) -> bool:
        return self.text[:1].isalnum()


@dataclass
class Mention:
    """A chunk of tokens ``[first, stop)`` that may name a speaker."""

    kind: str
    """person, title, org, media, country, group, both ("cả hai bên"), pronoun (also "quan chức này") or pair."""
    first: int
    stop: int
    start: int
    end: int
    actor: str | None = None
    """Canonical actor when the sentence alone settles it (curated person, country, institution, group)."""
    surface: str = ""
    """The name or title as written, without honorific: the speaker when nothing better is known."""
    title: str | None = None
    """Lower-case title written before a person's name ("trợ lý điện kremlin"), for the article's title map."""
    parts: list[Mention] = field(default_factory=list)
    """The two members of a ``pair`` ("Nga và Mỹ")."""

    @property
    def key(self) -> str:
        """The alias-table key: the surface in lower case."""
        return self.surface.lower()


@dataclass
class Quoting:
    """Where a sentence's quotation marks put it relative to a quotation."""

    inside: list[bool]
    """Per token: inside quotation marks (a mark itself counts as inside)."""
    starts_inside: bool
    """The first mark closes a quote opened before this sentence."""
    ends_inside: bool
    """A quote opened here is still open at the end (continued by the next sentence)."""
    has_marks: bool
    last_close: int | None
    """Token index of the last closing mark, where a trailing attribution (`", ông X nói`) starts."""
    first_open: int | None


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]


def _phrase_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(m.group() for m in TOKEN_RE.finditer(phrase))


class PhraseTable:
    """Longest-match lookup of token phrases; case-sensitive ones (names, acronyms) compare original text."""

    def __init__(self):
        self._by_first: dict[str, list[tuple[tuple[str, ...], bool, object]]] = {}

    def add(self, phrase: str, payload, *, case_sensitive: bool = False) -> None:
        toks = _phrase_tokens(phrase)
        if not toks:
            return
        key = toks[0] if case_sensitive else toks[0].lower()
        entry = (toks if case_sensitive else tuple(t.lower() for t in toks), case_sensitive, payload)
        bucket = self._by_first.setdefault(key.lower(), [])
        bucket.append(entry)
        bucket.sort(key=lambda e: -len(e[0]))

    @classmethod
    def of(cls, phrases, *, case_sensitive: bool = False) -> PhraseTable:
        table = cls()
        for p in phrases:
            table.add(p, p, case_sensitive=case_sensitive)
        return table

    def match(self, tokens: list[Token], i: int, free) -> tuple[int, object] | None:
        """(stop, payload) of the longest phrase starting at token i over free tokens, or None."""
        for toks, cs, payload in self._by_first.get(tokens[i].lower, ()):
            n = len(toks)
            if i + n > len(tokens) or not all(free[i + k] for k in range(n)):
                continue
            got = [tokens[i + k].text for k in range(n)]
            if (got if cs else [g.lower() for g in got]) == list(toks):
                return i + n, payload
        return None


# The word list places tones the old way ("hoà", "thuý"); news text mostly the new way ("hòa", "thúy").
_OLD_TONES = {
    "oà": "òa",
    "oá": "óa",
    "oả": "ỏa",
    "oã": "õa",
    "oạ": "ọa",
    "oè": "òe",
    "oé": "óe",
    "oẻ": "ỏe",
    "oẽ": "õe",
    "oẹ": "ọe",
    "uỳ": "ùy",
    "uý": "úy",
    "uỷ": "ủy",
    "uỹ": "ũy",
    "uỵ": "ụy",
}
_OLD_TONE_RE = re.compile("|".join(_OLD_TONES))


@functools.cache
def vietnamese_words() -> frozenset[str]:
    """Lower-case Vietnamese words and syllables (underthesea's Viet74K list), to tell words from names."""
    import underthesea

    path = Path(underthesea.__file__).parent / "corpus" / "data" / "Viet74K.txt"
    words = {line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    return frozenset(words | {_OLD_TONE_RE.sub(lambda m: _OLD_TONES[m.group()], w) for w in words})


def _is_acronym(s: str) -> bool:
    return s.isupper() and len(s) <= 6


@functools.cache
def tables() -> dict:
    """The lexicon compiled into phrase tables (built once per process)."""
    persons = PhraseTable()
    surnames: dict[str, set[str]] = {}
    for canon, spellings in lx.PERSONS.items():
        for s in spellings:
            persons.add(s, canon, case_sensitive=True)
        surnames.setdefault(canon.split()[-1], set()).add(canon)
    unique = {sur: next(iter(owners)) for sur, owners in surnames.items() if len(owners) == 1}
    for sur, owner in unique.items():
        # "Bình" of Tập Cận Bình, "Nghị" of Vương Nghị are Vietnamese words ("Bình luận", "Nghị sĩ")
        if sur.lower() not in vietnamese_words():
            persons.add(sur, owner, case_sensitive=True)

    orgs = PhraseTable()
    for canon, spellings in lx.INSTITUTIONS.items():
        for s in spellings:
            orgs.add(s, ("org", canon), case_sensitive=_is_acronym(s))
    for canon, spellings in lx.MEDIA.items():
        for s in spellings:
            orgs.add(s, ("media", canon), case_sensitive=_is_acronym(s) or len(s) <= 3)
    for s in lx.INFORMED_SOURCES:
        orgs.add(s, ("media", lx.INFORMED_SOURCES[0]))

    countries, countries_any_case = PhraseTable(), PhraseTable()
    for canon, spellings in lx.COUNTRIES.items():
        for s in spellings:
            # "Anh", "Ý", "Đức" are also a pronoun, a letter and a given name: only capitalised forms count.
            countries.add(s, canon, case_sensitive=s[:1].isupper())
            countries_any_case.add(s, canon)  # for lower-cased title keys ("quan chức nga")

    plain = PhraseTable.of
    known = {
        t
        for spellings in (*lx.INSTITUTIONS.values(), *lx.COUNTRIES.values(), *lx.MEDIA.values())
        for s in spellings
        for t in _phrase_tokens(s)
        if t[:1].isupper()
    }
    return {
        "known": frozenset(known),
        "persons": persons,
        "surnames": unique,
        "orgs": orgs,
        "countries": countries,
        "countries_any_case": countries_any_case,
        "titles": [(re.compile(p), holders) for p, holders in lx.TITLES],
        "title_heads": plain(lx.TITLE_HEADS),
        "boss_heads": plain(lx.BOSS_HEADS),
        "determiners": plain(lx.GROUP_DETERMINERS),
        "group_only": plain(lx.GROUP_ONLY),
        "interview": plain(lx.INTERVIEW_CUES),
        "report_nouns": plain(lx.REPORT_NOUNS),
        "plan_nouns": plain(lx.PLAN_NOUNS),
        "places": PhraseTable.of(lx.NON_ACTORS, case_sensitive=True),
        "group_nouns": plain(lx.GROUP_NOUNS),
        "both": plain(lx.BOTH_SIDES),
        "pronouns": plain(lx.PRONOUNS),
        "honorifics": frozenset(lx.HONORIFICS),
        "cues": plain(lx.CUES),
        "fillers": plain(lx.SUBJECT_FILLERS),
        "openers": plain(lx.ADVERBIAL_OPENERS),
        "qualifiers": plain(lx.QUALIFIERS),
        "place_words": plain(lx.PLACE_WORDS),
        "org_heads": plain(
            (
                "bộ",
                "cơ quan",
                "tổng cục",
                "cục",
                "tiểu đoàn",
                "lữ đoàn",
                "trung đoàn",
                "sư đoàn",
                "quân đoàn",
                "binh đoàn",
                "ủy ban",
                "uỷ ban",
                "hội đồng",
                "đại sứ quán",
                "lực lượng",
                "bộ chỉ huy",
                "tổ chức",
                "văn phòng",
                "quốc hội",
                "chính phủ",
                "chính quyền",
                "tình báo",
                "tập đoàn",
                "viện",
                "trung tâm",
                "đảng",
                "tòa án",
                "nghị viện",
                "thượng viện",
                "hạ viện",
                "liên minh",
                "quân đội",
                "hải quân",
                "không quân",
                "lục quân",
                "thông tấn xã",
                "đài",
                "báo",
                "tờ",
                "hãng",
                "kênh",
                "trang",
                "đoàn",
            )
        ),
    }


def spelling_of(name: str) -> str | None:
    """The curated person a name not in the lexicon spells differently (R28): same surname, a similar given
    name ("Volodymir Zelensky" -> Volodymyr Zelensky), not a namesake ("Bohdan Yermak")."""
    parts = name.split()
    owner = tables()["surnames"].get(parts[-1]) if len(parts) >= 2 else None
    if owner is None:
        return None
    given, canon_given = " ".join(parts[:-1]).lower(), " ".join(owner.split()[:-1]).lower()
    return owner if difflib.SequenceMatcher(None, given, canon_given).ratio() >= GIVEN_NAME_SIMILARITY else None


def title_holder(title: str, date: str | None) -> str | None:
    """The person a curated title denotes on ``date`` (newest holder when undated), or None."""
    for pattern, holders in tables()["titles"]:
        if pattern.fullmatch(title):
            name = holders[-1][1]
            if date:
                for since, who in holders:
                    if since is None or since <= date:
                        name = who
            return name
    return None


SENTENCE_END = frozenset(".!?…")


def quoting(tokens: list[Token], text: str, *, open_before: bool = False) -> Quoting:
    """Mark the tokens inside quotation marks; a mark's direction is read from the spaces around it.

    A mark that ends the sentence right after its final stop (``... chiến thắng."``) and closes nothing opened
    in the sentence opens the next sentence's quotation, unless one was already open before (``open_before``):
    sentence splitters leave the opening mark of a quoted paragraph on the sentence before it.
    """
    inside = [False] * len(tokens)
    depth, open_at, first_open, last_close = 0, None, None, None
    starts_inside = has_marks = False
    for i, t in enumerate(tokens):
        if t.text not in QUOTES:
            continue
        has_marks = True
        before = text[t.start - 1] if t.start else " "
        after = text[t.end] if t.end < len(text) else " "
        opening = t.text in OPEN_ONLY or (
            t.text not in CLOSE_ONLY and (before.isspace() or before in "([") and not after.isspace()
        )
        if t.text == "’" and before.isalpha() and after.isalpha():  # an apostrophe inside a name
            continue
        if opening:
            if depth == 0:
                open_at = i
                first_open = i if first_open is None else first_open
            depth += 1
            continue
        if depth:
            depth -= 1
            if depth == 0:
                for k in range(open_at, i + 1):
                    inside[k] = True
        elif (
            not open_before
            and i == len(tokens) - 1
            and i
            and tokens[i - 1].text in SENTENCE_END
            and tokens[i - 1].end == t.start
        ):
            open_at, depth = i, 1  # the next sentence's opening mark
            first_open = i if first_open is None else first_open
            continue
        elif last_close is None and first_open is None:
            starts_inside = True
            for k in range(i + 1):
                inside[k] = True
        last_close = i
    ends_inside = depth > 0
    if ends_inside:
        for k in range(open_at, len(tokens)):
            inside[k] = True
    return Quoting(inside, starts_inside, ends_inside, has_marks, last_close, first_open)


class SentenceScan:
    """Tokens, quotation state, mentions and cue positions of one sentence."""

    def __init__(
        self,
        text: str,
        date: str | None = None,
        *,
        all_inside: bool = False,
        generic: bool = True,
        ner_spans: Sequence[tuple[int, int, str]] | None = None,
        open_before: bool = False,
    ):
        """``generic``: also find names, titles, groups and organisations outside the curated lexicon.
        ``ner_spans``: (start, end, PER|ORG) character spans from a NER model, added where nothing else is.
        ``open_before``: a quotation opened in an earlier sentence is still open (see :func:`quoting`)."""
        self.text = text
        self.date = date
        self.generic = generic
        self.ner_spans = ner_spans or ()
        self.tokens = tokenize(text)
        self.quote = quoting(self.tokens, text, open_before=open_before)
        if all_inside:  # a sentence continuing a quotation opened earlier and closed later
            self.quote.inside = [True] * len(self.tokens)
        self.mentions: list[Mention] = []
        self._owner: list[Mention | None] = [None] * len(self.tokens)
        self.every = [True] * len(self.tokens)  # "all tokens free", for lookups that ignore mentions
        self._find_mentions()
        self.cues = self._find_cues()

    # ------------------------------------------------------------------ helpers
    def free(self) -> list[bool]:
        return [not q and o is None for q, o in zip(self.quote.inside, self._owner)]

    def span_text(self, first: int, stop: int) -> str:
        return self.text[self.tokens[first].start : self.tokens[stop - 1].end]

    def _add(self, kind, first, stop, **kw) -> Mention:
        """Record a mention over tokens [first, stop); mentions it swallows (an institution in a title) go."""
        m = Mention(kind, first, stop, self.tokens[first].start, self.tokens[stop - 1].end, **kw)
        if any(o is not None for o in self._owner[first:stop]):  # else no earlier mention lies inside
            self.mentions = [o for o in self.mentions if not (first <= o.first and o.stop <= stop)]
        for k in range(first, stop):
            self._owner[k] = m
        self.mentions.append(m)
        return m

    def _stop_word(self, i: int) -> bool:
        """A token that ends a title's or group's tail: punctuation, a cue, a filler, a conjunction, a quote."""
        t = self.tokens[i]
        if not t.word or self.quote.inside[i] or t.lower in _TAIL_STOPS:
            return True
        tb, every = tables(), self.every
        return bool(tb["cues"].match(self.tokens, i, every) or tb["fillers"].match(self.tokens, i, every))

    def _tail(self, i: int, free, *, names: bool = False) -> int:
        """Stop of the words after a title or group noun that still describe it ("... Bộ Quốc phòng Nga").

        The tail takes lower-case words, places, institutions and capitalised compounds ("Tài chính"); it ends
        at a stop word, at a capitalised title head or name (which starts the next mention), after MAX_TAIL
        words, or after the affiliation: a country, place or institution ("Các lãnh đạo châu Âu | bất ngờ"),
        with a following "tại X" and anonymity qualifiers ("Đại sứ Nga tại Ba Lan", "quan chức Mỹ giấu tên").
        An organisation's own name (``names``) keeps capitalised words and "và"/"về" before one ("Bộ Kế
        hoạch và Đầu tư"). A capitalised word after an administrative unit is its place ("vùng Krasnodar"),
        and an organisation inside a title is read to its country ("Người phát ngôn Bộ Quốc phòng Mỹ").
        """
        tb, toks = tables(), self.tokens
        n, j = len(toks), i
        while j < n and j - i < MAX_TAIL:
            affiliation = self._affiliation(j, free)
            if affiliation is not None:
                return self._after_affiliation(affiliation, free)
            if not free[j]:
                break
            air_force = toks[j].lower == "không" and j + 1 < n and toks[j + 1].lower == "quân"
            joined = (
                names
                and toks[j].lower in ("và", "về")
                and j + 1 < n
                and free[j + 1]
                and toks[j + 1].cap
                and self._affiliation(j + 1, free) is None
            )
            if self._stop_word(j) and not air_force and not joined:
                break
            if (
                names
                and not toks[j].cap
                and not joined
                and any(t.cap for t in toks[i:j])
                and not (toks[j - 1].cap and f"{toks[j - 1].lower} {toks[j].lower}" in vietnamese_words())
            ):
                break  # "Tiểu đoàn Azov | chống trả": a name ends at a lower-case word that is not its compound
            if toks[j].cap and not names:
                if j > i and toks[j - 1].lower in _ADMIN_UNITS and toks[j].word:
                    run = self._name_run(j, free)  # "vùng Krasnodar Veniamin Kondratyev": the last two are a name
                    return self._after_affiliation(j + (1 if run - j < 3 else run - j - 2), free)
                org = tb["org_heads"].match(toks, j, free)
                if org and org[1] not in _MEDIA_HEADS:
                    k = self._org_words(org[0], free)
                    affiliation = self._affiliation(k, free) if k < n else None
                    return self._after_affiliation(affiliation, free) if affiliation else k
                compound = (
                    j + 1 < n and not toks[j + 1].cap and f"{toks[j].lower} {toks[j + 1].lower}" in vietnamese_words()
                )
                if not compound or tb["title_heads"].match(toks, j, free):
                    break
                j += 1
            j += 1
        while j > i and toks[j - 1].lower in ("của", "các", "những", "và", "về"):
            j -= 1
        return min(j, n)

    def _affiliation(self, j: int, free) -> int | None:
        """Stop of the country, place or institution starting at token j, or None."""
        tb = tables()
        owner = self._owner[j]
        if owner is not None and owner.first == j and owner.kind in ("org", "country") and not self.quote.inside[j]:
            return owner.stop
        if not free[j]:
            return None
        hit = tb["countries"].match(self.tokens, j, free) or tb["places"].match(self.tokens, j, free)
        return hit[0] if hit else None

    def _after_affiliation(self, j: int, free) -> int:
        """Past "tại <country/place>" and "giấu tên"/"cấp cao" after an affiliation ending at token j."""
        toks, every = self.tokens, [True] * len(self.tokens)
        while j < len(toks):
            if toks[j].lower == "tại" and j + 1 < len(toks) and self._affiliation(j + 1, free) is not None:
                j = self._affiliation(j + 1, free)
                continue
            hit = tables()["qualifiers"].match(toks, j, every)
            if not hit:
                break
            j = hit[0]
        return j

    def _org_words(self, j: int, free) -> int:
        """Stop of an organisation's name words inside a title (Vietnamese words, not a foreign name)."""
        toks, n = self.tokens, len(self.tokens)
        while j < n and free[j] and toks[j].word and not self.quote.inside[j]:
            if toks[j].cap and toks[j].lower not in vietnamese_words() and not _is_acronym(toks[j].text):
                break
            if not toks[j].cap and not (
                j and toks[j - 1].cap and f"{toks[j - 1].lower} {toks[j].lower}" in vietnamese_words()
            ):
                break
            j += 1
        return j

    def described(self, first: int, stop: int) -> str:
        """The words of tokens [first, stop) as a speaker: a country as its canonical name ("Quan chức Kiev" ->
        "Quan chức Ukraine"), without "của" before an affiliation or anonymity and rank qualifiers (R27)."""
        toks, words, k = self.tokens, [], first
        every = [True] * len(toks)
        while k < stop:
            owner = self._owner[k]
            hit = tables()["countries"].match(toks, k, every)
            qual = tables()["qualifiers"].match(toks, k, every)
            if qual and qual[0] <= stop:
                k = qual[0]
                continue
            if toks[k].lower == "của" and k + 1 < stop and self._affiliation(k + 1, every) is not None:
                k += 1
                continue
            if hit and hit[0] <= stop and toks[k].cap and (owner is None or owner.kind == "country"):
                words.append(hit[1])
                k = hit[0]
                continue
            words.append(self.span_text(k, k + 1))
            k += 1
        text = " ".join(words).replace(" ,", ",").replace("( ", "(").replace(" )", ")")
        return " ".join(text.split())

    def _name_run(self, i: int, free) -> int:
        """Stop of a run of capitalised words starting at i (i itself when there is none)."""
        j = i
        while j < len(self.tokens) and free[j] and self.tokens[j].word and self.tokens[j].cap:
            j += 1
        return j

    # ------------------------------------------------------------------ mentions
    def _find_mentions(self) -> None:
        tb = tables()
        toks, n = self.tokens, len(self.tokens)
        lower = self.text.lower()

        def persons(i, free):
            j = i + 1 if toks[i].text.endswith(".") and toks[i].cap and i + 1 < n else i  # "V.Putin"
            hit = tb["persons"].match(toks, j, free)
            if not hit:
                return None
            stop, canon = hit
            prev = toks[i - 1] if i else None
            if (
                stop - j == 1
                and j == i
                and prev is not None
                and prev.cap
                and prev.word
                and prev.lower not in lx.HONORIFICS
                and prev.lower not in _COMMON
                and prev.text not in tb["known"]
            ):
                return None  # "Bohdan Yermak" is not the lexicon's Andriy Yermak: left to the name step
            return self._add("person", i, stop, actor=canon, surface=self.span_text(j, stop))

        def curated_titles(i, free):
            for pattern, _ in tb["titles"]:
                m = pattern.match(lower, toks[i].start)
                stop = m and next((k + 1 for k in range(i, n) if toks[k].end == m.end()), None)
                if stop and all(free[i:stop]):
                    return self._title(i, stop)
            return None

        def orgs(i, free):
            hit = tb["orgs"].match(toks, i, free)
            if not hit:
                return None
            stop, (kind, canon) = hit
            return self._add(kind, i, stop, actor=canon, surface=canon)

        def groups(i, free):
            det = tb["determiners"].match(toks, i, free)
            j = det[0] if det else i
            noun = tb["group_nouns"].match(toks, j, free) if j < n else None
            if not noun and det and det[1] in lx.PLURAL_DETERMINERS and j < n:
                noun = tb["title_heads"].match(toks, j, free)  # "Các chỉ huy quân đội Ukraine"
            if not noun and j < n and toks[j].lower == "người" and (det or j == 0 or toks[j - 1].text == "%"):
                hit = tb["countries"].match(toks, j, free)  # "Nhiều người Ukraine", "75% người Nga" (R27)
                if hit and toks[j + 1].cap:
                    name = "Người " + hit[1]
                    return self._add("group", i, hit[0], actor=name, surface=name)
            if not noun or not (det or tb["group_only"].match(toks, i, free)):
                return None
            head = " ".join(t.lower for t in toks[j : noun[0]])
            if det and det[1] == "giới":
                head = "giới " + head
            stop = self._tail(noun[0], free)
            name = " ".join(
                filter(None, (lx.GROUP_RENAME.get(head, head), self.described(noun[0], stop) if stop > noun[0] else ""))
            )
            name = name[:1].upper() + name[1:]
            return self._add("group", i, stop, actor=name, surface=name)

        def both(i, free):
            hit = tb["both"].match(toks, i, free)
            return self._add("both", i, hit[0], surface=hit[1]) if hit else None

        def generic_titles(i, free):
            hit = tb["title_heads"].match(toks, i, free)
            org = tb["org_heads"].match(toks, i, free)
            if not hit or (org and org[0] > hit[0]):  # "Đại sứ quán" is a place, "Đại sứ" a person
                return None
            inside = i and tb["org_heads"].match(toks, i - 1, free)
            if inside and inside[0] > i and toks[i - 1].cap:  # "Bộ chỉ huy": an organisation, not "chỉ huy"
                return None
            return self._title(i, self._tail(hit[0], free))

        def generic_orgs(i, free):
            hit = tb["org_heads"].match(toks, i, free) if toks[i].cap else None
            if not hit:
                return None
            if hit[1] in _MEDIA_HEADS:  # "Tờ Topwar.ru", "Đài VOA": the outlet is the capitalised name
                stop = self._name_run(hit[0], free)
                if stop <= hit[0] or tb["places"].match(toks, hit[0], free):
                    return None  # "Kênh Telegram": a platform, not an outlet
                name = self.span_text(hit[0], stop)
                return self._add("media", i, stop, actor=name, surface=name)
            if hit[1] in ("chính quyền", "chính phủ") and hit[0] + 1 < n and toks[hit[0]].lower in lx.HONORIFICS:
                person = self._owner[hit[0] + 1]  # "Chính quyền ông Trump" -> "Chính quyền Trump"
                if person is not None and person.kind == "person" and person.first == hit[0] + 1:
                    name = f"{toks[i].text} {toks[i + 1].text} {person.surface.split()[-1]}"
                    return self._add("org", i, person.stop, actor=name, surface=name)
            stop = self._tail(hit[0], free, names=True)
            anaphor = stop < n and toks[stop].lower in ("này", "ấy", "đó")
            if stop <= hit[0] or not (anaphor or any(t.cap for t in toks[hit[0] : stop])):
                return None  # "Bộ phát hiện": the ministry named before, not a name ("Cơ quan ngoại giao này" is)
            name = self.described(i, stop)
            return self._add("org", i, stop, actor=name, surface=name)

        def countries(i, free):
            hit = tb["countries"].match(toks, i, free)
            return self._add("country", i, hit[0], actor=hit[1], surface=hit[1]) if hit else None

        def names(i, free):
            if not (toks[i].cap and toks[i].word):
                return None
            stop = self._name_run(i, free)
            first = i
            while first < stop and toks[first].lower in _COMMON:  # "Nhưng", "Các" opening a clause
                first += 1
            run = toks[first:stop]
            if (
                not run
                or all(len(t.text.rstrip(".")) <= 2 for t in run)
                or any(tb["places"].match(toks, k, free) for k in range(first, stop))
                or any(ch.isdigit() for t in run for ch in t.text)
            ):  # "F-16", "Su-35": hardware, not people
                return stop
            # One capitalised Vietnamese word is a sentence opener ("Chắc chắn"), not a surname, unless an
            # honorific or title stands before it.
            titled = first > 0 and (
                toks[first - 1].lower in lx.HONORIFICS
                or self._owner[first - 1] is not None
                and self._owner[first - 1].kind == "title"
            )
            word = run[0].lower in vietnamese_words() or (
                stop < n and f"{run[0].lower} {toks[stop].lower}" in vietnamese_words()
            )  # "Khả năng"
            if len(run) == 1 and not titled and word:
                return stop
            if first > 0 and toks[first - 1].text == "(" and stop < n and toks[stop].text == ")":
                return stop  # "máy bay không người lái (UAV)": a term's abbreviation
            if self._placed(first) or all(part in tb["known"] for t in run for part in t.text.split("-")):
                return stop  # "thành phố Soledar", "Tập trận Nga-Việt"
            surface = " ".join(self.span_text(first, stop).split())
            return self._add("person", first, stop, surface=surface, actor=spelling_of(surface))

        def pronouns(i, free):
            hit = tb["pronouns"].match(toks, i, free)
            return self._add("pronoun", i, hit[0], surface=hit[1]) if hit else None

        starts = {t.start: k for k, t in enumerate(toks)}
        ends = {t.end: k + 1 for k, t in enumerate(toks)}
        ner_at = {starts[s]: (ends[e], label) for s, e, label in self.ner_spans if s in starts and e in ends}

        def ner(i, free):
            if i not in ner_at or not all(free[i : ner_at[i][0]]):
                return None
            stop, label = ner_at[i]
            name = " ".join(self.span_text(i, stop).split())
            return self._add(
                "person" if label == "PER" else "org", i, stop, actor=None if label == "PER" else name, surface=name
            )

        steps = (persons, curated_titles, orgs, groups, both, countries, generic_titles, generic_orgs, names)
        if not self.generic:
            steps = (persons, curated_titles, orgs, both, countries)
        for step in (*steps, ner, pronouns):
            i = 0
            free = self.free()
            while i < n:
                found = step(i, free) if free[i] else None
                if isinstance(found, Mention):  # only a step's own mention takes tokens: refresh those, not all
                    free[found.first : found.stop] = [False] * (found.stop - found.first)
                i = (found.stop if isinstance(found, Mention) else found) or i + 1
        self.mentions.sort(key=lambda m: m.first)
        self._merge()

    def _placed(self, k: int) -> bool:
        """A name at token k follows a word for a place or front ("thành phố Soledar", "mặt trận Kharkiv")."""
        every = [True] * len(self.tokens)
        for j in range(max(0, k - 3), k):
            hit = tables()["place_words"].match(self.tokens, j, every)
            if hit and hit[0] == k:
                return True
        return False

    def _title(self, first: int, stop: int) -> Mention:
        text = self.described(first, stop)
        return self._add(
            "title", first, stop, actor=title_holder(text.lower(), self.date), surface=text[:1].upper() + text[1:]
        )

    def _inner_head(self, m: Mention) -> bool:
        """A title holding a leader's title ("Trợ lý Tổng thống Nga"): a name after it is the leader's."""
        tb, free = tables(), self.every
        head = tb["title_heads"].match(self.tokens, m.first, free)
        start = head[0] if head else m.first + 1
        return any(tb["boss_heads"].match(self.tokens, k, free) for k in range(start, m.stop))

    def _merge(self) -> None:
        """Title + name, honorific + name, title + title, and "X và Y" become one mention each."""
        toks = self.tokens
        merged: list[Mention] = []
        for m in self.mentions:
            prev = merged[-1] if merged else None
            adjacent = prev is not None and prev.stop == m.first
            if (
                adjacent
                and m.kind == "person"
                and (
                    (prev.kind == "title" and not self._inner_head(prev))
                    or (prev.kind == "pronoun" and prev.key in lx.HONORIFICS)
                )
            ):
                actor = m.actor
                if (
                    actor is None
                    and prev.kind == "title"
                    and prev.actor
                    and set(m.key.split()) <= set(prev.actor.lower().split())
                ):
                    actor = prev.actor  # "Tổng thống Ukraine Volodymyr": part of the title holder's name
                merged[-1] = Mention(
                    "person",
                    prev.first,
                    m.stop,
                    prev.start,
                    m.end,
                    actor=actor,
                    surface=m.surface,
                    title=prev.key if prev.kind == "title" else m.title,
                )
                continue
            if adjacent and m.kind == "media" and prev.kind == "title":  # "đặc phái viên Les Echos"
                merged[-1] = Mention("media", prev.first, m.stop, prev.start, m.end, actor=m.actor, surface=m.surface)
                continue
            if adjacent and m.kind == "title" and prev.kind == "title":
                text = f"{prev.surface} {m.key}"
                merged[-1] = Mention(
                    "title",
                    prev.first,
                    m.stop,
                    prev.start,
                    m.end,
                    actor=title_holder(text.lower(), self.date) or m.actor or prev.actor,
                    surface=text,
                )
                continue
            if (
                prev is not None
                and m.first == prev.stop + 1
                and toks[prev.stop].lower == "và"
                and prev.kind in ("country", "org", "group")
                and m.kind in ("country", "org", "group")
            ):
                surface = (
                    f"{prev.actor or prev.surface} và {(m.actor or m.surface)[:1].lower()}{(m.actor or m.surface)[1:]}"
                    if m.kind == "group"
                    else f"{prev.actor or prev.surface} và {m.actor or m.surface}"
                )
                merged[-1] = Mention(
                    "pair", prev.first, m.stop, prev.start, m.end, actor=surface, surface=surface, parts=[prev, m]
                )
                continue
            if m.kind in ("title", "org", "group") and m.stop < len(toks) and toks[m.stop].lower in ("này", "ấy"):
                # "Cơ quan ngoại giao này", "nhà lãnh đạo ấy": an anaphor, resolved like a pronoun
                m = Mention("pronoun", m.first, m.stop + 1, m.start, toks[m.stop].end, surface=m.surface)
            merged.append(m)
        self.mentions = merged
        self._owner = [None] * len(toks)
        for m in merged:
            for k in range(m.first, m.stop):
                self._owner[k] = m

    # ------------------------------------------------------------------ cues
    def _find_cues(self) -> list[tuple[int, int]]:
        """(first, stop) token ranges of attribution cues outside quotes and mentions."""
        cues, i, n = [], 0, len(self.tokens)
        free = self.free()
        while i < n:
            hit = tables()["cues"].match(self.tokens, i, free) if free[i] else None
            if hit and not self._guarded(hit[1], hit[0]):
                cues.append((i, hit[0]))
            i = hit[0] if hit else i + 1  # a guarded phrase is skipped whole ("mối đe dọa" has no "dọa")
        return cues

    def _guarded(self, cue: str, stop: int) -> bool:
        """Uses of a cue word that are events or nouns, not speech ("nói chuyện", "gọi điện", "một đề xuất")."""
        nxt = self.tokens[stop].lower if stop < len(self.tokens) else ""
        first = stop - len(_phrase_tokens(cue))
        prev = self.tokens[first - 1].lower if first > 0 else ""
        return (cue, nxt) in _GUARDS or prev in _NOUN_MARKERS

    def mention_at(self, i: int) -> Mention | None:
        return self._owner[i]


# Capitalised words that open sentences and clauses but never start a name.
_COMMON = frozenset(
    (
        "theo",
        "tuy",
        "nhưng",
        "trong",
        "tại",
        "sau",
        "khi",
        "hôm",
        "ngày",
        "các",
        "những",
        "nhiều",
        "một",
        "còn",
        "và",
        "với",
        "về",
        "đây",
        "đó",
        "điều",
        "việc",
        "cuộc",
        "chính",
        "người",
        "nhà",
        "hai",
        "cả",
        "ba",
        "bốn",
        "năm",
        "tháng",
        "tuần",
        "phía",
        "giới",
        "dù",
        "mặc",
        "nếu",
        "vì",
        "do",
        "để",
        "từ",
        "đến",
        "cho",
        "bởi",
        "trước",
        "đối",
        "ngoài",
        "bên",
        "thêm",
        "ngay",
        "hiện",
        "gần",
        "mới",
        "cũng",
        "chúng",
        "tôi",
        "ta",
        "họ",
        "không",
        "chưa",
        "đã",
        "đang",
        "sẽ",
        "vẫn",
        "rất",
        "có",
        "là",
        "thì",
        "mà",
        "nhằm",
        "song",
        "kể",
        "cụ",
        "tóm",
        "thứ",
        "tất",
        "toàn",
        "mọi",
        "ai",
        "gì",
        "sao",
        "bao",
        "nay",
        "lúc",
        "vào",
        "qua",
        "đêm",
        "sáng",
        "chiều",
        "tối",
        "vừa",
        "nhân",
        "hãy",
        "xin",
        "thế",
        "vậy",
        "như",
        "đúng",
        "rõ",
        "chỉ",
        "riêng",
        "ngược",
        "thực",
        "hơn",
        "tiếp",
        "cuối",
        "đầu",
        "giữa",
        "ông",
        "bà",
        "cô",
        "anh",
        "chị",
        "ngài",
        "đáp",
        "trả",
        "phát",
        "báo",
        "tin",
        "ảnh",
        "video",
        "clip",
        "nguồn",
        "biên",
        "pv",
        "p.v",
        "tto",
        "bình",
        "trích",
        "dẫn",
    )
)
# A cue word after one of these is a noun: "một đề xuất", "lời kêu gọi", "bản tuyên bố".
_NOUN_MARKERS = frozenset(("một", "các", "những", "mọi", "bản", "lời", "mấy", "cuộc", "mối", "trang", "hãng", "nguồn"))
_GUARDS = frozenset(
    (
        ("nói", "chuyện"),
        ("gọi", "điện"),
        ("gọi", "cho"),
        ("xem", "xét"),
        ("kể", "từ"),
        ("kể", "cả"),
        ("coi", "trọng"),
        ("thông tin", "về"),
        ("báo cáo", "của"),
        ("tin", "tức"),
        ("tin", "đồn"),
        ("tin", "nhắn"),
        ("tin", "tặc"),
        ("tin", "học"),
        ("tin", "cậy"),
        ("đăng", "ký"),
    )
)
