"""Every command the README and docs/ show still parses: its parser answers ``--help`` and its subcommand exists.

Commands are taken from fenced code blocks (lines joined over ``\\`` continuations, split at ``&&``, ``;``
and ``|``) and from inline code in the text: those that run ``train.py``, ``evaluate.py``,
``python -m vistance.X`` or ``vistance``. Each runs in this process through :func:`vistance.cli.main` (or
the module's ``main``) with its first positional word (the subcommand) and ``--help``; the command and the
subcommand must exist, and every ``--option`` the page shows must appear in the help.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import shlex
from pathlib import Path

import pytest

from vistance import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ALIASES = {c.alias.removeprefix("python -m "): name for name, c in cli.COMMANDS.items()}
SCRIPTS = {"train.py": "train", "evaluate.py": "evaluate"}


def code_lines(text: str) -> list[str]:
    """Shell lines inside fenced code blocks, continuations joined, comments dropped."""
    out, fenced, pending = [], False, ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced, pending = not fenced, ""
            continue
        if not fenced:
            continue
        line = pending + line
        if line.rstrip().endswith("\\"):
            pending = line.rstrip()[:-1] + " "
            continue
        pending = ""
        out.append(line)
    return out


def vistance_argv(line: str) -> list[str] | None:
    """``[command, *args]`` for ``vistance.cli.main``, or None when the line runs something else."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:  # a Python or JSON line in a mixed block
        return None
    for i, word in enumerate(words):
        if word == "vistance" and i == 0:
            return words[1:]
        if Path(word).name in SCRIPTS and (
            i == 0 or re.fullmatch(r"(\S*/)?python3?|launch|-\S+|\S+=\S+", words[i - 1])
        ):
            return [SCRIPTS[Path(word).name], *words[i + 1 :]]
        if word == "-m" and i > 0 and re.fullmatch(r"(\S*/)?python3?", words[i - 1]) and i + 1 < len(words):
            module = words[i + 1]
            if module.startswith("vistance"):
                return [ALIASES.get(module, module), *words[i + 2 :]]
            return None
    return None


def inline_code(text: str) -> list[str]:
    """Inline ``code`` spans outside fenced blocks (they may wrap over one line break)."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]


def documented_commands() -> list[tuple[str, list[str]]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for line in code_lines(text) + inline_code(text):
            for part in re.split(r"&&|;|\|(?!\|)", line):
                argv = vistance_argv(part.strip())
                if argv and not re.fullmatch(r"[A-Z_]+|vistance\.X", argv[0]):  # placeholders: vistance COMMAND
                    found.append((f"{page.relative_to(ROOT)}: {part.strip()[:80]}", argv))
    return found


COMMANDS = documented_commands()


def test_the_pages_show_commands():
    assert len(COMMANDS) > 40
    shown = {argv[0] for _, argv in COMMANDS}
    assert {
        "train",
        "evaluate",
        "predict",
        "serve",
        "batch",
        "annotate",
        "actors",
        "speakers",
        "data",
        "bench",
    } <= shown


def run_help(argv: list[str]) -> tuple[int, str]:
    """The command's leading positional words (its subcommand) and ``--help``, run in this process."""
    if argv[0].startswith("-"):  # vistance --help
        argv = ["--help"]
    name, args = argv[0], argv[1:]
    head = []
    for a in args:
        if a.startswith("-"):
            break
        head.append(a)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            if name == "--help":
                status = cli.main(["--help"])
            elif name in cli.COMMANDS:
                status = cli.main([name, *head[:1], "--help"])
            else:  # a module that is not a vistance command, e.g. vistance.models.e5
                status = importlib.import_module(name).main([*head[:1], "--help"])
        except SystemExit as e:
            status = e.code
    return int(status or 0), out.getvalue()


@pytest.mark.parametrize("where,argv", COMMANDS, ids=[w for w, _ in COMMANDS])
def test_documented_command_parses(where, argv):
    status, out = run_help(argv)
    assert status == 0, f"{where}: `--help` exited {status}\n{out[-2000:]}"
    assert "usage:" in out, out[-500:]
    missing = [o for o in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", " ".join(argv[1:])) if o not in out]
    assert not missing, f"{where}: {missing} not in `--help`:\n{out[-2000:]}"


def test_links_and_images_resolve():
    """Relative links and images of the README and docs/ point at files that exist (and headings that exist)."""
    broken = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and file.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", file.read_text(encoding="utf-8"), re.M)
                slugs = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
                if anchor not in slugs:
                    broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []
