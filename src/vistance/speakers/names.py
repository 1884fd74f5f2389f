"""One canonical name per actor: transliteration variants of a name share a key.

The press writes one Ukrainian or Russian name several ways ("Zelensky" / "Zelenskiy" / "Zelenskyy",
"Andrii" / "Andriy", "Dmitry" / "Dmitri", "Syrskyi" / "Syrsky"). :func:`variant_key` maps such spellings to
one key: diacritics dropped, case folded, and the endings -iy, -ii, -yi, -yy, -ij and a final -i read as -y.
Only names of two or more capitalised words (persons) get a key, since a short Vietnamese word ending in
-i ("Hải") is not a transliteration.
"""

from __future__ import annotations

import re
import unicodedata

_ENDINGS = re.compile(r"(?:iy|ii|yi|yy|ij|i)$")


def _ascii_fold(word: str) -> str:
    word = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in word if not unicodedata.combining(ch)).casefold()


def variant_key(name: str | None) -> str | None:
    """The transliteration key of a person's name, or None for anything else (one word, lower-case words)."""
    if not name:
        return None
    words = unicodedata.normalize("NFC", name).split()
    if len(words) < 2 or not all(w[:1].isupper() for w in words):
        return None
    out = []
    for w in words:
        w = _ascii_fold(w).strip(".,")
        out.append(_ENDINGS.sub("y", w) if len(w) > 3 else w)
    return " ".join(out)
