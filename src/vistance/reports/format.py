"""How reports write numbers (``0.712``, ``[0.65, 0.77]``, ``3.2 min``, ``2.4 MB``) and Markdown tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "—"
    if isinstance(x, (bool, np.bool_)):
        return str(x)
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{x:.{digits}f}"
    return str(x)


def fmt_ci(ci: dict | None) -> str:
    if not ci or ci.get("low") is None:
        return "—"
    return f"[{ci['low']:.3f}, {ci['high']:.3f}]"


def fmt_seconds(s) -> str:
    if s is None:
        return "—"
    s = float(s)
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def fmt_bytes(b) -> str:
    if b is None:
        return "—"
    b = float(b)
    for unit in ("B", "KB", "MB", "GB"):
        if b < 1024 or unit == "GB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    return "—"  # pragma: no cover


class Num(str):
    """A formatted number as text (``0.71 ± 0.05``): aligned like numbers in an HTML table."""


def is_num(v) -> bool:
    """Whether a table cell holds a number (right-aligned, tabular digits)."""
    return isinstance(v, (int, float, np.integer, np.floating, Num)) and not isinstance(v, bool)


def md_table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    def cell(v) -> str:
        return (v if isinstance(v, str) else fmt(v)).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)
