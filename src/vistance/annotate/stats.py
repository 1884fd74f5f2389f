"""Label distribution of labelled file sets side by side (before / after a labelling round)."""

from __future__ import annotations

from collections.abc import Sequence

from ..data import corpus_stats, load_corpus
from ..tasks import STANCE_LABELS

ROWS = ("not_claim", *STANCE_LABELS)


def distribution(files: Sequence[str]) -> dict:
    """:func:`vistance.data.corpus_stats` of the records in ``files`` (validated)."""
    return corpus_stats(load_corpus(list(files)))


def markdown_table(sets: dict[str, dict]) -> str:
    """A Markdown table with one column per named set: counts and shares of the joint labels."""
    names = list(sets)
    lines = ["| label | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]

    def cell(stats: dict, n: int) -> str:
        total = stats["sentences"]
        return f"{n} ({n / total:.0%})" if total else "0"

    for label in ROWS:
        lines.append(f"| {label} | " + " | ".join(cell(sets[s], sets[s]["joint"].get(label, 0)) for s in names) + " |")
    lines.append("| **claims** | " + " | ".join(cell(sets[s], sets[s]["claim"].get("claim", 0)) for s in names) + " |")
    for part in ("title", "lede", "body", "unknown"):  # where in the article the sentences stand
        if any(sets[s].get("parts", {}).get(part) for s in names):
            lines.append(
                f"| part: {part} | " + " | ".join(cell(sets[s], sets[s]["parts"].get(part, 0)) for s in names) + " |"
            )
    for key in ("sentences", "articles", "speakers"):
        lines.append(f"| {key} | " + " | ".join(str(sets[s][key]) for s in names) + " |")
    return "\n".join(lines) + "\n"
