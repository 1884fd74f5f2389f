"""The date of an input row, wherever the archive keeps it.

News archives name the column differently (``date``, ``published_at``, RSS ``pubDate``, ``time``) and write
ISO dates, ISO datetimes with a time zone, RFC 2822 (RSS) or ``dd/mm/yyyy``; every reader of rows (predict,
batch, the actor report) takes the first of :data:`DATE_FIELDS` that holds a date, or the one ``--date-field``
names, and keeps the calendar day as written (``2026-01-20T23:30:00+07:00`` is 2026-01-20, the day the outlet
printed).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Iterable

DATE_FIELDS = ("date", "published_at", "pubDate", "time")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
_DMY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\b")


def parse_date(value) -> str | None:
    """``YYYY-MM-DD`` of a date, datetime, ISO string, RFC 2822 string or ``dd/mm/yyyy``; None otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    s = str(value).strip()
    m = _ISO.match(s)
    found = None
    if m:
        found = (int(m[1]), int(m[2]), int(m[3]))
    elif m := _DMY.match(s):
        found = (int(m[3]), int(m[2]), int(m[1]))
    else:
        try:
            d = email.utils.parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            return None
        found = (d.year, d.month, d.day)
    try:
        return dt.date(*found).isoformat()
    except ValueError:
        return None


def row_date(row: dict, field: str | None = None) -> str | None:
    """The row's date from ``field``, else from the first of DATE_FIELDS that holds one."""
    if field is not None:
        return parse_date(row.get(field))
    for name in DATE_FIELDS:
        found = parse_date(row.get(name))
        if found:
            return found
    return None


def date_columns(field: str | None) -> tuple[str, ...]:
    """The columns a reader should load to find dates (for Parquet, which reads only named columns)."""
    return (field,) if field else DATE_FIELDS


def missing_date_field(columns: Iterable[str], field: str | None) -> bool:
    """``--date-field NAME`` names a column the input does not have."""
    return field is not None and field not in set(columns)
