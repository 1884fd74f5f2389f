"""Reports are Jinja2 templates (``vistance/resources/templates``) filled with what Python computed.

HTML pages are rendered with autoescape on: every value a template prints is escaped unless it is markup
the template itself wrote, so a sentence, a speaker name or a file path can never inject markup into a
report. The model card is Markdown and is rendered without HTML escaping (:func:`render_text`).

The pieces Python hands to the templates are data, not markup: a :class:`Table` of cells (plain values,
formatted by the ``fmt`` filter and right-aligned when numeric, or a :class:`Cell` saying how to show one),
and figures as ``data:`` URIs (:func:`png_uri`), so a page is one self-contained file.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import jinja2
from markupsafe import Markup, escape

from .format import fmt, fmt_ci, is_num

TEMPLATES = "resources/templates"
"""Where the templates are, inside the ``vistance`` package (shipped as package data)."""


@dataclass(frozen=True)
class Cell:
    """A table cell shown with more than its text: a small second line, a tag with a class, or both."""

    text: str
    sub: str = ""
    """A second, smaller line under the text (an interval, a timestamp)."""
    num: bool = False
    """Aligned like a number."""
    tag: str = ""
    """Wrap the text in this element (``span``, ``code``), with class ``cls``."""
    cls: str = ""
    breaks: bool = False
    """Let a long dotted key (``training.learning_rate``) break after its dots instead of widening the table."""


@dataclass
class Table:
    """Headers and rows of cells; a column whose every cell is a number gets a right-aligned header."""

    headers: Sequence[str]
    rows: list[list] = field(default_factory=list)
    cls: str = ""
    num_headers: bool = True
    """Right-align the headers of numeric columns (off for a table whose columns are runs, not measures)."""

    def __post_init__(self) -> None:
        self.rows = [list(r) for r in self.rows]

    @property
    def header_cells(self) -> list[tuple[str, bool]]:
        """(header, numeric column?) pairs."""
        return [
            (h, self.num_headers and bool(self.rows) and all(cell_is_num(r[j]) or r[j] is None for r in self.rows))
            for j, h in enumerate(self.headers)
        ]


def cell_is_num(v) -> bool:
    return v.num if isinstance(v, Cell) else is_num(v)


def with_sub(value: str, sub: str) -> Cell:
    """A number with a small second line (its interval) in one cell."""
    return Cell(value, sub=sub, num=True)


def png_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI: the page carries its figures."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _breaks(text) -> Markup:
    """Escaped text with a line-break opportunity after each dot."""
    return escape(text).replace(".", Markup(".<wbr>"))


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


@functools.cache
def html_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vistance", TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(fmt=fmt, fmt_ci=fmt_ci, breaks=_breaks, pct=_pct)
    env.tests.update(cell=lambda v: isinstance(v, Cell), num=cell_is_num)
    return env


@functools.cache
def text_environment() -> jinja2.Environment:
    """For Markdown: no HTML escaping, and the template's own line breaks kept exactly."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vistance", TEMPLATES),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        fmt=fmt, f4=lambda x: "–" if x is None else f"{x:.4f}", thousands=lambda n: "–" if n is None else f"{n:,}"
    )
    return env


def render_html(template: str, **context) -> str:
    """A self-contained HTML page from ``template`` (which extends ``base.html``)."""
    return html_environment().get_template(template).render(**context)


def render_text(template: str, **context) -> str:
    return text_environment().get_template(template).render(**context)
