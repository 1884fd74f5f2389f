"""Every speaker the rules could give a sentence, with the evidence for each: what the learned ranker ranks.

The rules (:mod:`vistance.speakers.attributor`) read an article in order and give each sentence one speaker.
Reading it, they also see the alternatives: every actor mention in the sentence, the sentence's own attribution
when a quotation or the voice overrode it, the previous speaker, the headline's person, the speakers of the
sentences around it. :class:`CandidateCollector` records them, merged by speaker (several mentions of one
actor are one candidate), each with features in [0, 1]:

* how the rules found it: ``rule`` (their answer) and ``rule:<how>`` (quote, cue, theo, colon, subject, pronoun,
  quoted, voice, carry), ``own`` / ``own:<how>`` (the sentence's own attribution, used or not), ``quoted``,
  ``voice``, ``previous``, ``previous_person``, ``headline``;
* where it is: in the sentence (``mention``, ``kind:<kind>``, how early, first mention, opening its clause,
  after a preposition or ``theo``, next to a cue verb or after a closing quote), or in a neighbouring sentence
  (``prev_rule``, ``prev2_rule``, ``prev_mention``, ``next_own``);
* what it is: a curated actor of the lexicon, a person's name, a role, a country, a joined pair;
* how often the article names it (``freq``), gives it sentences (``rule_freq``), and whether it is (one of) the
  article's most named actors (``top_actor``);
* the sentence itself (``s:cue``, ``s:quote``, ``s:lead``, ``s:ncand``): the same for all its candidates, so they
  do not change the ranking but tell the ranker how sure to be, which is what abstaining needs.

Candidates are the rules' own reading, so they do not depend on the ranker: they are built once per article.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import lexicon as lx
from .mentions import PREPOSITIONS, Mention, SentenceScan

if TYPE_CHECKING:
    from .attributor import Own

# Rule names as RULE_CONFIDENCE spells them; carry1..3 become one "carry" with its run length as a number.
RULES = ("quote", "colon", "theo", "cue", "subject", "pronoun", "quoted", "voice", "carry")
OWN_RULES = ("quote", "colon", "theo", "cue", "subject")
KINDS = ("person", "title", "org", "media", "country", "group", "both", "pronoun", "pair")
# Distances in tokens are read as closeness 1 / (1 + d): adjacent is 1, far is near 0.
LEAD = 3
# A mention this close after a closing quote is where a trailing attribution stands (`"...", ông X nói`).
AFTER_QUOTE = 4
MAX_COUNT = 10


def _close(d: int) -> float:
    return 1.0 / (1.0 + max(0, d))


@dataclass
class Candidate:
    """One speaker a sentence may have, with its features (name -> value in [0, 1])."""

    speaker: str
    span: list[int] | None = None
    features: dict[str, float] = field(default_factory=dict)

    def add(self, features: dict[str, float], span: list[int] | None = None) -> None:
        for k, v in features.items():
            self.features[k] = max(self.features.get(k, 0.0), v)
        if self.span is None and span is not None:
            self.span = span


def feature_names() -> list[str]:
    """Every feature a candidate can carry, in a fixed order (the ranker's columns)."""
    names = [
        "rule",
        *(f"rule:{r}" for r in RULES),
        "carry_run",
        "own",
        *(f"own:{r}" for r in OWN_RULES),
        "own_strong",
        "quoted",
        "voice",
        "previous",
        "previous_person",
        "headline",
        "prev_rule",
        "prev2_rule",
        "prev_mention",
        "next_own",
        "mention",
        *(f"kind:{k}" for k in KINDS),
        "curated",
        "early",
        "first_mention",
        "clause_start",
        "after_prep",
        "after_theo",
        "cue_adjacent",
        "cue_close",
        "cue_before",
        "after_quote",
        "titled",
        "name:person",
        "name:role",
        "name:country",
        "name:joined",
        "name:words",
        "freq",
        "rule_freq",
        "top_actor",
        "s:cue",
        "s:quote",
        "s:lead",
        "s:ncand",
    ]
    return names


def _name_features(speaker: str) -> dict[str, float]:
    from .attributor import _is_person_name, _role

    words = speaker.split()
    return {
        "name:person": float(_is_person_name(speaker)),
        "name:role": float(_role(speaker.lower())),
        "name:country": float(speaker in lx.COUNTRIES),
        "name:joined": float(" và " in speaker),
        "name:words": min(len(words), 6) / 6,
    }


def mention_features(scan: SentenceScan, m: Mention, index: int) -> dict[str, float]:
    """Where mention ``m`` (the ``index``-th of its sentence) stands relative to the cues and quotes."""
    from .attributor import _clause_start, _skip_back

    toks, n = scan.tokens, max(1, len(scan.tokens))
    prev = toks[m.first - 1].lower if m.first > 0 else ""
    f = {
        "mention": 1.0,
        f"kind:{m.kind}": 1.0,
        "curated": float(m.actor is not None and m.kind == "person"),
        "early": 1.0 - m.first / n,
        "first_mention": float(index == 0),
        "clause_start": float(_clause_start(scan, m, 0)),
        "after_prep": float(prev in PREPOSITIONS),
        "after_theo": float(prev == "theo" or (m.first > 1 and toks[m.first - 2].lower == "theo")),
        "titled": float(bool(m.title)),
    }
    after = [c for c, _ in scan.cues if c >= m.stop]
    before = [s for _, s in scan.cues if s <= m.first]
    if after:
        c = min(after)
        f["cue_adjacent"] = float(_skip_back(scan, c, m.stop) == m.stop)
        f["cue_close"] = _close(c - m.stop)
    if before:
        f["cue_before"] = _close(m.first - max(before))
    last = scan.quote.last_close
    if last is not None and 0 <= m.first - last <= AFTER_QUOTE:
        f["after_quote"] = 1.0
    return f


class CandidateCollector:
    """Collects the candidates of each sentence while :class:`SpeakerAttributor` reads an article."""

    def __init__(self, spelling: Callable[[str | None], str | None]):
        self.spelling = spelling
        self.sentences: list[dict[str, Candidate]] = []
        self.rule_speakers: list[str | None] = []
        self._mentioned: list[set[str]] = []

    def _put(
        self, cands: dict[str, Candidate], name: str | None, features: dict[str, float], span: list[int] | None = None
    ) -> None:
        from .attributor import normalize_speaker

        name = self.spelling(name) if name else None
        key = normalize_speaker(name)
        if not key or name is None:
            return
        if key not in cands:
            cands[key] = Candidate(name, None, _name_features(name))
        cands[key].add(features, span)

    def sentence(
        self,
        k: int,
        scan: SentenceScan,
        own: Own | None,
        next_own: str | None,
        quoted: str | None,
        voice: str | None,
        previous: str | None,
        previous_person: str | None,
        headline: str | None,
        resolve: Callable[[Mention], str | None],
        rule: tuple[str | None, list[int] | None, str | None],
        run: int,
    ) -> None:
        """Record sentence ``k``'s candidates; the context values are those before the sentence is read."""
        from .attributor import CONTEXT_KINDS

        cands: dict[str, Candidate] = {}
        mentioned: set[str] = set()
        for i, m in enumerate(scan.mentions):
            name = resolve(m)
            span = None if m.kind in CONTEXT_KINDS else [m.start, m.end]
            self._put(cands, name, mention_features(scan, m, i), span)
            if name:
                mentioned.add(name)
        if own is not None:
            feats = {"own": 1.0, f"own:{own.rule}": 1.0, "own_strong": float(own.strong)}
            if own.mention not in scan.mentions:  # a list of subjects joined into one ("Mỹ, Ukraine cho biết")
                feats.update(mention_features(scan, own.mention, 0))
            own_span = None if own.mention.kind in CONTEXT_KINDS else [own.mention.start, own.mention.end]
            self._put(cands, resolve(own.mention), feats, own_span)
        self._put(cands, quoted, {"quoted": 1.0})
        self._put(cands, voice, {"voice": 1.0})
        self._put(cands, previous, {"previous": 1.0})
        self._put(cands, previous_person, {"previous_person": 1.0})
        if k < LEAD:
            self._put(cands, headline, {"headline": 1.0})
        for back, feat in ((1, "prev_rule"), (2, "prev2_rule")):
            if k - back >= 0:
                self._put(cands, self.rule_speakers[k - back], {feat: 1.0})
        if k > 0:
            for name in sorted(self._mentioned[k - 1]):  # sorted: candidates in the same order in every process
                self._put(cands, name, {"prev_mention": 1.0})
        self._put(cands, next_own, {"next_own": 1.0})
        speaker, rule_span, how = rule
        if speaker:
            family = "carry" if how and how.startswith("carry") else how
            feats = {"rule": 1.0, f"rule:{family}": 1.0}
            if family == "carry":
                feats["carry_run"] = run / 3
            self._put(cands, speaker, feats, rule_span)
        shared = {
            "s:cue": float(bool(scan.cues)),
            "s:quote": float(scan.quote.has_marks or all(scan.quote.inside)),
            "s:lead": float(k < LEAD),
            "s:ncand": min(len(cands), MAX_COUNT) / MAX_COUNT,
        }
        for c in cands.values():
            c.features.update(shared)
        self.sentences.append(cands)
        self.rule_speakers.append(self.spelling(speaker) if speaker else None)
        self._mentioned.append(mentioned)

    def finish(self) -> list[list[Candidate]]:
        """Add the article-level features; candidates per sentence, in reading order."""
        from .attributor import normalize_speaker

        named = collections.Counter(normalize_speaker(self.spelling(n)) for s in self._mentioned for n in s)
        given = collections.Counter(normalize_speaker(s) for s in self.rule_speakers if s)
        top = max(named.values(), default=0)
        out = []
        for cands in self.sentences:
            for key, c in cands.items():
                c.features["freq"] = min(named[key], MAX_COUNT) / MAX_COUNT
                c.features["rule_freq"] = min(given[key], MAX_COUNT) / MAX_COUNT
                c.features["top_actor"] = float(named[key] == top > 0)  # every actor named most often
            out.append(list(cands.values()))
        return out
